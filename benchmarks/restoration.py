"""Restoration measured: held-out digits with a part hidden, restored by ``minigan inpaint`` (a gan run:
optimising z; a pix2pix inpaint run: its U-Net) and by two fills that need no GAN, scored by the
evaluation classifier and by the squared error on the hidden pixels.

    minigan train --dataset digits --holdout 0.3 --seed 0 --out runs/digits-h30
      (or: minigan train --model pix2pix --mask bottom --holdout 0.3 --seed 0 --out runs/digits-h30)
    python benchmarks/restoration.py runs/digits-h30 --mask bottom --out runs/digits-h30/restoration

The held-out images are the run's (the last round(F N) of the canonical order, as ``minigan
evaluate`` takes them); the restoration is the command itself (``minigan inpaint``, in this process,
at its defaults unless --steps / --seed say otherwise). Beside it:
  - nearest neighbour: the TRAINING image closest on the visible pixels supplies the hidden ones;
  - background: the hidden pixels set to -1, the digits' background;
  - clean: the held-out images themselves (what a perfect restoration would score).
Scored by the classifier ``minigan evaluate`` uses (``metrics.load_or_train_classifier``, fixed
seed; note that it was trained on ALL the digits, held-out ones included: an instrument, the same
for every run, so the clean column is its accuracy on images it has seen) and by the mean squared
error over the hidden pixels. --prior-weights / --restarts add rows of ``minigan.inpaint.restore``
at other settings (the library, same steps and seed). Writes OUT/restored.npy, OUT/figures.json
and prints a markdown table. The functions (``held_out``, the fills, ``score``) are importable:
any other restoration (a conditional GAN, say) can be scored on the same yardstick.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # run from a checkout: this checkout's minigan
    sys.path.insert(0, str(REPO))


def held_out(run_dir, log=print) -> dict:
    """The run's images, split as ``minigan evaluate`` splits them: a dict with config, train,
    train_labels, images (the held-out ones), labels, all NumPy, images float32 (N, C, H, W) in [-1, 1]."""
    from minigan.datasource import real_images, split_holdout
    from minigan.runfolder import read_config

    config = read_config(run_dir)
    if not config.get("holdout"):
        raise SystemExit(f"{run_dir}: trained without --holdout; expected a run that kept images out")
    all_images, all_labels = real_images(config, log)
    (train, train_labels), (images, labels) = split_holdout(config, all_images, all_labels)
    return {"config": config, "train": train, "train_labels": train_labels, "images": images, "labels": labels,
            "all_images": all_images, "all_labels": all_labels}


from minigan.metrics.restoration import background_fill, nearest_neighbour_fill, score  # noqa: E402


def evaluation_classifier(split: dict, classifier_seed: int = 0, log=print):
    """The classifier of ``minigan evaluate`` for the run's data set (cached), and its accuracy."""
    from minigan.metrics import load_or_train_classifier

    return load_or_train_classifier(split["config"]["dataset"], split["all_images"], split["all_labels"],
                                    seed=classifier_seed, log=log)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path, help="an image run trained with --holdout")
    parser.add_argument("--mask", default="bottom", help="as minigan inpaint --mask (default bottom)")
    parser.add_argument("--steps", type=int, default=None, help="as minigan inpaint --steps (default its own)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--classifier-seed", type=int, default=0)
    parser.add_argument("--prior-weights", default="", help="extra rows: restore at these prior weights, "
                                                            "comma-separated (e.g. 0,0.1)")
    parser.add_argument("--restarts", default="", help="extra rows: restore with these restarts (e.g. 1,16)")
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    from minigan import inpaint
    from minigan.cli import main as minigan
    from minigan.storage import write_json
    from minigan.run import load_run

    args.out.mkdir(parents=True, exist_ok=True)
    split = held_out(args.run_dir)
    images, labels = split["images"], split["labels"]
    mask = inpaint.mask_option(args.mask, images.shape)
    classifier, accuracy = evaluation_classifier(split, args.classifier_seed)
    steps = args.steps or inpaint.STEPS
    np.save(args.out / "held_out.npy", images)
    start = time.perf_counter()
    command = ["inpaint", str(args.run_dir), "--images", str(args.out / "held_out.npy"), "--mask", args.mask,
               "--out", str(args.out / "restored.npy"), "--steps", str(steps), "--seed", str(args.seed)]
    if minigan(command) != 0:
        return 1
    seconds = time.perf_counter() - start
    how = ("a pix2pix run: one pass of its U-Net" if split["config"]["model"] == "pix2pix" else
           f"{steps} steps, {inpaint.RESTARTS} restarts, prior {inpaint.PRIOR_WEIGHT}")
    rows = {f"minigan inpaint ({how})": np.load(args.out / "restored.npy", allow_pickle=False)}
    _, gan = load_run(args.run_dir)
    extra = [("prior_weight", float(w)) for w in filter(None, args.prior_weights.split(","))]
    extra += [("restarts", int(r)) for r in filter(None, args.restarts.split(","))]
    for key, value in extra:
        result = inpaint.restore(gan.G_ema or gan.G, gan.D, images, mask, gan.z_dim, steps=steps, seed=args.seed,
                                 **{key: value})
        rows[f"restore, {key} {value}"] = result.images
    rows["nearest training neighbour (visible half)"] = nearest_neighbour_fill(images, mask, split["train"])
    rows["background fill (-1)"] = background_fill(images, mask)
    rows["clean held-out images"] = images
    figures = {name: score(restored, images, labels, mask, classifier) for name, restored in rows.items()}
    print(f"\n{len(images)} held-out images, mask {args.mask}; classifier held-out accuracy {accuracy:.4f}; "
          f"minigan inpaint took {seconds:.1f} s")
    print("| fill | classifier accuracy | MSE on the hidden pixels |\n| --- | --- | --- |")
    for name, f in figures.items():
        print(f"| {name} | {f['accuracy']:.1%} | {f['masked_mse']:.3f} |")
    write_json(args.out / "figures.json", {"run": str(args.run_dir), "mask": args.mask, "steps": steps,
                                           "seed": args.seed, "num_images": len(images),
                                           "inpaint_seconds": seconds, "classifier_accuracy": accuracy,
                                           "figures": figures})
    return 0


if __name__ == "__main__":
    sys.exit(main())
