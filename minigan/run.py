"""Run folders: train a GAN from a config, checkpoint it, resume it, sample from it.

A run folder holds:
  config.json      every option needed to rebuild the models and continue
  checkpoint.npz   both models, both optimisers, the step, the RNG state (no pickle)
  history.csv      one row of figures per logged step
  samples.png      the fixed-noise grid (images) or a scatter over the true modes (2-D)
  losses.png       losses, D outputs and gradient norms against the step
  metrics.json     the run's evaluation figures
  progress.gif     (image data) the fixed-noise grid over training; its frames live in frames.npz
  game.png         (2-D data, --pack 1) D's probability over the plane, real and generated points, and the
                   arrows -dL_G/dx that D hands G
Every file is written atomically.
"""
from __future__ import annotations

import csv
import io
import sys
import time
from pathlib import Path

from . import backend, data, options
from .interrupts import Interrupted, deferred_signals, pending, signal_name
from .storage import CheckpointError, load_arrays, save_arrays, write_json, write_text
from .models import build
from .train import GAN, TrainingDiverged

HISTORY_FIELDS = ("step", "loss_d", "loss_g", "d_real", "d_fake_before", "d_fake_after", "grad_norm_d",
                  "grad_norm_g", "seconds")


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
        raise options.OptionError(f"--holdout {config['holdout']}: expected a fraction that leaves training "
                                  f"images (of {len(images)})")
    if config.get("holdout") and held < MIN_EVALUATION_IMAGES:
        raise options.OptionError(f"--holdout {config['holdout']}: keeps {held} of {len(images)} images out; "
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


def build_gan(config: dict) -> GAN:
    """Models and optimisers as the config describes, initialised from config['seed']."""
    backend.use(config["backend"])
    backend.seed(config["seed"])
    G, D = build(config["arch"], data_shape(config), config["z_dim"], config["pack"],
                 **options.arch_options(config))
    return GAN(G, D, **options.gan_arguments(config))


def read_config(run_dir) -> dict:
    """The config.json of a run folder, checked (an old one gets the options it lacks at their defaults)."""
    import json

    path = Path(run_dir) / "config.json"
    if not Path(run_dir).is_dir():
        raise FileNotFoundError(f"{run_dir} is not a run folder: no such folder")
    if not path.is_file():
        raise FileNotFoundError(f"{run_dir} is not a run folder: {path} is missing")
    try:
        config = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise options.OptionError(f"{path} is not valid JSON ({exc}); expected the config.json minigan "
                                  f"train wrote") from exc
    if not isinstance(config, dict):
        raise options.OptionError(f"{path} holds a {type(config).__name__}; expected a JSON object of options")
    return options.validate(options.upgrade(config), dict.fromkeys(config, str(path)))


def restore(gan: GAN, run_dir) -> dict:
    """Load the run's checkpoint.npz into ``gan`` and return its arrays; CheckpointError if it is bad or
    does not fit."""
    path = Path(run_dir) / "checkpoint.npz"
    try:
        state = load_arrays(path)
        gan.load_state_dict(state)
        return state
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
    try:
        with open(path, newline="") as f:
            reader = csv.DictReader(f)
            if tuple(reader.fieldnames or ()) != HISTORY_FIELDS:
                raise ValueError(f"expected the columns {', '.join(HISTORY_FIELDS)}")
            rows = [{k: float(v) for k, v in row.items()} for row in reader]
    except (ValueError, TypeError, UnicodeDecodeError) as exc:  # a cell missing (None) or not a number
        raise ValueError(f"{path} is not a history.csv minigan wrote: {exc}") from exc
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
    if is_points(config):
        points = gan.sample(2500, seed=fixed_noise_seed(config))
        save_scatter(points, data.toy_means(config["dataset"]), path, title)
    else:
        save_image_grid(gan.sample(64, seed=fixed_noise_seed(config)), path, title)


def evaluate(gan: GAN, config: dict) -> dict:
    """The run's evaluation figures (2-D: modes captured, high-quality fraction, reverse KL)."""
    from .metrics import evaluate_toy

    figures = {"step": gan.step}
    if is_points(config):
        result = evaluate_toy(gan.sample(2500, seed=fixed_noise_seed(config) + 1), config["dataset"])
        figures.update(result)
    return figures


def save_checkpoint(gan: GAN, run_dir: Path, history: list, frames: dict, extra: dict | None = None) -> None:
    """checkpoint.npz (``gan.state_dict()`` and the arrays in ``extra``), history.csv, frames.npz."""
    save_arrays(run_dir / "checkpoint.npz", {**gan.state_dict(), **(extra or {})})
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
def check_batch_statistics(gan: GAN, config: dict) -> None:
    """Refuse a batch that BatchNorm cannot normalise (one sample per batch: D sees batch_size / pack)."""
    from .layers import BatchNorm1d, BatchNorm2d

    for model, batch, flag in ((gan.G, config["batch_size"], "--batch-size"),
                               (gan.D, config["batch_size"] // config["pack"], "--batch-size / --pack")):
        if batch < 2 and any(isinstance(m, (BatchNorm1d, BatchNorm2d)) for m in model.modules()):
            raise options.OptionError(f"{flag} {batch}: expected at least 2 samples per batch: arch "
                                      f"{config['arch']!r} has BatchNorm, which normalises over the batch")



def prepare_folder(run_dir: Path) -> None:
    """Create the run folder (and its parents); a clear error when that is impossible."""
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # a file in the way, no permission, a read-only disk
        raise OSError(f"cannot create the run folder {run_dir}: {exc.strerror or exc}") from exc
    if not run_dir.is_dir():
        raise OSError(f"cannot create the run folder {run_dir}: a file of that name is in the way")


def train_run(config: dict, run_dir, resume: bool = False, log=print, comm=None) -> dict:
    """Train (or, with resume, continue) the run in ``run_dir`` until config['steps']; returns metrics.

    Everything that can fail on the user's input (the backend, the data, the models, the checkpoint)
    is tried before the folder is created or any file in it written. SIGINT / SIGTERM during training
    finish the step, save a checkpoint and raise ``Interrupted``.
    comm: a data-parallel run's communicator (``minigan.distributed``; None: one process). Every rank
    calls train_run; rank 0 alone reads the checkpoint (the others receive its state), writes the
    run folder and returns the metrics (the others return {"step": ...}).
    """
    from .distributed import Communicator, DataParallel

    run_dir = Path(run_dir)
    config = options.validate(config, {})
    backend.use(config["backend"])
    sample_real = data_source(config, log)
    gan = build_gan(config)
    check_batch_statistics(gan, config)
    parallel = DataParallel(gan, comm or Communicator(), config["seed"], config["sync_bn"])
    writer = parallel.writer
    parallel.start(restore(gan, run_dir) if resume and writer else None, config)
    history, frames = [], {}
    if resume:
        if config["steps"] < gan.step:
            raise options.OptionError(f"--steps {config['steps']}: expected at least {gan.step}, the step the "
                                      f"checkpoint in {run_dir} is at (--steps is the run's total)")
        if writer:
            history = read_history(run_dir / "history.csv", gan.step)
            frames = read_frames(run_dir, gan.step)
            log(f"resuming {run_dir} at step {gan.step} of {config['steps']}")
    if writer:
        prepare_folder(run_dir)
        log(f"run folder: {run_dir}")
        write_json(run_dir / "config.json", config)
    images = not is_points(config)
    frame_every = max(1, config["steps"] // max(1, config.get("frames") or 1))
    start_time = time.perf_counter() - (history[-1]["seconds"] if history else 0.0)

    from tqdm import tqdm

    bar = tqdm(total=config["steps"], initial=gan.step, desc="train", unit="step", dynamic_ncols=True,
               disable=not sys.stderr.isatty())

    def checkpoint():  # (every rank calls it: each hands its generator's state to rank 0's file)
        extra = parallel.checkpoint_arrays()
        if writer:
            save_checkpoint(gan, run_dir, history, frames, extra)

    def stop_if_asked():
        signum = parallel.agreed_signal(pending())
        if signum is not None:
            checkpoint()
            again = f"mpiexec -n {parallel.comm.size} " if parallel.comm.size > 1 else ""
            raise Interrupted(signum, f"stopped by {signal_name(signum)} at step {gan.step} of {config['steps']}; "
                                      f"checkpoint saved. Continue with: {again}minigan train --out {run_dir} "
                                      f"--resume")

    def on_step(figures):
        bar.update(1)
        if gan.step % config["log_every"] == 0 or gan.step == config["steps"]:
            history.append({"step": gan.step, **figures, "seconds": time.perf_counter() - start_time})
            bar.set_postfix(loss_d=f"{figures['loss_d']:.3f}", loss_g=f"{figures['loss_g']:.3f}",
                            D_x=f"{figures['d_real']:.2f}", D_G_z=f"{figures['d_fake_before']:.2f}")
        if writer and images and config.get("frames") and (gan.step % frame_every == 0 or gan.step == 1):
            from .viz import image_grid

            frames[gan.step] = image_grid(gan.sample(64, seed=fixed_noise_seed(config)))
        if gan.step % config["checkpoint_every"] == 0:
            checkpoint()
        stop_if_asked()

    try:
        with deferred_signals():
            gan.fit(sample_real, config["steps"], config["batch_size"], on_step)
            checkpoint()
            stop_if_asked()
    except TrainingDiverged as exc:
        kept = ("The last good checkpoint in {} is kept." if (run_dir / "checkpoint.npz").is_file()
                else "No checkpoint had been saved yet in {}.").format(run_dir)
        raise TrainingDiverged(f"{exc}. {kept}") from exc
    finally:
        bar.close()

    if not writer:
        return {"step": gan.step}
    write_samples(gan, config, run_dir / "samples.png")
    if is_points(config) and config["pack"] == 1:  # D judges single points: its view of the plane can be drawn
        from .game import save_game

        real = data.sample_toy(config["dataset"], 1000, backend.rng(fixed_noise_seed(config) + 2))
        save_game(gan, real, run_dir / "game.png", f"{config['dataset']}: what D sees, step {gan.step}")
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


SAMPLE_SUFFIXES = (".npy", ".png")


def check_output_file(out) -> Path:
    """``--out`` of a command writing arrays or a picture: OUT.npy or OUT.png in an existing folder."""
    out = Path(out)
    if out.suffix not in SAMPLE_SUFFIXES:
        raise options.OptionError(f"--out {out}: expected a file name ending in .npy or .png")
    if not out.parent.is_dir():
        raise options.OptionError(f"--out {out}: expected a file in an existing folder ({out.parent} is not one)")
    return out


def sample_run(run_dir, n: int, seed: int, out) -> None:
    """Write n samples of a run's G to ``out``: .npy (float32, data space) or .png (grid / scatter)."""
    import numpy as np

    if n < 1:
        raise options.OptionError(f"-n {n}: expected a number of samples >= 1")
    out = check_output_file(out)
    config, gan = load_run(run_dir)
    samples = gan.sample(n, seed)
    if out.suffix == ".npy":
        from .storage import atomic_write

        atomic_write(out, lambda f: np.save(f, samples))
    else:
        from .viz import save_image_grid, save_scatter

        if is_points(config):
            save_scatter(samples, data.toy_means(config["dataset"]), out, f"{n} samples, seed {seed}")
        else:
            save_image_grid(samples, out, f"{n} samples, seed {seed}")
