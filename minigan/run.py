"""Opening a finished (or stopped) run: its config, its trainer with the checkpoint loaded, its samples.

``load_run(run_dir)`` rebuilds the run's trainer (any model family) from config.json and loads
checkpoint.npz into it; ``minigan sample``, ``evaluate``, ``inpaint`` and ``translate`` start there.
Training itself is ``minigan.loop``; the files of a run folder are ``minigan.runfolder``'s; the commands
that open runs are in ``minigan.commands``.
"""
from __future__ import annotations

from . import backend, families, options
from .runfolder import read_config, restore


def build_trainer(config: dict):
    """The run's trainer as the config describes it, initialised from config['seed'], on the active
    backend: its family's ``build`` with the keywords ``minigan.options`` reads off the config."""
    return families.get(config["model"]).build(config, options.trainer_arguments(config),
                                                options.arch_options(config))


def build_gan(config: dict):
    """The trainer of a gan run (``GAN``): G, D and their optimisers, initialised from config['seed']."""
    if config.get("model", "gan") != "gan":
        raise options.OptionError(f"--model {config['model']}: expected a gan run")
    return build_trainer(config)


def load_run(run_dir, backend_name: str | None = None):
    """(config, trainer) of a run folder, with the checkpoint's state loaded; on ``backend_name`` when
    given (a run trained on CuPy read on a CPU), else on the backend it was trained on."""
    config = read_config(run_dir)
    if backend_name:
        config = {**config, "backend": backend_name}
    backend.use(config["backend"])  # (a command's process works on one backend from here on)
    trainer = build_trainer(config)
    restore(trainer, run_dir)
    return config, trainer


def sampler(config: dict, trainer):
    """n, seed -> n float32 samples in data space, of a run that makes samples (gan, vae)."""
    if not hasattr(trainer, "sample"):
        raise options.OptionError(f"a {config['model']} run does not draw samples; expected a gan or vae run "
                                  f"(a pix2pix run translates: minigan translate)")
    return trainer.sample
