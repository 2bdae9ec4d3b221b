"""The GAN family: a generator G and a discriminator D from the architecture registry (``minigan.models``),
trained by ``minigan.train.GAN``'s step. Pictures: the fixed-noise grid (images) or a scatter over the true
modes, and for 2-D data D's view of the plane (game.png); at the end the mixture protocol's figures."""
from __future__ import annotations

from .. import backend, data
from ..datasource import data_shape, data_source, is_points
from ..models import build as build_networks
from ..errors import OptionError
from ..layers import Concat, LabelPlanes
from ..train import GAN
from . import Family, register


def fixed_noise_seed(config: dict) -> int:
    """The seed of the run's fixed noise: the same grid of z at every save, distinct from training noise."""
    return config["seed"] + 10_000


def num_classes(config: dict) -> int:
    """K for a conditional run (the data set's classes), 0 otherwise."""
    return data.get(config["dataset"]).num_classes if config.get("conditional") else 0


def build(config: dict, arguments: dict, arch_options: dict) -> GAN:
    """G, D and their optimisers as the config describes, initialised from config['seed']: ``arguments``
    are GAN's keywords, ``arch_options`` the architecture's (both from ``minigan.options``).

    Conditional (K classes): the architecture's G for noise of z_dim + K (z and the one-hot label), its
    output beside the label's K planes (``layers.LabelPlanes``); the architecture's D for images of C + K
    channels, the image and its label planes."""
    shape, k = data_shape(config), num_classes(config)
    build_pair = lambda shape, z_dim: build_networks(config["arch"], shape, z_dim, config["pack"], **arch_options)
    with backend.seeded(config["seed"]):
        if not k:
            G, D = build_pair(shape, config["z_dim"])
        else:
            C, H, W = shape
            G, _ = build_pair(shape, config["z_dim"] + k)
            _, D = build_pair((C + k, H, W), config["z_dim"])
            G = Concat(G, LabelPlanes(k, H, W))
    return GAN(G, D, total_steps=config["steps"], num_classes=k, **arguments)


def check(gan: GAN, config: dict) -> None:
    """Refuse a batch that a batch-dependent layer (BatchNorm) cannot normalise: one sample per batch
    (D sees batch_size / pack)."""
    for model, batch, flag in ((gan.G, config["batch_size"], "--batch-size"),
                               (gan.D, config["batch_size"] // config["pack"], "--batch-size / --pack")):
        if batch < 2 and any(m.batch_dependent for m in model.modules()):
            raise OptionError(f"{flag} {batch}: expected at least 2 samples per batch: arch "
                                      f"{config['arch']!r} has BatchNorm, which normalises over the batch")


PER_CLASS = 8  # a conditional run's grid: one row of this many samples per class


def fixed_samples(gan: GAN, config: dict):
    """The grid's samples from the fixed noise, and its row length: 64 samples, or for a conditional run
    PER_CLASS of each class, class k in row k."""
    if not gan.num_classes:
        return gan.sample(64, seed=fixed_noise_seed(config)), None
    import numpy as np

    labels = np.repeat(np.arange(gan.num_classes), PER_CLASS)
    return gan.sample(len(labels), seed=fixed_noise_seed(config), labels=labels), PER_CLASS


def frame(gan: GAN, config: dict):
    """The fixed-noise grid (None for 2-D points: their picture is drawn at the end)."""
    if is_points(config):
        return None
    from ..viz import image_grid

    return image_grid(*fixed_samples(gan, config))


def finish(gan: GAN, config: dict, run_dir) -> dict:
    """samples.png (and game.png for single 2-D points); the mixture figures for 2-D data."""
    from ..viz import save_image_grid, save_scatter

    title = f"{config['dataset']} / {config['arch']}, step {gan.step}"
    figures = {"step": gan.step}
    if not is_points(config):
        samples, row = fixed_samples(gan, config)
        save_image_grid(samples, run_dir / "samples.png", title + (", one row per class" if row else ""), row)
        return figures
    from ..metrics import evaluate_toy

    save_scatter(gan.sample(2500, seed=fixed_noise_seed(config)), data.toy_means(config["dataset"]),
                 run_dir / "samples.png", title)
    if config["pack"] == 1:  # D judges single points: its view of the plane can be drawn
        from ..game import save_game

        real = data.sample_toy(config["dataset"], 1000, backend.rng(fixed_noise_seed(config) + 2))
        save_game(gan, real, run_dir / "game.png", f"{config['dataset']}: what D sees, step {gan.step}")
    figures.update(evaluate_toy(gan.sample(2500, seed=fixed_noise_seed(config) + 1), config["dataset"]))
    return figures


register(Family(
    "gan", build=build, batches=data_source, frame=frame, finish=finish, check=check,
    fields=("loss_d", "loss_g", "d_real", "d_fake_before", "d_fake_after", "grad_norm_d", "grad_norm_g"),
    shown={"loss_d": "loss_d", "loss_g": "loss_g", "D_x": "d_real", "D_G_z": "d_fake_before"},
    description="a generator and a discriminator (the default)"))
