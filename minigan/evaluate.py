"""`minigan evaluate RUN_DIR`: score a run's samples, with the real-data reference beside them.

2-D runs: the mixture protocol (modes captured, high-quality fraction, reverse KL) on 2,500 samples.
Image runs: a classifier built from minigan's own layers (trained once on the data set, then
cached) gives coverage, KL to uniform, classifier score, Fréchet distance and k-NN
precision/recall, for the generated samples and, scored exactly alike, for real images G never
saw, so the "real" column shows what a perfect generator would get:
  - a run trained with ``--holdout F`` compares against its held-out images (the last round(F N) of
    the canonical order) with its training images as the reference, and adds the memorisation
    check: the mean distance from each generated sample, and from each held-out image, to its
    nearest training image (a G that copies its training set scores far below the held-out images);
  - otherwise, for a set with a standard test split that this machine has (Fashion-MNIST's and MNIST's
    10,000 beside their 60,000), the test images are the held-out ones and the training images the
    reference, with the memorisation check as above;
  - otherwise the images are split in two halves by a seeded shuffle: a reference half and a
    held-out half (G trained on both, so this column is no memorisation check).
A set without labels (``--dataset folder``) has no classifier: its features are the images' pixels in
8x8 area means (``metrics.images.PixelFeatures``), and only the figures that need no labels are given
(Fréchet distance, precision, recall, and the memorisation check); the table says so.
Stacked runs (stacked-mnist): the mode count over 26,000 samples, modes covered and the KL of
the mode histogram to uniform, beside the same for real stacked samples (``evaluate_stacked``).
A vae run is scored exactly as a gan run (its samples: decoder(z), z ~ N(0, I)). A pix2pix run
restores its held-out images (``evaluate_restoration``): inpaint, the error on the hidden pixels and
the classifier's accuracy on the restored images beside the nearest training image's fill and the
background fill; superres, the error over every pixel beside nearest and bilinear enlarging.

The yardstick is fixed, so that figures from different runs and machines compare: the classifier
is ``metrics.classifier.make_classifier`` (version ARCH_VERSION), trained with seed 0 (or
``classifier_seed``) by ``default_epochs`` on ALL the images the data set loads (held-out ones
too: it is an instrument, the same for every run of the set), and cached under a hash of those
images and that recipe. Its features are the 4c numbers its penultimate Dense outputs, before
their activation (128 for 28x28 images, 64 for 8x8). Two machines with the same data files build the same classifier (up to the last
bits of float sums); MNIST with or without its 60,000 training images are two different sets.
"""
from __future__ import annotations

import json
from pathlib import Path

from .datasource import (MIN_EVALUATION_IMAGES, is_points, real_images, split_holdout,
                         unseen_test_images)
from .options import OptionError
from .run import load_run
from .storage import write_json


def _reference_and_held_out(config: dict, images, labels, seed: int, log=print):
    """(reference images, held-out images, their labels (None without labels), training images or None), as
    the module docstring says."""
    import numpy as np  # host-side bookkeeping of the real images

    if config.get("holdout"):
        (train, _), (held_out, held_labels) = split_holdout(config, images, labels)
        return train, held_out, held_labels, train
    test = unseen_test_images(config, log)
    if test is not None:  # the standard split: G trained on every loaded image, none of the test ones
        return images, test[0], test[1], images
    order = np.random.default_rng(seed).permutation(len(images))
    half = len(images) // 2
    return (images[order[:half]], images[order[half:]], None if labels is None else labels[order[half:]],
            None)


def evaluate_samples(config: dict, sample, n: int | None = None, seed: int = 0, log=print,
                     classifier_seed: int = 0, num_classes: int = 0) -> dict:
    """The image figures of a generator for a run with this config, beside the same figures for
    real held-out images, as the module docstring says.

    sample(n) -> float32 (n, C, H, W) in [-1, 1]: n generated images; n defaults to (and is at most)
    the number of held-out images. Any generator can be scored so: ``benchmarks/`` scores PyTorch's
    samples on this same yardstick. A conditional generator (``num_classes`` K): sample(n, labels) draws
    image i of the class of held-out image i, so that both columns hold the same classes, and
    "label_accuracy" is the fraction the classifier assigns to the class asked for, beside the same
    fraction for the held-out images and their own labels."""
    from .metrics import PixelFeatures, evaluate_images, load_or_train_classifier, nearest_distance

    images, labels = real_images(config, log)
    if labels is None:  # a set without labels (a folder of pictures): no classifier to train
        classifier = PixelFeatures()
    else:
        classifier, _ = load_or_train_classifier(config["dataset"], images, labels, seed=classifier_seed, log=log)
    reference, held_out, held_labels, train = _reference_and_held_out(config, images, labels, seed, log)
    n = min(n or len(held_out), len(held_out))
    if n < MIN_EVALUATION_IMAGES:
        raise OptionError(f"-n {n}: expected at least {MIN_EVALUATION_IMAGES} samples (the k-NN figures "
                          f"need k + 1)")
    asked = held_labels[:n] if num_classes else None
    samples = sample(n) if asked is None else sample(n, asked)
    figures = evaluate_images(samples, held_out[:n], reference, classifier, labels=asked)
    if train is not None:
        figures["generated"]["nearest_train_distance"] = nearest_distance(samples, train)
        figures["real"]["nearest_train_distance"] = nearest_distance(held_out[:n], train)
        figures["holdout"] = config["holdout"]
    return figures


STACKED_SAMPLES = 26000  # Stacked MNIST's mode count is over 26,000 samples, as VEEGAN and PacGAN count


def evaluate_stacked(config: dict, sample, n: int | None = None, seed: int = 0, log=print,
                     classifier_seed: int = 0) -> dict:
    """The mode count of a stacked run (``metrics.stacked``): n generated samples (default 26,000),
    beside n real stacked samples drawn (with ``seed``) from the digits G never saw (the held-out
    digits, or a seeded half without --holdout), scored by the same digit classifier."""
    import numpy as np

    from . import data
    from .metrics import digits_of, load_or_train_classifier, mode_figures, mode_ids

    dataset = data.get(config["dataset"])
    images, labels = real_images(config, log)
    classifier, accuracy = load_or_train_classifier(dataset.stack_of, images, labels, seed=classifier_seed,
                                                    log=log)
    _, held_out, _, _ = _reference_and_held_out(config, images, labels, seed, log)
    n = n or STACKED_SAMPLES
    channels, k = dataset.sample_shape(config)[0], classifier.num_classes
    held_digits = digits_of(held_out, classifier)[:, 0]   # the classifier's digit for each held-out image
    real_draws = np.random.default_rng(seed).integers(0, len(held_out), (n, channels))
    figures = {"generated": mode_figures(mode_ids(digits_of(sample(n), classifier), k), k ** channels),
               "real": mode_figures(mode_ids(held_digits[real_draws], k), k ** channels),
               "num_samples": n, "num_modes": k ** channels, "classifier_accuracy": accuracy}
    if config.get("holdout"):
        figures["holdout"] = config["holdout"]
    return figures


def evaluate_restoration(config: dict, trainer, log=print, classifier_seed: int = 0) -> dict:
    """A pix2pix run's restorations of its held-out images beside the baselines that need no GAN, as the
    module docstring says: {method: {"masked_mse": ..., "accuracy": ...}, ...} and the task's name."""
    import numpy as np

    from .families.pix2pix import restore, task_mask
    from .metrics import load_or_train_classifier
    from .metrics.restoration import background_fill, nearest_neighbour_fill, score
    from .pix2pix import bilinear_upsample, downsample, nearest_upsample

    if not config.get("holdout"):
        raise OptionError(f"a pix2pix run trained without --holdout has no unseen images to restore; expected "
                          f"a run of minigan train --model pix2pix --holdout F")
    images, labels = real_images(config, log)
    classifier, _ = load_or_train_classifier(config["dataset"], images, labels, seed=classifier_seed, log=log)
    (train, _), (held_out, held_labels) = split_holdout(config, images, labels)
    restored = restore(trainer, config, held_out)
    if config["task"] == "inpaint":
        mask = task_mask(config)
        rows = {"pix2pix": restored, "nearest training image": nearest_neighbour_fill(held_out, mask, train),
                "background fill": background_fill(held_out, mask), "clean": held_out}
    else:
        mask = np.zeros((1, 1) + held_out.shape[2:], dtype=np.float32)  # every pixel is scored
        small = downsample(held_out)
        rows = {"pix2pix": restored, "nearest enlarging": nearest_upsample(small),
                "bilinear enlarging": bilinear_upsample(small), "clean": held_out}
    figures = {name: score(x, held_out, held_labels, mask, classifier) for name, x in rows.items()}
    return {"task": config["task"], "num_images": len(held_out), "holdout": config["holdout"], **figures}


def format_restoration(figures: dict) -> str:
    error = "MSE, hidden pixels" if figures["task"] == "inpaint" else "MSE, every pixel"
    lines = [f"{figures['num_images']} held-out images, pix2pix {figures['task']}",
             f"{'method':<24} {error:>18} {'classifier accuracy':>20}"]
    lines += [f"{name:<24} {f['masked_mse']:>18.4f} {f['accuracy']:>20.3f}" for name, f in figures.items()
              if isinstance(f, dict)]
    return "\n".join(lines)


def translation_directions(config: dict, trainer):
    """(name, source config, target config, translate) for each direction a translating run maps: a cyclegan
    run A -> B (G) and B -> A (F), a pix2pix --task translate run A -> B; translate: images -> outputs."""
    from .datasource import target_config

    a, b = config, target_config(config)
    if config["model"] == "cyclegan":
        return [(f"{a['dataset']} -> {b['dataset']}", a, b, trainer.translate),
                (f"{b['dataset']} -> {a['dataset']}", b, a, lambda x: trainer.translate(x, reverse=True))]
    from .families.pix2pix import restore

    return [(f"{a['dataset']} -> {b['dataset']}", a, b, lambda x: restore(trainer, config, x))]


def evaluate_translation(config: dict, trainer, run_dir=None, log=print, classifier_seed: int = 0,
                         seed: int = 0) -> dict:
    """A translating run (cyclegan, pix2pix --task translate) on the held-out images of each source set,
    beside the identity baseline (the input as output) and the target set's own training images:
    L1 and PSNR against the true counterparts (sets whose image i is image i's counterpart), the Fréchet
    distance to the target's held-out images in the target classifier's features (8x8 pixel means for a
    set without labels), and the target classifier's accuracy on the source labels. With ``run_dir``,
    writes translations.png there: held-out inputs | outputs | true counterparts (where there are)."""
    import numpy as np

    from .datasource import paired
    from .metrics import PixelFeatures, load_or_train_classifier
    from .metrics.translation import score_translations

    if not config.get("holdout"):
        raise OptionError(f"a {config['model']} run trained without --holdout has no unseen images to "
                          f"translate; expected a run of minigan train --model {config['model']} --holdout F")
    loaded = {}  # a cyclegan run's two sets are each a source once and a target once: read each once

    def images_of(which):
        key = (which["dataset"], which.get("data_dir"))
        if key not in loaded:
            loaded[key] = real_images(which, log)
        return loaded[key]

    figures, pictures = {"holdout": config["holdout"], "directions": []}, []
    for name, source, target, translate in translation_directions(config, trainer):
        (_, _), (held, held_labels) = split_holdout(source, *images_of(source))
        images, labels = images_of(target)
        (train_t, train_labels), (held_t, _) = split_holdout(target, images, labels)
        if labels is None:
            classifier = PixelFeatures()
        else:
            classifier, _ = load_or_train_classifier(target["dataset"], images, labels, seed=classifier_seed,
                                                     log=log)
        both_labelled = held_labels is not None and labels is not None
        counterparts = held_t if paired(config) else None
        outputs = translate(held)
        target_feats, _ = classifier.features_and_proba(held_t)
        rows = score_translations({config["model"]: outputs, "identity (the input)": held}, counterparts,
                                  held_labels if both_labelled else None, target_feats, classifier)
        pick = np.random.default_rng(seed).choice(len(train_t), min(len(held), len(train_t)), replace=False)
        rows.update(score_translations({"target's training images": train_t[pick]}, None,
                                       None if labels is None else train_labels[pick], target_feats, classifier))
        figures["directions"].append({"name": name, "source": source["dataset"], "target": target["dataset"],
                                      "num_images": len(held), "paired": counterparts is not None, "rows": rows})
        shown = slice(0, 16)
        pictures.append((name, [held[shown], outputs[shown]] + ([] if counterparts is None else
                                                                [counterparts[shown]])))
    if run_dir is not None:
        _save_translations(pictures, Path(run_dir) / "translations.png")
    return figures


def _save_translations(pictures: list, path) -> None:
    """One grid per direction, stacked: each held-out input | its translation [| its true counterpart]."""
    import numpy as np

    from .viz import save_image_grid, side_by_side

    width = max(len(columns) for _, columns in pictures)
    blocks = []
    for _, columns in pictures:
        blank = np.ones_like(columns[0])  # a missing counterpart column stays white, so the grids align
        blocks.append(side_by_side(*columns, *[blank] * (width - len(columns))))
    title = "; ".join(name for name, _ in pictures) + ": input | translation" + (" | true" if width == 3 else "")
    save_image_grid(np.concatenate(blocks), path, title, nrow=2)


def evaluate_run(run_dir, n: int | None = None, seed: int = 0, log=print, classifier_seed: int = 0,
                 backend_name: str | None = None) -> dict:
    """Evaluate the run in ``run_dir``; merge the figures into its metrics.json and return them."""
    from . import data
    from .metrics import evaluate_toy, format_mode_table, format_table

    run_dir = Path(run_dir)
    config, trainer = load_run(run_dir, backend_name)
    if config["model"] == "cyclegan" or config.get("task") == "translate":
        from .metrics.translation import format_translation

        figures = evaluate_translation(config, trainer, run_dir, log, classifier_seed, seed)
        log(format_translation(figures))
        key = "translation"
    elif config["model"] == "pix2pix":  # (the other families draw samples: trainer.sample)
        figures = evaluate_restoration(config, trainer, log, classifier_seed)
        log(format_restoration(figures))
        key = "restoration"
    elif is_points(config):
        figures = evaluate_toy(trainer.sample(n or 2500, seed=seed), config["dataset"])
        log("  ".join(f"{k} {v:.4g}" for k, v in figures.items() if isinstance(v, (int, float))))
        key = "mixture"
    elif data.get(config["dataset"]).stack_of:
        figures = evaluate_stacked(config, lambda count: trainer.sample(count, seed=seed), n, seed, log,
                                   classifier_seed)
        log(format_mode_table(figures))
        key = "modes"
    else:
        classes = getattr(trainer, "num_classes", 0)
        draw = ((lambda count, labels: trainer.sample(count, seed=seed, labels=labels)) if classes
                else (lambda count: trainer.sample(count, seed=seed)))
        figures = evaluate_samples(config, draw, n, seed, log, classifier_seed, classes)
        log(format_table(figures))
        key = "images"
    path = run_dir / "metrics.json"
    metrics = json.loads(path.read_text()) if path.is_file() else {}
    if not isinstance(metrics, dict):
        raise ValueError(f"{path} holds a {type(metrics).__name__}; expected the JSON object minigan train wrote")
    metrics[key] = figures
    metrics["evaluated_step"] = trainer.step
    write_json(path, metrics)
    return figures
