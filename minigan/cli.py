"""The ``minigan`` command line: train, sample, evaluate, inpaint, translate, check, bench.

Every error a user can cause ends the command with ONE line on stderr, no traceback: exit status 2
for a bad option, file or folder (nothing written), 1 for a failed check or a diverged run, 130 / 143
when SIGINT / SIGTERM stopped a training run (after saving a checkpoint).
"""
from __future__ import annotations

import argparse
import datetime
import json
import signal
import sys
from pathlib import Path

from . import __version__, options


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (argparse prints the usage block first)."""

    def error(self, message):
        from .distributed import end_unjoined_job

        line = f"{self.prog}: error: {message} (see {self.prog} --help)"
        end_unjoined_job(2, line)  # under mpiexec: says it once and ends every rank (returns otherwise)
        self.exit(2, line + "\n")


def integer(minimum: int):
    """An argparse type: an integer >= minimum (the check of ``options.count``)."""
    check = options.count(minimum)

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid int value: {text!r}") from None
        if check(value):
            raise argparse.ArgumentTypeError(f"{value}: expected {check(value)}")
        return value
    return parse


positive_int, non_negative_int = integer(1), integer(0)


def folder(text: str) -> Path:
    """An argparse type: a non-empty path."""
    if not text.strip():
        raise argparse.ArgumentTypeError("expected a folder name, got an empty one")
    return Path(text)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="minigan", description="A from-scratch GAN library on NumPy or CuPy.")
    parser.add_argument("--version", action="version", version=f"minigan {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    train = sub.add_parser("train", help="train a model (--model gan|pix2pix|vae|cyclegan) into a run folder")
    options.add_arguments(train)
    train.add_argument("--out", type=folder, default=None, help="run folder (default: runs/<dataset>-<date>-<time>)")
    train.add_argument("--resume", action="store_true", help="continue the run in --out until --steps")
    train.add_argument("--threads", type=positive_int, default=None,
                       help="BLAS threads (on a busy machine, 1 can be several times faster than the default; "
                            "under --distributed the default is the cores divided by the processes on the machine)")

    sample = sub.add_parser("sample", help="draw samples from a trained run")
    sample.add_argument("run_dir", type=Path)
    sample.add_argument("-n", type=int, default=64, help="number of samples (>= 1)")
    sample.add_argument("--seed", type=non_negative_int, default=0)
    sample.add_argument("--label", type=non_negative_int, default=None,
                        help="draw every sample of this class (a run trained with --conditional)")
    sample.add_argument("--out", type=folder, required=True, help="FILE.npy (float32 arrays) or FILE.png (picture)")
    add_backend(sample)
    evaluate = sub.add_parser("evaluate", help="score a run's samples beside real held-out data")
    evaluate.add_argument("run_dir", type=Path)
    evaluate.add_argument("-n", type=positive_int, default=None,
                          help="number of generated samples (default: as many as the held-out real images; "
                               "26,000 for stacked-mnist; 2,500 for 2-D data)")
    evaluate.add_argument("--seed", type=non_negative_int, default=0)
    evaluate.add_argument("--classifier-seed", type=non_negative_int, default=0,
                          help="seed of the evaluation classifier (default 0; figures compare only at the "
                               "same classifier seed: another one measures the yardstick's own spread)")
    add_backend(evaluate)

    inpaint = sub.add_parser("inpaint", help="restore the hidden pixels of images from a run's G, by "
                                             "optimising z (Yeh et al. 2017)")
    inpaint.add_argument("run_dir", type=Path)
    inpaint.add_argument("--images", type=folder, required=True,
                         help="IN.npy: float images (N, C, H, W) in [-1, 1], of the run's image shape")
    inpaint.add_argument("--mask", required=True, metavar="center|left|right|top|bottom|FILE.npy",
                         help="what is hidden: a named region, or a 0/1 array (1 = visible) of shape (H, W), "
                              "(1|C, H, W) or (1|N, 1|C, H, W)")
    inpaint.add_argument("--out", type=folder, required=True,
                         help="OUT.npy (float32 restored images) or OUT.png (masked | restored, side by side)")
    inpaint.add_argument("--steps", type=positive_int, default=None, help="Adam steps on z (default 300)")
    inpaint.add_argument("--seed", type=non_negative_int, default=0, help="seed of the starting z's")
    add_backend(inpaint)

    translate = sub.add_parser("translate", help="map images through a pix2pix run's G (its task's input -> "
                                                 "its output) or a cyclegan run's G (A -> B; F with --reverse)")
    translate.add_argument("run_dir", type=Path)
    translate.add_argument("--images", type=folder, required=True,
                           help="IN.npy: float images (N, C, H, W) in [-1, 1], of the run's image shape; the run's "
                                "task makes G's input from them (inpaint: its --mask hides pixels; superres: 2x2 "
                                "block means enlarged back)")
    translate.add_argument("--out", type=folder, required=True,
                           help="OUT.npy (float32 outputs) or OUT.png (input | output, side by side)")
    translate.add_argument("--reverse", action="store_true", help="map domain B to A (a run with two directions)")
    add_backend(translate)

    check = sub.add_parser("check", help="verify this installation: gradients of every layer and loss, Adam, "
                                         "a short training (and on CuPy, every layer against NumPy)")
    add_backend(check)

    bench = sub.add_parser("bench", help="milliseconds per training iteration, beside PyTorch if installed")
    bench.add_argument("--arch", choices=["mlp", "dcgan28", "dcgan32", "dcgan64", "grey", "all"], default="grey",
                       help="the benchmark network: mlp, dcgan28 (1x28x28), dcgan32, dcgan64 (PyTorch's DCGAN "
                            "example's networks on 3x32x32 and 3x64x64), grey (the default: mlp and dcgan28) or "
                            "all four")
    add_backend(bench)
    bench.add_argument("--batch", type=positive_int, default=64)
    bench.add_argument("--threads", type=positive_int, default=None, help="BLAS (and PyTorch) threads")
    bench.add_argument("--rounds", type=positive_int, default=7, help="timed rounds (the median is reported)")
    bench.add_argument("--memory", action="store_true",
                       help="also measure peak memory of 5 iterations, each framework in a fresh process (CPU)")
    bench.add_argument("--json", action="store_true", help="print JSON instead of a table")
    return parser


def add_backend(parser) -> None:
    parser.add_argument("--backend", choices=["numpy", "cupy"], default=None,
                        help="the array backend (default: MINIGAN_BACKEND, else numpy; a run trained on CuPy "
                             "reads on a CPU)")


BLAS_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def cmd_train(args) -> int:
    use_blas_threads(args.threads or threads_per_rank(args))
    from . import distributed
    from .interrupts import Interrupted

    if args.distributed == "nccl" and not args.resume:  # needs no MPI: the same refusal with or without mpi4py
        from . import backend

        options.check_nccl_backend(args.distributed, args.backend or backend.name)
    if args.distributed:  # join the group before anything is checked: an error on one rank then ends all
        distributed.silence_other_ranks(distributed.connect(args.distributed))
    try:
        return _train(args)
    except BaseException as exc:
        comm = distributed.joined()
        if comm.size == 1 or isinstance(exc, Interrupted):  # (every rank stops at the same step)
            raise
        distributed.stop_every_rank(comm, lambda command: report_error(command, exc))


def _train(args) -> int:
    from . import distributed
    from .loop import train_run
    from .runfolder import read_config

    given = options.given(args)
    sources = dict.fromkeys(given, "command line")
    if args.resume:
        if args.out is None:
            raise options.OptionError("--resume needs --out RUN_DIR (the run to continue)")
        saved = read_config(args.out)
        options.check_resume(saved, given)
        config = options.validate({**saved, **given}, {**dict.fromkeys(saved, str(args.out / "config.json")),
                                                       **sources})
    else:
        config = options.validate(options.make_config(given), sources)
        if args.out is None:
            stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
            family = "" if config["model"] == "gan" else f"{config['model']}-"
            args.out = Path("runs") / f"{family}{config['dataset']}-{stamp}"
    comm = distributed.connect(config["distributed"])  # (the group joined above; on --resume, config.json's)
    distributed.silence_other_ranks(comm)
    if config["backend"] == "cupy":
        comm.use_own_gpu()
    for line in options.warnings(config):
        print(f"minigan train: warning: {line}", file=sys.stderr)
    metrics = train_run(config, args.out, resume=args.resume, comm=comm)
    shown = {k: v for k, v in metrics.items() if not isinstance(v, list)}
    print("metrics:", json.dumps(shown))
    print(f"wrote {args.out}/samples.png, losses.png, history.csv, metrics.json, checkpoint.npz")
    return 0


def cmd_sample(args) -> int:
    from .commands.sample import sample_run

    sample_run(args.run_dir, args.n, args.seed, args.out, args.backend, args.label)
    print(f"wrote {args.n} samples to {args.out}")
    return 0


def cmd_evaluate(args) -> int:
    from .evaluate import evaluate_run

    evaluate_run(args.run_dir, args.n, args.seed, classifier_seed=args.classifier_seed, backend_name=args.backend)
    print(f"wrote {args.run_dir / 'metrics.json'}")
    return 0


def cmd_inpaint(args) -> int:
    from .commands.inpaint import inpaint_run
    from .inpaint import STEPS

    result = inpaint_run(args.run_dir, args.images, args.mask, args.out, args.steps or STEPS, args.seed,
                         backend_name=args.backend)
    how = f"mean final loss {result.loss.mean():.4g}" if result.loss is not None else "one pass of pix2pix's G"
    print(f"restored {len(result.images)} images ({how}); wrote {args.out}")
    return 0


def cmd_translate(args) -> int:
    from .commands.translate import translate_run

    outputs = translate_run(args.run_dir, args.images, args.out, reverse=args.reverse, backend_name=args.backend)
    print(f"translated {len(outputs)} images; wrote {args.out}")
    return 0


def threads_per_rank(args):
    """Under --distributed, started by mpiexec with several processes: the BLAS threads of each, the
    cores divided by the processes on this machine (so P processes never run P times the cores'
    threads); None otherwise (BLAS's own default). On --resume the run's config.json says whether it
    is distributed."""
    import os

    from .distributed import launched_size

    distributed = args.distributed
    if distributed is None and args.resume and args.out is not None:
        try:
            distributed = json.loads((Path(args.out) / "config.json").read_text()).get("distributed")
        except (OSError, ValueError, AttributeError):
            distributed = None  # (reported properly once the options are read)
    if distributed in (None, "none") or launched_size() < 2:
        return None
    local = next((int(os.environ[v]) for v in LOCAL_SIZE_VARIABLES if os.environ.get(v, "").isdigit()),
                 launched_size())
    return max(1, (os.cpu_count() or 1) // max(1, local))


LOCAL_SIZE_VARIABLES = ("MPI_LOCALNRANKS", "OMPI_COMM_WORLD_LOCAL_SIZE")  # processes on this machine (hydra, Open MPI)


def use_blas_threads(threads) -> None:
    """Run with ``threads`` BLAS threads. BLAS reads its thread count when NumPy loads, so when the
    variables do not say so already, the command starts again (same arguments) with them set."""
    import os

    if threads and any(os.environ.get(v) != str(threads) for v in BLAS_THREAD_VARIABLES):
        for v in BLAS_THREAD_VARIABLES:
            os.environ[v] = str(threads)
        os.execv(sys.executable, [sys.executable, "-m", "minigan", *sys.argv[1:]])


def cmd_check(args) -> int:
    from . import backend
    from .check import run_check

    return run_check(args.backend or backend.name)


def cmd_bench(args) -> int:
    use_blas_threads(args.threads)
    from . import backend
    from .bench import bench_arch, format_row

    if args.backend:
        backend.use(args.backend)
    groups = {"grey": ["mlp", "dcgan28"], "all": ["mlp", "dcgan28", "dcgan32", "dcgan64"]}
    arches = groups.get(args.arch, [args.arch])
    results = []
    for arch in arches:
        results.append(bench_arch(arch, args.batch, args.threads, rounds=args.rounds))
        if args.memory:
            from .bench import peak_memory

            results[-1]["minigan_memory"] = peak_memory(arch, args.batch, "minigan")
            if "torch_ms" in results[-1]:
                results[-1]["torch_memory"] = peak_memory(arch, args.batch, "torch")
        if not args.json:
            print(format_row(results[-1]), flush=True)
    if args.json:
        print(json.dumps(results, indent=2))
    return 0


def _terminate(signum, frame):
    """SIGTERM outside a training loop: stop as Ctrl-C would, with one line and no traceback."""
    from .interrupts import Interrupted

    raise Interrupted(signum, "stopped by SIGTERM")


def main(argv=None) -> int:
    status = _main(argv)
    if status and argv is None:  # a command line (not a call from Python) that failed
        from .distributed import end_unjoined_job

        end_unjoined_job(status)
    return status


def _main(argv=None) -> int:
    start_error = _import_backend()
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version or a usage error (already printed): its status
        return exc.code
    if args.command is None:
        parser.print_help()
        return 0
    if start_error and getattr(args, "backend", "") is None and not getattr(args, "resume", False):
        print(f"minigan {args.command}: error: {start_error}", file=sys.stderr)  # the default was asked for
        return 2
    from .interrupts import in_main_thread

    commands = {"train": cmd_train, "sample": cmd_sample, "evaluate": cmd_evaluate, "check": cmd_check,
                "bench": cmd_bench, "inpaint": cmd_inpaint, "translate": cmd_translate}
    previous = signal.signal(signal.SIGTERM, _terminate) if in_main_thread() else None
    try:
        return commands[args.command](args)
    except BaseException as exc:  # noqa: BLE001 (report_error raises again what it does not know)
        return report_error(args.command, exc)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def report_error(command: str, exc: BaseException) -> int:
    """Print the one line that ``exc``, raised by ``minigan command``, deserves; return the exit status.
    Any other exception (a bug) is raised again, traceback and all."""
    from .backend import BackendUnavailable
    from .interrupts import Interrupted
    from .storage import CheckpointError
    from .train import TrainingDiverged

    if isinstance(exc, Interrupted):
        print(f"minigan {command}: {exc}", file=sys.stderr)
        return exc.exit_status
    if isinstance(exc, KeyboardInterrupt):
        print(f"minigan {command}: interrupted (Ctrl-C)", file=sys.stderr)
        return 128 + signal.SIGINT
    if isinstance(exc, TrainingDiverged):
        print(f"minigan {command}: error: {exc}", file=sys.stderr)
        return 1
    if isinstance(exc, MemoryError):
        print(f"minigan {command}: error: out of memory ({exc or 'an array too large for this machine'}); "
              f"try a smaller --batch-size or --width", file=sys.stderr)
        return 2
    if isinstance(exc, (ValueError, OSError, CheckpointError, BackendUnavailable)):
        # ValueError: a bad option, config, data file or checkpoint; OSError: a file or folder that
        # cannot be read or written; BackendUnavailable: CuPy or a GPU missing.
        print(f"minigan {command}: error: {exc}", file=sys.stderr)
        return 2
    raise exc


def _import_backend():
    """Import the backend. Where MINIGAN_BACKEND names one that cannot start here, start on NumPy and
    return the error: it is reported only by a command that takes its default backend from it."""
    import os

    try:
        from . import backend  # noqa: F401  (its first import reads MINIGAN_BACKEND)
        return None
    except (ValueError, RuntimeError) as exc:
        requested = os.environ.pop("MINIGAN_BACKEND")
        try:
            from . import backend  # noqa: F401,F811
        finally:
            os.environ["MINIGAN_BACKEND"] = requested  # a restarted process (--threads) sees it too
        return exc

