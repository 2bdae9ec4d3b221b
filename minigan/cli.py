"""The ``minigan`` command line: train, sample (DESIGN.md, "Trainer, command line and run folders")."""
from __future__ import annotations

import argparse
import datetime
import json
import sys
from pathlib import Path

from . import __version__

# Options of `minigan train` that map one-to-one onto config keys. Their argparse default is
# None so that --resume can tell "given again" from "not given" (config.json supplies the rest).
TRAIN_OPTIONS = [
    ("--dataset", str, "ring8 | grid25 | digits | mnist | fashion-mnist (default: digits, embedded, no download)"),
    ("--arch", str, "mlp2d | mlp | dcgan | convd (default depends on the dataset; dcgan on 28x28 is dcgan28)"),
    ("--loss", str, "nonsaturating | minimax | lsgan | hinge | wasserstein"),
    ("--steps", int, "the run's TOTAL number of generator steps"),
    ("--batch-size", int, "batch size"),
    ("--seed", int, "random seed (same seed, same backend: same result)"),
    ("--backend", str, "numpy | cupy"),
    ("--lr-g", float, "generator learning rate (Adam)"),
    ("--lr-d", float, "discriminator learning rate (Adam)"),
    ("--beta1", float, "Adam beta1"),
    ("--beta2", float, "Adam beta2"),
    ("--d-steps", int, "discriminator steps per generator step"),
    ("--pack", int, "PacGAN packing: D judges this many samples at once"),
    ("--clip", float, "clip each model's global gradient norm to this value"),
    ("--z-dim", int, "noise dimension"),
    ("--width", int, "architecture width (hidden units or base channels)"),
    ("--output-scale", float, "fixed gain on the toy generator's output (arch mlp2d only)"),
    ("--z-categories", int, "make z's first coordinate a one-hot code over this many equal-mass categories "
                            "(mixture of generators; arch mlp2d only; 0: off)"),
    ("--z-noise-scale", float, "scale of the other noise coordinates beside --z-categories' code (arch mlp2d only)"),
    ("--ema", float, "keep an exponential moving average of G's weights with this decay (e.g. 0.999)"),
    ("--r1", float, "R1 penalty weight gamma: gamma/2 * mean |dD/dx|^2 on real data (0: off)"),
    ("--lr-schedule", str, "constant | linear (decay both learning rates to 0 over --steps)"),
    ("--log-every", int, "steps between history rows"),
    ("--checkpoint-every", int, "steps between checkpoints"),
    ("--frames", int, "frames of the fixed-noise grid in progress.gif (0: none)"),
    ("--data-dir", str, "folder with the MNIST / Fashion-MNIST IDX files (default: the user cache folder)"),
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="minigan", description="A from-scratch GAN library on NumPy or CuPy.")
    parser.add_argument("--version", action="version", version=f"minigan {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    train = sub.add_parser("train", help="train a GAN into a run folder")
    for flag, kind, text in TRAIN_OPTIONS:
        train.add_argument(flag, type=kind, default=None, help=text)
    train.add_argument("--out", type=Path, default=None, help="run folder (default: runs/<dataset>-<date>-<time>)")
    train.add_argument("--resume", action="store_true", help="continue the run in --out until --steps")
    train.add_argument("--threads", type=int, default=None,
                       help="BLAS threads (on a busy machine, 1 can be several times faster than the default)")
    train.add_argument("--download", action="store_true", default=None,
                       help="download missing MNIST / Fashion-MNIST files (checksums verified)")

    sample = sub.add_parser("sample", help="draw samples from a trained run")
    sample.add_argument("run_dir", type=Path)
    sample.add_argument("-n", type=int, default=64, help="number of samples")
    sample.add_argument("--seed", type=int, default=0)
    sample.add_argument("--out", type=Path, required=True, help="FILE.npy (float32 arrays) or FILE.png (picture)")
    evaluate = sub.add_parser("evaluate", help="score a run's samples beside real held-out data")
    evaluate.add_argument("run_dir", type=Path)
    evaluate.add_argument("-n", type=int, default=None, help="number of generated samples (default: as many as "
                                                             "the held-out real images; 2,500 for 2-D data)")
    evaluate.add_argument("--seed", type=int, default=0)

    bench = sub.add_parser("bench", help="milliseconds per training iteration, beside PyTorch if installed")
    bench.add_argument("--arch", choices=["mlp", "dcgan28", "all"], default="all")
    bench.add_argument("--backend", choices=["numpy", "cupy"], default=None)
    bench.add_argument("--batch", type=int, default=64)
    bench.add_argument("--threads", type=int, default=None, help="BLAS (and PyTorch) threads")
    bench.add_argument("--rounds", type=int, default=7, help="timed rounds (the median is reported)")
    bench.add_argument("--memory", action="store_true",
                       help="also measure peak memory of 5 iterations, each framework in a fresh process (CPU)")
    bench.add_argument("--json", action="store_true", help="print JSON instead of a table")
    return parser


BLAS_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def _given(args) -> dict:
    """The train options given on the command line, as config keys."""
    keys = [flag[2:].replace("-", "_") for flag, _, _ in TRAIN_OPTIONS] + ["download"]
    return {k: getattr(args, k) for k in keys if getattr(args, k) is not None}


def cmd_train(args) -> int:
    use_blas_threads(args.threads)
    from .run import default_config, read_config, train_run

    given = _given(args)
    if args.resume:
        if args.out is None:
            raise ValueError("--resume needs --out RUN_DIR (the run to continue)")
        config = {**read_config(args.out), **given}
    else:
        config = {**default_config(given.get("dataset", "digits")), **given}
        if args.out is None:
            stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
            args.out = Path("runs") / f"{config['dataset']}-{stamp}"
    print(f"run folder: {args.out}")
    metrics = train_run(config, args.out, resume=args.resume)
    shown = {k: v for k, v in metrics.items() if not isinstance(v, list)}
    print("metrics:", json.dumps(shown))
    print(f"wrote {args.out}/samples.png, losses.png, history.csv, metrics.json, checkpoint.npz")
    return 0


def cmd_sample(args) -> int:
    from .run import sample_run

    sample_run(args.run_dir, args.n, args.seed, args.out)
    print(f"wrote {args.n} samples to {args.out}")
    return 0


def cmd_evaluate(args) -> int:
    from .evaluate import evaluate_run

    evaluate_run(args.run_dir, args.n, args.seed)
    print(f"wrote {args.run_dir / 'metrics.json'}")
    return 0


def use_blas_threads(threads) -> None:
    """Run with ``threads`` BLAS threads. BLAS reads its thread count when NumPy loads, so when the
    variables do not say so already, the command starts again (same arguments) with them set."""
    import os

    if threads and any(os.environ.get(v) != str(threads) for v in BLAS_THREAD_VARIABLES):
        for v in BLAS_THREAD_VARIABLES:
            os.environ[v] = str(threads)
        os.execv(sys.executable, [sys.executable, "-m", "minigan", *sys.argv[1:]])


def cmd_bench(args) -> int:
    use_blas_threads(args.threads)
    from . import backend
    from .bench import bench_arch, format_row

    if args.backend:
        backend.use(args.backend)
    arches = ["mlp", "dcgan28"] if args.arch == "all" else [args.arch]
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


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    from .io import CheckpointError
    from .train import TrainingDiverged

    try:
        commands = {"train": cmd_train, "sample": cmd_sample, "evaluate": cmd_evaluate, "bench": cmd_bench}
        return commands[args.command](args)
    except (ValueError, FileNotFoundError, CheckpointError, TrainingDiverged) as exc:
        print(f"minigan {args.command}: error: {exc}", file=sys.stderr)
        return 2 if not isinstance(exc, TrainingDiverged) else 1
