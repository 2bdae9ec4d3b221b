"""`minigan evaluate RUN_DIR`: score a run's samples, with the real-data reference beside them.

2-D runs: the PacGAN protocol (modes captured, high-quality fraction, reverse KL) on 2,500 samples.
Image runs: a classifier built from minigan's own layers (trained once on the run's real data,
then cached) gives coverage, KL to uniform, classifier score, Fréchet distance and k-NN
precision/recall. The real images are split in two halves by a seeded shuffle: a *reference*
half that every score is measured against, and a *held-out* half scored exactly like the
generated samples, so the "real" column shows what a perfect generator would get.
"""
from __future__ import annotations

import json
from pathlib import Path

from .data import TOY_SETS
from .io import write_json
from .run import load_run, real_images


def evaluate_run(run_dir, n: int | None = None, seed: int = 0, log=print) -> dict:
    """Evaluate the run in ``run_dir``; merge the figures into its metrics.json and return them."""
    import numpy as np  # host-side bookkeeping of the real images

    from .metrics import evaluate_toy, evaluate_images, format_table, load_or_train_classifier

    run_dir = Path(run_dir)
    config, gan = load_run(run_dir)
    if config["dataset"] in TOY_SETS:
        figures = evaluate_toy(gan.sample(n or 2500, seed=seed), config["dataset"])
        log("  ".join(f"{k} {v:.4g}" for k, v in figures.items() if isinstance(v, (int, float))))
        key = "mixture"
    else:
        images, labels = real_images(config, log)
        classifier, _ = load_or_train_classifier(config["dataset"], images, labels, log=log)
        order = np.random.default_rng(seed).permutation(len(images))
        half = len(images) // 2
        reference, held_out = images[order[:half]], images[order[half:]]
        n = min(n or len(held_out), len(held_out))
        figures = evaluate_images(gan.sample(n, seed=seed), held_out[:n], reference, classifier)
        log(format_table(figures))
        key = "images"
    path = run_dir / "metrics.json"
    metrics = json.loads(path.read_text()) if path.is_file() else {}
    metrics[key] = figures
    metrics["evaluated_step"] = gan.step
    write_json(path, metrics)
    return figures
