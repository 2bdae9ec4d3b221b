"""Translation scored: how close each output is to its true counterpart, how much it looks like the target set,
and whether the target set's classifier still reads the right class.

For outputs and references (N, C, H, W) in [-1, 1], both mapped to [0, 1] by (x + 1) / 2:
  l1    the mean absolute difference over every pixel of every image
  psnr  the mean over images of 10 log10(1 / mse_i), mse_i one image's mean squared difference (peak 1);
        an image equal to its counterpart (mse_i = 0) counts as mse_i = 1e-10, 100 dB
Host-side NumPy (float64 sums), as the rest of ``minigan.metrics``.
"""
from __future__ import annotations

import numpy as np

PERFECT_MSE = 1e-10  # the floor of one image's mse in psnr: an exact copy scores 100 dB, not infinity


def l1_error(outputs, references) -> float:
    """Mean |(outputs + 1) / 2 - (references + 1) / 2| over all pixels (images in [-1, 1]): in [0, 1]."""
    return float(np.abs(np.asarray(outputs, np.float64) - references).mean() / 2)


def psnr(outputs, references) -> float:
    """The mean over images of 10 log10(1 / mse_i), pixels mapped to [0, 1] (peak 1), in dB."""
    diff = (np.asarray(outputs, np.float64) - references) / 2
    mse = np.maximum((diff * diff).reshape(len(diff), -1).mean(axis=1), PERFECT_MSE)
    return float((10 * np.log10(1 / mse)).mean())


def score_translations(rows: dict, counterparts, labels, target_features, classifier) -> dict:
    """{row name: figures} for each set of images in ``rows`` (name -> (N, C, H, W) in [-1, 1]):
    l1 and psnr against ``counterparts`` (the true counterpart of each source image, or None), the
    Fréchet distance of the row's classifier features to ``target_features`` (the target set's, (M, F)),
    and with ``labels`` (the source images' classes, None without) the target classifier's accuracy."""
    from .images import frechet_distance

    figures = {}
    for name, images in rows.items():
        feats, probs = classifier.features_and_proba(images)
        row = {"frechet_distance": frechet_distance(feats, target_features)}
        if counterparts is not None:
            row.update(l1=l1_error(images, counterparts), psnr=psnr(images, counterparts))
        if labels is not None and probs is not None:
            row["accuracy"] = float((probs.argmax(axis=1) == np.asarray(labels)).mean())
        figures[name] = row
    return figures


COLUMNS = (("l1", "L1", "{:.4f}"), ("psnr", "PSNR dB", "{:.2f}"), ("frechet_distance", "FD to target", "{:.2f}"),
           ("accuracy", "target classifier", "{:.3f}"))


def format_translation(figures: dict) -> str:
    """The result of ``minigan.evaluate.evaluate_translation`` as text: one table per direction."""
    lines = []
    for result in figures["directions"]:
        rows = result["rows"]
        shown = [c for c in COLUMNS if any(c[0] in r for r in rows.values())]
        width = max(len(n) for n in rows) + 2
        lines += [f"{result['name']}: {result['num_images']} held-out images of {result['source']} translated to "
                  f"{result['target']}" + (" (scored against their true counterparts)" if result["paired"] else ""),
                  f"{'':<{width}}" + "".join(f"{label:>20}" for _, label, _ in shown)]
        lines += [f"{name:<{width}}" + "".join(f"{fmt.format(row[key]) if key in row else '-':>20}"
                                               for key, _, fmt in shown) for name, row in rows.items()]
    return "\n".join(lines)
