"""The GAN family: a generator G and a discriminator D from the architecture registry (``minigan.models``),
trained by ``minigan.train.GAN``'s step. Pictures: the fixed-noise grid (images) or a scatter over the true
modes, and for 2-D data D's view of the plane (game.png); at the end the mixture protocol's figures."""
from __future__ import annotations

from .. import backend, data
from ..datasource import data_shape, data_source, is_points
from ..models import build as build_networks
from ..errors import OptionError
from ..train import GAN
from . import Family, register


def fixed_noise_seed(config: dict) -> int:
    """The seed of the run's fixed noise: the same grid of z at every save, distinct from training noise."""
    return config["seed"] + 10_000


def build(config: dict, arguments: dict, arch_options: dict) -> GAN:
    """G, D and their optimisers as the config describes, initialised from config['seed']: ``arguments``
    are GAN's keywords, ``arch_options`` the architecture's (both from ``minigan.options``)."""
    with backend.seeded(config["seed"]):
        G, D = build_networks(config["arch"], data_shape(config), config["z_dim"], config["pack"], **arch_options)
    return GAN(G, D, total_steps=config["steps"], **arguments)


def check(gan: GAN, config: dict) -> None:
    """Refuse a batch that a batch-dependent layer (BatchNorm) cannot normalise: one sample per batch
    (D sees batch_size / pack)."""
    for model, batch, flag in ((gan.G, config["batch_size"], "--batch-size"),
                               (gan.D, config["batch_size"] // config["pack"], "--batch-size / --pack")):
        if batch < 2 and any(m.batch_dependent for m in model.modules()):
            raise OptionError(f"{flag} {batch}: expected at least 2 samples per batch: arch "
                                      f"{config['arch']!r} has BatchNorm, which normalises over the batch")


def frame(gan: GAN, config: dict):
    """The fixed-noise grid of 64 samples (None for 2-D points: their picture is drawn at the end)."""
    if is_points(config):
        return None
    from ..viz import image_grid

    return image_grid(gan.sample(64, seed=fixed_noise_seed(config)))


def finish(gan: GAN, config: dict, run_dir) -> dict:
    """samples.png (and game.png for single 2-D points); the mixture figures for 2-D data."""
    from ..viz import save_image_grid, save_scatter

    title = f"{config['dataset']} / {config['arch']}, step {gan.step}"
    figures = {"step": gan.step}
    if not is_points(config):
        save_image_grid(gan.sample(64, seed=fixed_noise_seed(config)), run_dir / "samples.png", title)
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
