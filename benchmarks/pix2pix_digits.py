"""A conditional U-Net GAN (pix2pix) against the baselines, on the held-out 30 % of the digits.

Two tasks, each trained on the first 70 % of the digits (the split of ``minigan train --holdout
0.3``) and scored on the other 539:

  inpainting   the bottom half lost (minigan.inpaint's "bottom" mask): the U-Net's fill beside
               restoration by optimising z in an unconditional GAN (``minigan.inpaint.restore``,
               its defaults), the nearest training digit on the visible half, a background fill
               (the lost pixels set to -1) and the clean images; the masked-pixel MSE and the
               evaluation classifier's accuracy on the restored images (known pixels pasted back,
               for every method alike);
  4x4 -> 8x8   super-resolution: the U-Net beside nearest and bilinear upsampling of the 4x4
               averages and the clean images; the MSE over all pixels and the accuracy.

The split, the fills, the classifier and the scores are benchmarks/restoration.py's (the yardstick
of ``minigan inpaint``'s measurement): the classifier is the one ``minigan evaluate`` scores digits
runs with, trained on ALL the digits (held-out ones too), cached. The unconditional GAN is a run
folder of ``minigan train --dataset digits --holdout 0.3`` (``--gan-run``), or, without one, such a
run trained here with the digits defaults into OUT/digits-gan.

    python benchmarks/pix2pix_digits.py --out runs/pix2pix-digits [--gan-run DIR] [--seed 0]

writes OUT/metrics.json (every figure, the recipe, the seconds) and prints the two tables of
docs/experiments.md.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

HOLDOUT = 0.3


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="output folder (created)")
    parser.add_argument("--gan-run", default=None,
                        help="a run folder of minigan train --dataset digits --holdout 0.3 for the z-optimisation "
                             "(default: train one into OUT/digits-gan)")
    parser.add_argument("--steps", type=int, default=3000, help="pix2pix steps per task (default 3,000)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--width", type=int, default=32, help="the U-Net's and the patch D's base channels")
    parser.add_argument("--l1-weight", type=float, default=100.0, help="lambda of the L1 term (default 100)")
    parser.add_argument("--lr", type=float, default=2e-4, help="Adam's rate for both players (default 2e-4)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    for name in ("steps", "batch_size", "width"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} {getattr(args, name)}: expected an integer >= 1")
    if not args.lr > 0 or not args.l1_weight >= 0:
        parser.error(f"--lr {args.lr} / --l1-weight {args.l1_weight}: expected lr > 0 and l1-weight >= 0")
    return args


def gan_run(args, out: Path, log):
    """(config, gan, folder) of the unconditional digits GAN: --gan-run, or one trained into OUT/digits-gan."""
    from minigan import loop, options, run

    path = Path(args.gan_run) if args.gan_run else out / "digits-gan"
    if not (path / "checkpoint.npz").is_file():
        if args.gan_run:
            raise SystemExit(f"--gan-run {path}: no checkpoint.npz there; expected a minigan train run folder")
        log(f"training the unconditional GAN: minigan train --dataset digits --holdout {HOLDOUT} --out {path}")
        loop.train_run(options.make_config({"dataset": "digits", "holdout": HOLDOUT, "seed": args.seed}), path,
                      log=log)
    config, gan = run.load_run(path)
    if config["dataset"] != "digits" or config["holdout"] != HOLDOUT:
        raise SystemExit(f"--gan-run {path}: trained on {config['dataset']} with --holdout {config['holdout']}; "
                         f"expected digits with --holdout {HOLDOUT} (its G must not have seen the test digits)")
    return config, gan, path


def train_pix2pix(args, inputs, targets, log):
    """A U-Net G and a patch D trained on (inputs, targets) (backend arrays); returns (G, seconds)."""
    from minigan import backend
    from minigan.pix2pix import Pix2Pix, pair_sampler, patch_discriminator, unet_generator

    backend.seed(args.seed)
    c_in, c_out = inputs.shape[1], targets.shape[1]
    trainer = Pix2Pix(unet_generator(c_in, c_out, args.width), patch_discriminator(c_in + c_out, args.width),
                      l1_weight=args.l1_weight, lr_g=args.lr, lr_d=args.lr, seed=args.seed)
    start = time.perf_counter()

    def on_step(figures):
        if trainer.step % max(1, args.steps // 5) == 0:
            log(f"  step {trainer.step}: L1 {figures['l1']:.4f}, loss_adv {figures['loss_adv']:.3f}, "
                f"loss_d {figures['loss_d']:.3f}, d_real {figures['d_real']:.3f}, "
                f"d_fake {figures['d_fake_before']:.3f}")

    trainer.fit(pair_sampler(inputs, targets), args.steps, args.batch_size, on_step)
    return trainer.G, time.perf_counter() - start


def table(rows, error_name: str) -> str:
    """A markdown table, one row per (method, {"masked_mse": error, "accuracy": accuracy})."""
    lines = [f"| method | {error_name} | classifier accuracy |", "| --- | --- | --- |"]
    lines += [f"| {name} | {f['masked_mse']:.4f} | {100 * f['accuracy']:.1f} % |" for name, f in rows.items()]
    return "\n".join(lines)


def main(argv=None):
    args = parse_args(argv)
    import numpy as np

    from minigan import backend
    from minigan.inpaint import named_mask, restore
    from minigan.storage import write_json
    from minigan.pix2pix import (bilinear_upsample, downsample, inpainting_inputs, paste_known,
                                 super_resolution_inputs, translate)
    from restoration import background_fill, evaluation_classifier, held_out, nearest_neighbour_fill, score

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    def log(line):
        print(line, flush=True)

    config, gan, run_dir = gan_run(args, out, log)
    split = held_out(run_dir, log)                  # the run's 70 / 30 split of the digits
    train, test, labels = split["train"], split["images"], split["labels"]
    classifier, classifier_accuracy = evaluation_classifier(split, log=log)
    mask = named_mask("bottom", test.shape[1:])     # (1, 1, 8, 8), 1 = known
    x_train, x_test = backend.asarray(train), backend.asarray(test)
    figures = {"holdout": HOLDOUT, "test_images": len(test), "recipe": vars(args), "gan_run": str(run_dir),
               "classifier_heldout_accuracy": classifier_accuracy}

    # -- inpainting: scored on the lost pixels, the known ones pasted back ------------------------------
    log(f"inpainting: pix2pix, {args.steps} steps on {len(train)} digits")
    G, seconds = train_pix2pix(args, inpainting_inputs(x_train, backend.asarray(mask)), x_train, log)
    unet = paste_known(translate(G, inpainting_inputs(x_test, backend.asarray(mask))), test, mask)
    log(f"inpainting: z-optimisation (minigan.inpaint.restore, its defaults), G of {run_dir}")
    start = time.perf_counter()
    zopt = restore(gan.G_ema or gan.G, gan.D, test, mask, gan.z_dim, seed=args.seed).images.astype(np.float32)
    z_seconds = time.perf_counter() - start
    rows = {"U-Net (pix2pix)": unet, "z-optimisation": zopt,
            "nearest training neighbour (visible half)": nearest_neighbour_fill(test, mask, train),
            "background fill (-1)": background_fill(test, mask), "clean images": test}
    inpaint = {name: score(x, test, labels, mask, classifier) for name, x in rows.items()}
    figures["inpainting"] = dict(inpaint, seconds={"pix2pix_training": seconds, "z_optimisation": z_seconds})

    # -- super-resolution: scored on every pixel (score's masked_mse with nothing known) ------------------
    log(f"super-resolution: pix2pix, {args.steps} steps on {len(train)} digits")
    G, seconds = train_pix2pix(args, super_resolution_inputs(x_train), x_train, log)
    small = downsample(test)
    rows = {"U-Net (pix2pix)": translate(G, super_resolution_inputs(x_test)),
            "bilinear upsampling": bilinear_upsample(small), "nearest upsampling": super_resolution_inputs(test),
            "clean images": test}
    everywhere = np.zeros_like(mask)
    sr = {name: score(x, test, labels, everywhere, classifier) for name, x in rows.items()}
    figures["super_resolution"] = dict(sr, seconds={"pix2pix_training": seconds})

    write_json(out / "metrics.json", figures)
    print(f"\ninpainting the bottom half, {len(test)} held-out digits\n" + table(inpaint, "masked-pixel MSE"))
    print(f"\n4x4 -> 8x8 super-resolution, {len(test)} held-out digits\n" + table(sr, "MSE"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
