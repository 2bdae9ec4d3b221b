"""PyTorch's DCGAN loop on minigan's data, scored by minigan's own evaluation: the yardstick for
minigan's image recipes. PyTorch is needed here only (pip install torch); minigan never imports it.

The networks are minigan.bench's PyTorch twins of minigan's architectures, layer for layer:
``--arch dcgan`` (the default) is ``minigan.models.dcgan`` at the data's size (its number of stages
from the image side, ``--width`` base channels, the Dense projection -> BN1d, D's Dense logit, biases
where minigan has them; on 28x28 it is the dcgan28 benchmark network), ``--arch dcgan32|dcgan64``
PyTorch's DCGAN example's own networks (no biases). The channels come from the data set. The loop is
the one of PyTorch's DCGAN example (pytorch/examples, dcgan/main.py): Adam(2e-4, (0.5, 0.999)) on
both players at a constant learning rate, one D step on a real and a fake batch, then one G step on
THE SAME fakes (``--g-noise fresh`` draws new ones instead), shuffled epochs of whole batches, and
its initialisation: convolution weights N(0, 0.02), BatchNorm weights N(1, 0.02) and biases 0, Linear
layers and biases as PyTorch leaves them. ``--init minigan`` starts the weights as minigan's instead
(``minigan.layers.dcgan_init``: Linear, convolution and transposed convolution weights N(0, 0.02),
biases 0, BatchNorm as above).
The data set, image size, held-out split and default z_dim and width are exactly those of
``minigan train --dataset D --holdout F [--image-size S] [--arch A] [--width W] [--z-dim Z]``
(the config goes through ``minigan.options.make_config`` and ``validate``), and the samples (drawn
with G in eval mode, as minigan samples) are scored by ``minigan.evaluate.evaluate_samples``, the
code behind ``minigan evaluate``.

    python benchmarks/pytorch_dcgan.py --data-dir ../shared/data/mnist --holdout 0.2 \\
        --steps 10000 --seed 0 --threads 1 --out runs/torch-mnist-s0
    python benchmarks/pytorch_dcgan.py --dataset emoji-google --data-dir ../shared/data/emoji \\
        --holdout 0.2 --steps 5000 --seed 0 --threads 1 --out runs/torch-emoji-s0

writes OUT/samples.npy (float32 (n, C, H, W) in [-1, 1]), OUT/samples.png and OUT/metrics.json
(the figures, the recipe, the config, the seconds), and prints the table minigan evaluate prints.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def parse_args(argv=None):
    from minigan.bench import TORCH_TWINS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="mnist", help="a minigan image data set (default mnist)")
    parser.add_argument("--data-dir", default=None, help="where the data set's files are (as minigan train's)")
    parser.add_argument("--download", action="store_true", help="download missing files (as minigan train's)")
    parser.add_argument("--image-size", type=int, default=None,
                        help="the images' side, for a set that makes them (emoji: 16, 32 or 64)")
    parser.add_argument("--holdout", type=float, default=0.2, help="as minigan train --holdout (default 0.2)")
    parser.add_argument("--arch", choices=sorted(TORCH_TWINS), default=None,
                        help="minigan's architecture, built in PyTorch (default: the data set's)")
    parser.add_argument("--width", type=int, default=None,
                        help="base channels (default: the data set's, as minigan train's)")
    parser.add_argument("--z-dim", type=int, default=None,
                        help="noise dimension (default: the data set's, as minigan train's)")
    parser.add_argument("--init", choices=("example", "minigan"), default="example",
                        help="the example's initialisation (default: convolutions and BatchNorm; Linear layers keep "
                             "PyTorch's own) or minigan's (every weight N(0, 0.02), biases 0)")
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


def make_config(args) -> dict:
    """The config of ``minigan train`` with these options (defaults from the data set), validated."""
    from minigan import data
    from minigan.errors import OptionError
    from minigan.options import make_config as minigan_config, validate

    options = {"dataset": args.dataset, "data_dir": args.data_dir, "download": args.download,
               "holdout": args.holdout}
    for name in ("image_size", "arch", "width", "z_dim"):
        if getattr(args, name) is not None:
            options[name] = getattr(args, name)
    try:
        dataset = data.get(args.dataset)
    except ValueError as exc:
        raise SystemExit(f"pytorch_dcgan.py: {exc}") from None
    if dataset.kind != "images" or dataset.stack_of:
        raise SystemExit(f"--dataset {args.dataset}: expected a set of images (not 2-D points, not a stacked "
                         f"set: train those with minigan train)")
    try:
        return validate(minigan_config(options))
    except OptionError as exc:  # one line, as minigan train says it
        raise SystemExit(f"pytorch_dcgan.py: {exc}") from None


def dcgan_init(module) -> None:
    """minigan's DCGAN initialisation (``minigan.layers.dcgan_init``), for ``module.apply``: Linear,
    convolution and transposed convolution weights N(0, 0.02), biases 0; BatchNorm weight N(1, 0.02), bias 0."""
    import torch.nn as nn

    if isinstance(module, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


def example_init(module) -> None:
    """The DCGAN example's weights_init: convolutions N(0, 0.02); BatchNorm weight N(1, 0.02), bias 0
    (Linear layers and convolution biases keep PyTorch's defaults)."""
    import torch.nn as nn

    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(module.weight, 0.0, 0.02)
    elif isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


def build(args, config):
    """(G, D): the PyTorch twins of the config's architecture on its data shape, initialised as
    minigan.models.build initialises it (``--init minigan``) or as the DCGAN example does."""
    from minigan import models
    from minigan.bench import torch_models
    from minigan.datasource import data_shape
    from minigan.options import arch_options

    options = {k: v for k, v in arch_options(config).items() if k != "spectral_norm"}
    G, D = torch_models(config["arch"], data_shape(config), config["z_dim"], **options)
    init = example_init if args.init == "example" else dcgan_init
    if args.init == "example" or models.get(config["arch"]).dcgan_init:
        G.apply(init)
        D.apply(init)
    return G, D


def train(args, config, images):
    """Train G and D on ``images`` (float32 (N, C, H, W) in [-1, 1]); returns (G, seconds)."""
    import numpy as np
    import torch
    from torch import nn

    torch.manual_seed(args.seed)
    G, D = build(args, config)
    z_dim = config["z_dim"]
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
        fake = G(torch.randn(B, z_dim))
        out_fake = D(fake.detach())
        loss_fake = bce(out_fake, zeros)
        loss_fake.backward()
        opt_d.step()
        # (2) G: maximise log D(G(z)), on the same fakes unless --g-noise fresh
        G.zero_grad()
        if args.g_noise == "fresh":
            fake = G(torch.randn(B, z_dim))
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
    from minigan.datasource import data_shape, real_images, split_holdout
    from minigan.viz import save_image_grid

    if args.threads:
        torch.set_num_threads(args.threads)
    config = make_config(args)
    print(f"{config['dataset']} {data_shape(config)}, arch {config['arch']}, width {config['width']}, "
          f"z_dim {config['z_dim']}, holdout {config['holdout']}", flush=True)
    (train_images, _), _ = split_holdout(config, *real_images(config))
    G, seconds = train(args, config, np.ascontiguousarray(train_images, dtype=np.float32))

    def sample(n):
        G.eval()
        generator = torch.Generator().manual_seed(args.seed)
        with torch.no_grad():
            z = torch.randn(n, config["z_dim"], generator=generator)
            return torch.cat([G(z[i:i + 500]) for i in range(0, n, 500)]).numpy().astype(np.float32)

    figures = evaluate_samples(config, sample, seed=0)
    print(format_table(figures))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    samples = sample(figures["num_samples"])
    np.save(out / "samples.npy", samples, allow_pickle=False)
    save_image_grid(samples[:64], out / "samples.png", title=f"PyTorch {config['arch']}, {args.steps} steps")
    write_json(out / "metrics.json", {"images": figures, "seconds": seconds, "recipe": vars(args),
                                      "config": config, "torch": torch.__version__})
    print(f"written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
