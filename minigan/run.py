"""Run folders: train a GAN from a config, checkpoint it, resume it, sample from it.

A run folder holds (DESIGN.md, "Trainer, command line and run folders"):
  config.json      every option needed to rebuild the models and continue
  checkpoint.npz   both models, both optimisers, the step, the RNG state (no pickle)
  history.csv      one row of figures per logged step
  samples.png      the fixed-noise grid (images) or a scatter over the true modes (2-D)
  losses.png       losses, D outputs and gradient norms against the step
  metrics.json     the run's evaluation figures
  progress.gif     (image data) the fixed-noise grid over training; its frames live in frames.npz
Every file is written atomically.
"""
from __future__ import annotations

import csv
import io
import sys
import time
from pathlib import Path

from . import backend
from .data import TOY_SETS, load_digits, sample_toy, toy_means
from .io import CheckpointError, load_arrays, save_arrays, write_json, write_text
from .models import MLP2D_OPTIONS, build
from .train import GAN, TrainingDiverged

HISTORY_FIELDS = ("step", "loss_d", "loss_g", "d_real", "d_fake_before", "d_fake_after", "grad_norm_d",
                  "grad_norm_g", "seconds")

# Options every run has; per-dataset defaults below override these.
BASE_CONFIG = dict(dataset="digits", arch="dcgan", loss="nonsaturating", steps=2000, batch_size=64, seed=0,
                   backend="numpy", lr_g=2e-4, lr_d=2e-4, beta1=0.5, beta2=0.999, d_steps=1, pack=1, clip=None,
                   z_dim=100, width=None, output_scale=1.0, z_categories=0, z_noise_scale=1.0,
                   lr_schedule="constant", log_every=10, checkpoint_every=500, ema=None, r1=0.0, data_dir=None,
                   download=False, frames=40)
DATASET_DEFAULTS = {
    # Toy mixtures: a narrow MLP pair, PacGAN packing 2, many cheap steps, and a decaying
    # learning rate so that G settles precisely on the 0.01-wide (ring) / 0.05-wide (grid) modes.
    # Adam with beta1 = 0 (no momentum, as in SNGAN / StyleGAN2) raised the high-quality fraction on
    # both sets (ring 89 -> 94 %, grid 43 -> 75 %; the README's ablation table).
    "ring8": dict(arch="mlp2d", steps=16000, batch_size=256, z_dim=8, width=64, lr_g=2e-3, lr_d=2e-3, pack=2,
                  beta1=0.0, lr_schedule="linear", log_every=50, checkpoint_every=4000),
    # On the grid G is a mixture of 256 generators (mlp2d's z_categories; the other noise scaled by
    # 0.1): it can jump between the 25 modes instead of drawing bridges of samples between them. Its
    # output gain of 2 (output_scale) lets it span the +-4 grid sooner, and sampling from an average
    # of G's weights (ema) settles the last wandering categories on their modes. README: toy mixtures.
    "grid25": dict(arch="mlp2d", steps=16000, batch_size=256, z_dim=8, width=64, lr_g=2e-3, lr_d=2e-3, pack=2,
                   beta1=0.0, output_scale=2.0, z_categories=256, z_noise_scale=0.1, ema=0.999,
                   lr_schedule="linear", log_every=50, checkpoint_every=4000),
    # 8x8 digits: a narrow DCGAN (2 stride-2 stages: 2x2 -> 4x4 -> 8x8) at a brisk, decaying
    # learning rate gives recognisable digits of every class in about two minutes on 2 cores.
    "digits": dict(arch="dcgan", steps=8000, batch_size=64, z_dim=32, width=32, lr_g=5e-4, lr_d=5e-4,
                   lr_schedule="linear", log_every=20, checkpoint_every=1000),
    # 28x28 images: DESIGN.md's dcgan28 with the DCGAN paper's Adam settings.
    "mnist": dict(arch="dcgan", steps=5000, batch_size=64, z_dim=100, width=64, lr_schedule="linear",
                  log_every=20, checkpoint_every=500),
    "fashion-mnist": dict(arch="dcgan", steps=5000, batch_size=64, z_dim=100, width=64, lr_schedule="linear",
                          log_every=20, checkpoint_every=500),
}
IMAGE_SETS = ("digits", "mnist", "fashion-mnist")
DATASETS = tuple(DATASET_DEFAULTS)


def default_config(dataset: str) -> dict:
    if dataset not in DATASET_DEFAULTS:
        raise ValueError(f"unknown dataset {dataset!r}: expected one of {DATASETS}")
    return {**BASE_CONFIG, **DATASET_DEFAULTS[dataset], "dataset": dataset}


# -- data ----------------------------------------------------------------------
def real_images(config: dict, log=print):
    """(images, labels) of an image data set as NumPy arrays: float32 (N, C, H, W) in [-1, 1], int64 (N,)."""
    name = config["dataset"]
    if name == "digits":
        return load_digits()
    if name in ("mnist", "fashion-mnist"):
        from .data import load_mnist

        images, labels, _ = load_mnist(name, "train", data_dir=config.get("data_dir"),
                                       download=bool(config.get("download")), log=log)
        return images, labels
    raise ValueError(f"unknown image data set {name!r}: expected one of {IMAGE_SETS}")


def data_source(config: dict, log=print):
    """sample_real(rng, n): a real batch (n, *data_shape(config)) on the active backend."""
    name = config["dataset"]
    if name in TOY_SETS:
        return lambda rng, n: backend.asarray(sample_toy(name, n, rng), dtype=backend.default_dtype())
    if name not in IMAGE_SETS:
        raise ValueError(f"unknown dataset {name!r}: expected one of {DATASETS}")
    images = backend.asarray(real_images(config, log)[0], dtype=backend.default_dtype())
    # Batches drawn without replacement within a batch, from the GAN's own generator: a
    # resumed run draws exactly the batches an unbroken run would.
    return lambda rng, n: images[backend.asarray(rng.choice(len(images), n, replace=False))]


def data_shape(config: dict):
    """The shape of one sample, without loading a data set."""
    return (2,) if config["dataset"] in TOY_SETS else {"digits": (1, 8, 8)}.get(config["dataset"], (1, 28, 28))


def build_gan(config: dict) -> GAN:
    """Models and optimisers as the config describes, initialised from config['seed']."""
    backend.use(config["backend"])
    backend.seed(config["seed"])
    options = {"width": config["width"]} if config.get("width") else {}
    # Options only mlp2d takes, passed on only when set (old config files lack them).
    for key, off in MLP2D_OPTIONS.items():
        if config.get(key, off) != off:
            options[key] = config[key]
    G, D = build(config["arch"], data_shape(config), config["z_dim"], config["pack"], **options)
    return GAN(G, D, config["z_dim"], loss=config["loss"], lr_g=config["lr_g"], lr_d=config["lr_d"],
               betas=(config["beta1"], config["beta2"]), d_steps=config["d_steps"], pack=config["pack"],
               clip=config["clip"], seed=config["seed"], lr_schedule=config["lr_schedule"],
               total_steps=config["steps"], ema=config.get("ema"), r1=config.get("r1", 0.0))


def read_config(run_dir) -> dict:
    """The config.json of a run folder."""
    import json

    path = Path(run_dir) / "config.json"
    if not path.is_file():
        raise FileNotFoundError(f"{run_dir} is not a run folder: {path} is missing")
    return json.loads(path.read_text())


def restore(gan: GAN, run_dir) -> None:
    """Load the run's checkpoint.npz into ``gan``; CheckpointError if it is bad or does not fit."""
    path = Path(run_dir) / "checkpoint.npz"
    try:
        gan.load_state_dict(load_arrays(path))
    except CheckpointError:
        raise
    except ValueError as exc:  # names or shapes that do not match the models of config.json
        raise CheckpointError(f"checkpoint {path} does not fit config.json: {exc}") from exc


def load_run(run_dir):
    """(config, gan) of a run folder, with the checkpoint's state loaded."""
    config = read_config(run_dir)
    gan = build_gan(config)
    restore(gan, run_dir)
    return config, gan


# -- history -------------------------------------------------------------------
def read_history(path, upto_step: int) -> list:
    """Rows of history.csv with step <= upto_step (rows past the checkpoint were never saved with it)."""
    if not Path(path).is_file():
        return []
    with open(path, newline="") as f:
        rows = [{k: float(v) for k, v in row.items()} for row in csv.DictReader(f)]
    for row in rows:
        row["step"] = int(row["step"])
    return [row for row in rows if row["step"] <= upto_step]


def write_history(path, rows: list) -> None:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=HISTORY_FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: row[k] for k in HISTORY_FIELDS} for row in rows)
    write_text(path, buf.getvalue())


# -- pictures and metrics -----------------------------------------------------
def fixed_noise_seed(config: dict) -> int:
    """The seed of the run's fixed noise: the same grid of z at every save, distinct from training noise."""
    return config["seed"] + 10_000


def write_samples(gan: GAN, config: dict, path) -> None:
    from .viz import save_image_grid, save_scatter

    title = f"{config['dataset']} / {config['arch']}, step {gan.step}"
    if config["dataset"] in TOY_SETS:
        points = gan.sample(2500, seed=fixed_noise_seed(config))
        save_scatter(points, toy_means(config["dataset"]), path, title)
    else:
        save_image_grid(gan.sample(64, seed=fixed_noise_seed(config)), path, title)


def evaluate(gan: GAN, config: dict) -> dict:
    """The run's evaluation figures (2-D: modes captured, high-quality fraction, reverse KL)."""
    from .metrics import evaluate_toy

    figures = {"step": gan.step}
    if config["dataset"] in TOY_SETS:
        result = evaluate_toy(gan.sample(2500, seed=fixed_noise_seed(config) + 1), config["dataset"])
        figures.update(result)
    return figures


def save_checkpoint(gan: GAN, run_dir: Path, history: list, frames: dict) -> None:
    save_arrays(run_dir / "checkpoint.npz", gan.state_dict())
    write_history(run_dir / "history.csv", history)
    if frames:
        save_arrays(run_dir / "frames.npz", {f"step_{s:09d}": f for s, f in frames.items()})


def read_frames(run_dir: Path, upto_step: int) -> dict:
    """step -> grid image of the fixed noise, as saved with the checkpoints (frames past it dropped)."""
    path = run_dir / "frames.npz"
    if not path.is_file():
        return {}
    return {int(k[5:]): v for k, v in load_arrays(path).items() if int(k[5:]) <= upto_step}


# -- training ------------------------------------------------------------------
def train_run(config: dict, run_dir, resume: bool = False, log=print) -> dict:
    """Train (or, with resume, continue) the run in ``run_dir`` until config['steps']; returns metrics."""
    run_dir = Path(run_dir)
    sample_real = data_source(config, log)  # before the folder exists: bad data leaves nothing behind
    run_dir.mkdir(parents=True, exist_ok=True)
    gan = build_gan(config)
    if resume:
        restore(gan, run_dir)
        history = read_history(run_dir / "history.csv", gan.step)
        frames = read_frames(run_dir, gan.step)
        log(f"resuming {run_dir} at step {gan.step} of {config['steps']}")
    else:
        history, frames = [], {}
    write_json(run_dir / "config.json", config)
    images = config["dataset"] in IMAGE_SETS
    frame_every = max(1, config["steps"] // max(1, config.get("frames") or 1))
    start_time = time.perf_counter() - (history[-1]["seconds"] if history else 0.0)

    from tqdm import tqdm

    bar = tqdm(total=config["steps"], initial=gan.step, desc="train", unit="step", dynamic_ncols=True,
               disable=not sys.stderr.isatty())

    def on_step(figures):
        bar.update(1)
        if gan.step % config["log_every"] == 0 or gan.step == config["steps"]:
            history.append({"step": gan.step, **figures, "seconds": time.perf_counter() - start_time})
            bar.set_postfix(loss_d=f"{figures['loss_d']:.3f}", loss_g=f"{figures['loss_g']:.3f}",
                            D_x=f"{figures['d_real']:.2f}", D_G_z=f"{figures['d_fake_before']:.2f}")
        if images and config.get("frames") and (gan.step % frame_every == 0 or gan.step == 1):
            from .viz import image_grid

            frames[gan.step] = image_grid(gan.sample(64, seed=fixed_noise_seed(config)))
        if gan.step % config["checkpoint_every"] == 0:
            save_checkpoint(gan, run_dir, history, frames)

    try:
        gan.fit(sample_real, config["steps"], config["batch_size"], on_step)
    except TrainingDiverged as exc:
        bar.close()
        raise TrainingDiverged(f"{exc}. The last good checkpoint in {run_dir} is kept.") from exc
    bar.close()

    save_checkpoint(gan, run_dir, history, frames)
    write_samples(gan, config, run_dir / "samples.png")
    from .viz import save_gif, save_history_plot

    if history:
        save_history_plot(history, run_dir / "losses.png")
    if frames:
        steps = sorted(frames)
        save_gif([frames[s] for s in steps], steps, run_dir / "progress.gif")
    metrics = evaluate(gan, config)
    metrics["seconds"] = history[-1]["seconds"] if history else 0.0
    write_json(run_dir / "metrics.json", metrics)
    return metrics


def sample_run(run_dir, n: int, seed: int, out) -> None:
    """Write n samples of a run's G to ``out``: .npy (float32, data space) or .png (grid / scatter)."""
    import numpy as np

    config, gan = load_run(run_dir)
    samples = gan.sample(n, seed)
    out = Path(out)
    if out.suffix == ".npy":
        from .io import atomic_write

        atomic_write(out, lambda f: np.save(f, samples))
    elif out.suffix == ".png":
        from .viz import save_image_grid, save_scatter

        if config["dataset"] in TOY_SETS:
            save_scatter(samples, toy_means(config["dataset"]), out, f"{n} samples, seed {seed}")
        else:
            save_image_grid(samples, out, f"{n} samples, seed {seed}")
    else:
        raise ValueError(f"--out must end in .npy or .png, got {out}")
