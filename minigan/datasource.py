"""The training data of a run: which data set, its images, the --holdout split, and the batches.

``data_source(config)`` gives ``sample_real(rng, n)``: a real batch (n, *data_shape) on the active
backend, drawn with the trainer's own generator, so a resumed run draws exactly the batches an
unbroken run would. ``--holdout F`` keeps the LAST round(F N) images of the canonical order out of
training, or for a set of grouped images (the emoji) whole groups spread over the order
(``split_holdout``); ``minigan evaluate`` scores against them.
"""
from __future__ import annotations

import functools

from . import backend, data
from .data.registry import tail_holdout
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
    return dataset.load_images(data_dir=config.get("data_dir"), download=bool(config.get("download")), log=log,
                               **dataset.loader_options(config))


def unseen_test_images(config: dict, log=print):
    """(images, labels) of the data set's standard test split (Fashion-MNIST's 10,000), or None when the
    set has none or this machine lacks it."""
    dataset = data.get(config["dataset"])
    if dataset.test is None:
        return None
    return dataset.test(data_dir=config.get("data_dir"), download=bool(config.get("download")), log=log)


MIN_EVALUATION_IMAGES = 4  # k-NN precision and recall (k = 3) need k + 1 images in each set


def held_out_mask(config: dict, n: int):
    """The (n,) bool mask of the images --holdout keeps out of training: the last round(holdout * n), or
    for a grouped set (``DataSet.groups``) whole groups spread over the canonical order."""
    fraction = config.get("holdout", 0.0)
    if "dataset" not in config:  # images from elsewhere (a lesson's): the tail rule
        return tail_holdout(fraction, n)
    return data.get(config["dataset"]).held_out(fraction, n, data_dir=config.get("data_dir"),
                                                download=bool(config.get("download")))


def split_holdout(config: dict, images, *aligned):
    """((train images, *train aligned), (held-out images, *held-out aligned)): the images ``held_out_mask``
    keeps out, and the same rows of each array in ``aligned`` (labels; None stays None), in canonical order."""
    mask = held_out_mask(config, len(images))
    held = int(mask.sum())
    cut = len(images) - held
    if cut < 1:
        raise OptionError(f"--holdout {config['holdout']}: expected a fraction that leaves training "
                                  f"images (of {len(images)})")
    if config.get("holdout") and held < MIN_EVALUATION_IMAGES:
        raise OptionError(f"--holdout {config['holdout']}: keeps {held} of {len(images)} images out; "
                                  f"expected at least {MIN_EVALUATION_IMAGES} (the k-NN figures need k + 1)")
    arrays = (images, *aligned)
    if not mask[cut:].all():  # spread groups: gather the rows (a tail stays a slice, a view)
        return (tuple(None if a is None else a[~mask] for a in arrays),
                tuple(None if a is None else a[mask] for a in arrays))
    return (tuple(None if a is None else a[:cut] for a in arrays),
            tuple(None if a is None else a[cut:] for a in arrays))


def data_source(config: dict, log=print):
    """sample_real(rng, n): a real batch (n, *data_shape(config)) on the active backend."""
    dataset = data.get(config["dataset"])
    if dataset.kind == "points":
        return lambda rng, n: backend.asarray(data.sample_toy(dataset.name, n, rng), dtype=backend.default_dtype())
    (train, train_labels), _ = split_holdout(config, *real_images(config, log))
    if len(train) < config["batch_size"]:
        raise ValueError(f"--batch-size {config['batch_size']}: expected at most the {len(train)} training images")
    images = backend.asarray(train, dtype=backend.default_dtype())
    if config.get("conditional"):
        return _labelled_batches(images, train_labels, dataset.num_classes)
    if dataset.stack_of:  # each sample: C images drawn independently, stacked as its C channels
        shape = dataset.sample_shape(config)
        return lambda rng, n: images[backend.asarray(rng.integers(0, len(images), n * shape[0]))
                                     ].reshape((n,) + shape)
    # Batches drawn without replacement within a batch, from the GAN's own generator: a
    # resumed run draws exactly the batches an unbroken run would.
    return lambda rng, n: images[backend.asarray(rng.choice(len(images), n, replace=False))]


def _labelled_batches(images, labels, num_classes: int):
    """sample_real(rng, n) of a conditional run: (n, C + K, H, W), each image beside its label's K planes
    (channel C + k all ones for label k), the form a conditional G's output takes (``layers.LabelPlanes``)."""
    import numpy as np  # the labels live on the host

    xp = backend.get_array_module(images)
    one_hot = backend.asarray(np.eye(num_classes)[labels], dtype=images.dtype)  # (N, K)

    def sample_real(rng, n):
        idx = backend.asarray(rng.choice(len(images), n, replace=False))
        planes = xp.broadcast_to(one_hot[idx][:, :, None, None], (n, num_classes) + images.shape[2:])
        return xp.concatenate([images[idx], planes], axis=1)
    return sample_real


def data_shape(config: dict):
    """The shape of one sample, without loading a data set."""
    return data.get(config["dataset"]).sample_shape(config)


# -- a second data set: cyclegan's domain B, pix2pix --task translate's targets ------------------------------
def target_config(config: dict) -> dict:
    """The config of the run's --to set: its name, its files from --to-data-dir (default --data-dir), and the
    run's loader options (--image-size, ...) where that set takes them."""
    return {**config, "dataset": config["to"],
            "data_dir": config.get("to_data_dir") or config.get("data_dir")}


def paired(config: dict) -> bool:
    """True when image i of --dataset and image i of --to are the same subject (``DataSet.pairs``)."""
    tag = data.get(config["dataset"]).pairs
    return bool(config.get("to")) and tag is not None and tag == data.get(config["to"]).pairs


def training_images(config: dict, log=print):
    """The run's training images (float32 NumPy, canonical order, without the held-out ones) and their labels."""
    (train, labels), _ = split_holdout(config, *real_images(config, log))
    return train, labels


@functools.lru_cache(maxsize=8)
def _first_training_images(dataset: str, data_dir, holdout: float, loader_options: tuple, count: int):
    config = {"dataset": dataset, "data_dir": data_dir, "holdout": holdout, **dict(loader_options)}
    return training_images(config, log=lambda *a: None)[0][:count]


def first_training_images(config: dict, count: int):
    """The first ``count`` training images of the config's set (NumPy), loaded once per process: the fixed
    images whose outputs a translating run's frames show."""
    options = tuple(data.get(config["dataset"]).loader_options(config).items())  # e.g. the emoji's image size
    return _first_training_images(config["dataset"], config.get("data_dir"), config.get("holdout", 0.0), options,
                                  count)
