"""PyTorch's DCGAN loop on minigan's data, scored by minigan's own evaluation: the yardstick for
minigan's MNIST recipe. PyTorch is needed here only (pip install torch); minigan never imports it.

The networks are minigan.bench's PyTorch twins of the dcgan28 benchmark architecture. The loop is
the one of PyTorch's DCGAN example (pytorch/examples, dcgan/main.py): its weight initialisation
(convolutions N(0, 0.02), BatchNorm weights N(1, 0.02)), Adam(2e-4, (0.5, 0.999)) on both players
at a constant learning rate, one D step on a real and a fake batch, then one G step on THE SAME
fakes (``--g-noise fresh`` draws new ones instead), shuffled epochs of whole batches. The images
and the held-out split are exactly those of ``minigan train --dataset mnist --holdout F``, and the
samples (drawn with G in eval mode, as minigan samples) are scored by
``minigan.evaluate.evaluate_samples``, the code behind ``minigan evaluate``.

    python benchmarks/pytorch_dcgan.py --data-dir ../shared/data/mnist --holdout 0.2 \\
        --steps 10000 --seed 0 --threads 1 --out runs/torch-mnist-s0

writes OUT/samples.npy (float32 (n, 1, 28, 28) in [-1, 1]), OUT/samples.png and OUT/metrics.json
(the figures, the recipe, the seconds), and prints the table minigan evaluate prints.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="mnist", help="an image data set of 28x28 images (default mnist)")
    parser.add_argument("--data-dir", default=None, help="folder with the IDX files")
    parser.add_argument("--holdout", type=float, default=0.2, help="as minigan train --holdout (default 0.2)")
    parser.add_argument("--steps", type=int, default=10000, help="generator steps (default 10,000)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=2e-4)
    parser.add_argument("--lr-schedule", choices=("constant", "linear"), default="constant",
                        help="constant (the example) or linear decay to 0 over --steps")
    parser.add_argument("--g-noise", choices=("reuse", "fresh"), default="reuse",
                        help="G's step on the D step's fakes (the example) or on fresh noise")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None, help="PyTorch CPU threads")
    parser.add_argument("--out", required=True, help="output folder")
    return parser.parse_args(argv)


def dcgan_init(module) -> None:
    """The DCGAN example's weights_init: convolutions N(0, 0.02); BatchNorm weight N(1, 0.02), bias 0."""
    import torch.nn as nn

    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(module.weight, 0.0, 0.02)
    elif isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


def train(args, images):
    """Train G and D on ``images`` (float32 (N, 1, 28, 28) in [-1, 1]); returns (G, seconds)."""
    import numpy as np
    import torch
    from torch import nn

    from minigan.bench import Z_DIM, torch_models

    torch.manual_seed(args.seed)
    G, D = torch_models("dcgan28", channels=images.shape[1])
    G.apply(dcgan_init)
    D.apply(dcgan_init)
    opt_g = torch.optim.Adam(G.parameters(), lr=args.lr, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=args.lr, betas=(0.5, 0.999))
    bce = nn.BCEWithLogitsLoss()
    data = torch.from_numpy(images)
    order = np.random.default_rng(args.seed)
    B = args.batch_size
    ones, zeros = torch.ones(B, 1), torch.zeros(B, 1)
    batches, step, start = [], 0, time.perf_counter()
    while step < args.steps:
        if not batches:  # a new epoch: shuffled, whole batches only (BatchNorm needs a real batch)
            perm = order.permutation(len(data))
            batches = [perm[i:i + B] for i in range(0, len(perm) - B + 1, B)]
        real = data[batches.pop(0)]
        if args.lr_schedule == "linear":
            for opt in (opt_g, opt_d):
                for group in opt.param_groups:
                    group["lr"] = args.lr * (1 - step / args.steps)
        # (1) D: maximise log D(x) + log(1 - D(G(z)))
        D.zero_grad()
        out_real = D(real)
        loss_d = bce(out_real, ones)
        loss_d.backward()
        fake = G(torch.randn(B, Z_DIM))
        out_fake = D(fake.detach())
        loss_fake = bce(out_fake, zeros)
        loss_fake.backward()
        opt_d.step()
        # (2) G: maximise log D(G(z)), on the same fakes unless --g-noise fresh
        G.zero_grad()
        if args.g_noise == "fresh":
            fake = G(torch.randn(B, Z_DIM))
        out_g = D(fake)
        loss_g = bce(out_g, ones)
        loss_g.backward()
        opt_g.step()
        step += 1
        if step % 1000 == 0 or step == args.steps:
            print(f"step {step}/{args.steps}: loss_d {loss_d.item() + loss_fake.item():.3f} "
                  f"loss_g {loss_g.item():.3f} D(x) {torch.sigmoid(out_real).mean().item():.3f} "
                  f"D(G(z)) {torch.sigmoid(out_fake).mean().item():.3f} "
                  f"({time.perf_counter() - start:.0f} s)", flush=True)
    return G, time.perf_counter() - start


def main(argv=None) -> int:
    args = parse_args(argv)
    import numpy as np
    import torch

    from minigan.evaluate import evaluate_samples
    from minigan.storage import write_json
    from minigan.metrics import format_table
    from minigan.datasource import real_images, split_holdout
    from minigan.viz import save_image_grid

    if args.threads:
        torch.set_num_threads(args.threads)
    config = {"dataset": args.dataset, "data_dir": args.data_dir, "download": False, "holdout": args.holdout}
    (train_images, _), _ = split_holdout(config, *real_images(config))
    G, seconds = train(args, np.ascontiguousarray(train_images, dtype=np.float32))

    def sample(n):
        G.eval()
        generator = torch.Generator().manual_seed(args.seed)
        with torch.no_grad():
            z = torch.randn(n, 100, generator=generator)
            return torch.cat([G(z[i:i + 500]) for i in range(0, n, 500)]).numpy().astype(np.float32)

    figures = evaluate_samples(config, sample, seed=0)
    print(format_table(figures))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    samples = sample(figures["num_samples"])
    np.save(out / "samples.npy", samples, allow_pickle=False)
    save_image_grid(samples[:64], out / "samples.png", title=f"PyTorch DCGAN, {args.steps} steps")
    write_json(out / "metrics.json", {"images": figures, "seconds": seconds, "recipe": vars(args),
                                      "torch": torch.__version__})
    print(f"written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
