"""The one training loop: every model family trains, checkpoints, resumes and scales through it.

    trainer = build_trainer(config)                # named models, optimisers, the family's step
    trainer.fit(sample_real, steps, batch_size, on_step)   # train_step(*draw_batch(...)) until steps
    on_step: log the figures; save a frame; save a checkpoint; stop cleanly if Ctrl-C / SIGTERM came

Around it: the run folder (refused if it holds a run and this is not --resume; locked while this
training writes it), config.json, checkpoint.npz, history.csv, the progress bar, the frames, the NaN
stop (``TrainingDiverged``: the last good checkpoint is kept) and data-parallel training
(``minigan.distributed.DataParallel`` wraps the trainer: the family never knows). What differs from
family to family is in its ``minigan.families`` entry.
"""
from __future__ import annotations

import contextlib
import sys
import time
from pathlib import Path

from . import backend, families, options
from .interrupts import Interrupted, deferred_signals, pending, signal_name
from .run import build_trainer
from .runfolder import (CHECKPOINT, CONFIG, HISTORY, RunLock, prepare_folder, read_frames, read_history,
                        refuse_existing_run, restore, save_checkpoint)
from .storage import write_json
from .updater import TrainingDiverged


def train_run(config: dict, run_dir, resume: bool = False, log=print, comm=None) -> dict:
    """Train (or, with resume, continue) the run in ``run_dir`` until config['steps']; returns metrics.

    Everything that can fail on the user's input (the backend, the data, the models, the checkpoint,
    a folder that holds another run or that another training holds) is tried before any file in the
    folder is written. SIGINT / SIGTERM during training finish the step, save a checkpoint and raise
    ``Interrupted``.
    comm: a data-parallel run's communicator (``minigan.distributed``; None: one process). Every rank
    calls train_run; rank 0 alone reads the checkpoint (the others receive its state), writes the
    run folder and returns the metrics (the others return {"step": ...}).
    """
    from .distributed import Communicator, DataParallel

    run_dir = Path(run_dir)
    config = options.validate(config, {})
    family = families.get(config["model"])
    comm = comm or Communicator()
    writer = comm.rank == 0  # only rank 0 writes the run folder
    if writer and not resume:
        refuse_existing_run(run_dir)
    with backend.using(config["backend"]):
        sample_real = family.batches(config, log)
        trainer = build_trainer(config)
        if family.check:
            family.check(trainer, config)
        parallel = DataParallel(trainer, comm, config["seed"], config["sync_bn"])
        with contextlib.ExitStack() as held:
            if writer and resume:
                held.enter_context(RunLock(run_dir))  # before its checkpoint is read
            parallel.start(restore(trainer, run_dir) if resume and writer else None, config)
            if resume and config["steps"] < trainer.step:
                raise options.OptionError(f"--steps {config['steps']}: expected at least {trainer.step}, the "
                                          f"step the checkpoint in {run_dir} is at (--steps is the run's total)")
            if writer and not resume:
                prepare_folder(run_dir)
                held.enter_context(RunLock(run_dir))
                refuse_existing_run(run_dir)  # again: a training that started meanwhile may have written it
            return _train(family, trainer, parallel, sample_real, config, run_dir, resume, log)


def _train(family, trainer, parallel, sample_real, config: dict, run_dir: Path, resume: bool, log) -> dict:
    writer, fields = parallel.writer, family.history_fields
    history, frames = [], {}
    if resume and writer:
        history = read_history(run_dir / HISTORY, fields, trainer.step)
        frames = read_frames(run_dir, trainer.step)
        log(f"resuming {run_dir} at step {trainer.step} of {config['steps']}")
    if writer:
        log(f"run folder: {run_dir}")
        write_json(run_dir / CONFIG, config)
    steps = config["steps"]
    frame_every = max(1, steps // max(1, config.get("frames") or 1))
    start_time = time.perf_counter() - (history[-1]["seconds"] if history else 0.0)

    from tqdm import tqdm

    bar = tqdm(total=steps, initial=trainer.step, desc="train", unit="step", dynamic_ncols=True,
               disable=not sys.stderr.isatty())

    def checkpoint():  # (every rank calls it: each hands its generator's state to rank 0's file)
        extra = parallel.checkpoint_arrays()
        if writer:
            save_checkpoint(trainer, run_dir, fields, history, frames, extra)

    def stop_if_asked():
        signum = parallel.agreed_signal(pending())
        if signum is not None:
            checkpoint()
            again = f"mpiexec -n {parallel.comm.size} " if parallel.comm.size > 1 else ""
            raise Interrupted(signum, f"stopped by {signal_name(signum)} at step {trainer.step} of {steps}; "
                                      f"checkpoint saved. Continue with: {again}minigan train --out {run_dir} "
                                      f"--resume")

    def on_step(figures):
        bar.update(1)
        if trainer.step % config["log_every"] == 0 or trainer.step == steps:
            history.append({"step": trainer.step, **figures, "seconds": time.perf_counter() - start_time})
            bar.set_postfix({label: f"{figures[key]:.3f}" for label, key in family.shown.items()})
        if writer and config.get("frames") and (trainer.step % frame_every == 0 or trainer.step == 1):
            picture = family.frame(trainer, config)
            if picture is not None:
                frames[trainer.step] = picture
        if trainer.step % config["checkpoint_every"] == 0:
            checkpoint()
        stop_if_asked()

    try:
        with deferred_signals():
            trainer.fit(sample_real, steps, config["batch_size"], on_step)
            checkpoint()
            stop_if_asked()
    except TrainingDiverged as exc:
        kept = ("The last good checkpoint in {} is kept." if (run_dir / CHECKPOINT).is_file()
                else "No checkpoint had been saved yet in {}.").format(run_dir)
        raise TrainingDiverged(f"{exc}. {kept}") from exc
    finally:
        bar.close()

    if not writer:
        return {"step": trainer.step}
    metrics = family.finish(trainer, config, run_dir)
    from .viz import save_gif, save_history_plot

    if history:
        save_history_plot(history, run_dir / "losses.png")
    if frames:
        steps_drawn = sorted(frames)
        save_gif([frames[s] for s in steps_drawn], steps_drawn, run_dir / "progress.gif")
    metrics["seconds"] = history[-1]["seconds"] if history else 0.0
    write_json(run_dir / "metrics.json", metrics)
    return metrics
