"""The training data of a run: which data set, its images, the --holdout split, and the batches.

``data_source(config)`` gives ``sample_real(rng, n)``: a real batch (n, *data_shape) on the active
backend, drawn with the trainer's own generator, so a resumed run draws exactly the batches an
unbroken run would. ``--holdout F`` keeps the LAST round(F N) images of the canonical order out of
training (``split_holdout``); ``minigan evaluate`` scores against them.
"""
from __future__ import annotations

from . import backend, data
from .errors import OptionError


def is_points(config: dict) -> bool:
    """True for a 2-D mixture run, False for an image run."""
    return data.get(config["dataset"]).kind == "points"


# -- data ----------------------------------------------------------------------
def real_images(config: dict, log=print):
    """(images, labels) of the run's image data set, ALL of it in its canonical order, as NumPy arrays:
    float32 (N, C, H, W) in [-1, 1], int64 (N,). For a stacked set: the single-channel images it stacks."""
    dataset = data.get(config["dataset"])
    if dataset.kind != "images":
        raise ValueError(f"data set {dataset.name!r} is not a set of images")
    return dataset.load_images(data_dir=config.get("data_dir"), download=bool(config.get("download")), log=log)


MIN_EVALUATION_IMAGES = 4  # k-NN precision and recall (k = 3) need k + 1 images in each set


def holdout_count(config: dict, n: int) -> int:
    """How many of the n images --holdout keeps out of training: the last round(holdout * n)."""
    return round(config.get("holdout", 0.0) * n)


def split_holdout(config: dict, images, *aligned):
    """((train images, *train aligned), (held-out images, *held-out aligned)): the last round(holdout * N)
    images in the canonical order are held out, and the same rows of each array in ``aligned`` (labels)."""
    held = holdout_count(config, len(images))
    cut = len(images) - held
    if cut < 1:
        raise OptionError(f"--holdout {config['holdout']}: expected a fraction that leaves training "
                                  f"images (of {len(images)})")
    if config.get("holdout") and held < MIN_EVALUATION_IMAGES:
        raise OptionError(f"--holdout {config['holdout']}: keeps {held} of {len(images)} images out; "
                                  f"expected at least {MIN_EVALUATION_IMAGES} (the k-NN figures need k + 1)")
    arrays = (images, *aligned)
    return tuple(a[:cut] for a in arrays), tuple(a[cut:] for a in arrays)


def data_source(config: dict, log=print):
    """sample_real(rng, n): a real batch (n, *data_shape(config)) on the active backend."""
    dataset = data.get(config["dataset"])
    if dataset.kind == "points":
        return lambda rng, n: backend.asarray(data.sample_toy(dataset.name, n, rng), dtype=backend.default_dtype())
    (train, _), _ = split_holdout(config, *real_images(config, log))
    if len(train) < config["batch_size"]:
        raise ValueError(f"--batch-size {config['batch_size']}: expected at most the {len(train)} training images")
    images = backend.asarray(train, dtype=backend.default_dtype())
    if dataset.stack_of:  # each sample: C images drawn independently, stacked as its C channels
        return lambda rng, n: images[backend.asarray(rng.integers(0, len(images), n * dataset.shape[0]))
                                     ].reshape((n,) + tuple(dataset.shape))
    # Batches drawn without replacement within a batch, from the GAN's own generator: a
    # resumed run draws exactly the batches an unbroken run would.
    return lambda rng, n: images[backend.asarray(rng.choice(len(images), n, replace=False))]


def data_shape(config: dict):
    """The shape of one sample, without loading a data set."""
    return data.get(config["dataset"]).shape
