"""Ready generator/discriminator pairs, built from minigan's layers.

``build(arch, data_shape, z_dim, pack)`` returns ``(G, D)``:
  G maps noise (N, z_dim) to data of shape (N, *data_shape);
  D maps a batch of ``pack`` samples glued together (PacGAN) to logits (N / pack, 1).
Packing reshapes (N, C, ...) to (N / pack, pack * C, ...): for 2-D points the
pack's coordinates sit side by side, for images its channels are stacked, so D's
first layer simply takes ``pack`` times as many inputs.

Architectures (the image ones with the DCGAN initialisation, normal std 0.02; the toy
MLP keeps the layers' default fan-in initialisation, under which its signals neither
shrink nor blow up layer after layer, so G reaches the grid's +-4 from the start):
  "mlp2d"  toy 2-D data: G z -> [Dense h -> ReLU] x depth -> Dense 2 [-> Scale(output_scale)], the first
           Dense a CodedDense (a categorical code, then Dense) when z_categories is set
           (no BatchNorm: eval-mode running statistics would blur modes only 0.01 wide);
           D 2*pack -> [Dense h -> LeakyReLU 0.2] x depth -> Dense 1, its first layer's weights
           scaled by 0.1 at init (D then resolves the narrow blobs far sooner).
  "mlp"    the seed MLP GAN: G z -> 256 -> 512 -> 1024 (each Dense -> LeakyReLU 0.2 -> BN)
           -> Dense prod(data_shape) -> tanh; D prod(data_shape) -> 512 -> 256 (LeakyReLU 0.2) -> 1.
  "dcgan"  images whose side is a multiple of 4 (28x28 gives "dcgan28" of DESIGN.md, 8x8 the small
           conv pair for the embedded digits): G z -> Dense 2c*(H/4)*(W/4) -> BN1d -> ReLU ->
           reshape -> ConvT(2c -> c, k4 s2 p1) -> BN2d -> ReLU -> ConvT(c -> C, k4 s2 p1) -> tanh;
           D Conv(C -> c, k4 s2 p1) -> LeakyReLU 0.2 -> Conv(c -> 2c, k4 s2 p1) -> BN2d -> LeakyReLU
           -> Flatten -> Dense 1; c = 64 unless ``width`` says otherwise. A layer that feeds a
           BatchNorm has no bias (as in PyTorch's DCGAN): BN subtracts the per-channel mean,
           so such a bias would do nothing and its gradient is exactly zero.
  "convd"  the "mlp" generator with a conv discriminator: Conv 32 -> 64 -> 128 (each k4 s2 p1 ->
           LeakyReLU 0.2) -> Flatten -> Dense 1; the sizes follow from the image size.
"""
from __future__ import annotations

import math

from .layers.conv_ops import conv_out_size
from .layers import (BatchNorm1d, BatchNorm2d, CodedDense, Conv2d, ConvTranspose2d, Dense, Flatten, LeakyReLU,
                     ReLU, Reshape, Scale, Sequential, Tanh, dcgan_init)

ARCHS = ("mlp2d", "mlp", "dcgan", "convd")
# Options only mlp2d takes, with the value that leaves them off.
MLP2D_OPTIONS = {"output_scale": 1.0, "z_categories": 0, "z_noise_scale": 1.0}


def mlp2d(z_dim: int, pack: int = 1, width: int = 256, depth: int = 3, output_scale: float = 1.0,
          z_categories: int = 0, z_noise_scale: float = 1.0):
    """Toy pair for 2-D mixtures. G: (N, z_dim) -> (N, 2); D: (N/pack, 2*pack) -> (N/pack, 1).

    output_scale: a fixed gain c on G's last layer, x = c (W h + b). Every Adam step then moves
    G's points c times further, and its first outputs spread c times wider: on the grid (+-4,
    modes 2 apart) c = 2 lets G reach and separate the columns and rows sooner.
    z_categories: K >= 2 turns z[:, 0] into a one-hot code over K equal-mass categories
    (``layers.CategoricalCode``, fused with G's first Dense as ``layers.CodedDense``): G becomes
    K generators sharing all weights but a first-layer bias each, which can sit on separate modes
    without bridges between them. z_noise_scale shrinks the other z_dim - 1 noise coordinates, so
    that each category starts out compact.
    """
    if z_noise_scale != 1.0 and not z_categories:
        raise ValueError("z_noise_scale scales the noise beside the categorical code: it needs z_categories >= 2")
    g_layers, d_layers = [], []
    n_in = z_dim
    for i in range(depth):
        if i == 0 and z_categories:  # CategoricalCode -> Dense, fused: the same result without a one-hot GEMM
            g_layers += [CodedDense(z_categories, z_dim, width, z_noise_scale), ReLU()]
        else:
            g_layers += [Dense(n_in, width), ReLU()]
        n_in = width
    G = Sequential(*g_layers, Dense(width, 2), *([Scale(output_scale)] if output_scale != 1 else []))
    n_in = 2 * pack
    for _ in range(depth):
        d_layers += [Dense(n_in, width), LeakyReLU(0.2)]
        n_in = width
    # D's first layer starts with weights 10x smaller than the fan-in default (biases unchanged): its
    # ReLU hyperplanes then lie spread over the data's range (kinks at -b/w) and Adam's fixed-size
    # steps move them 10x faster relative to their size, so D learns the narrow blobs much sooner.
    d_layers[0].params["W"] *= 0.1
    D = Sequential(*d_layers, Dense(width, 1))
    return G, D


def mlp(data_shape, z_dim: int = 100, pack: int = 1):
    """The seed MLP GAN. G: (N, z_dim) -> (N, *data_shape) in [-1, 1]; D: (N/pack, pack*C, H, W) -> (N/pack, 1)."""
    n = math.prod(data_shape)
    g_layers, n_in = [], z_dim
    for width in (256, 512, 1024):
        g_layers += [Dense(n_in, width), LeakyReLU(0.2), BatchNorm1d(width)]
        n_in = width
    G = Sequential(*g_layers, Dense(n_in, n), Tanh(), Reshape(*data_shape))
    D = Sequential(Flatten(), Dense(n * pack, 512), LeakyReLU(0.2), Dense(512, 256), LeakyReLU(0.2), Dense(256, 1))
    return G, D


def dcgan(data_shape, z_dim: int = 100, pack: int = 1, width: int = 64):
    """DCGAN with two stride-2 stages. data_shape (C, H, W), H and W multiples of 4.

    G: (N, z_dim) -> (N, C, H, W) in [-1, 1];  D: (N/pack, pack*C, H, W) -> (N/pack, 1).
    """
    if len(data_shape) != 3 or data_shape[1] % 4 or data_shape[2] % 4:
        raise ValueError(f"dcgan needs images (C, H, W) with H and W multiples of 4, got data shape {data_shape}")
    C, H, W = data_shape
    h, w, c = H // 4, W // 4, width
    G = Sequential(
        Dense(z_dim, 2 * c * h * w, bias=False), BatchNorm1d(2 * c * h * w), ReLU(), Reshape(2 * c, h, w),
        ConvTranspose2d(2 * c, c, 4, 2, 1, bias=False), BatchNorm2d(c), ReLU(),   # -> (c, H/2, W/2)
        ConvTranspose2d(c, C, 4, 2, 1), Tanh(),                              # -> (C, H, W)
    )
    D = Sequential(
        Conv2d(C * pack, c, 4, 2, 1), LeakyReLU(0.2),                        # -> (c, H/2, W/2)
        Conv2d(c, 2 * c, 4, 2, 1, bias=False), BatchNorm2d(2 * c), LeakyReLU(0.2),   # -> (2c, H/4, W/4)
        Flatten(), Dense(2 * c * h * w, 1),
    )
    return G, D


def convd(data_shape, z_dim: int = 100, pack: int = 1):
    """MLP generator, conv discriminator. G: (N, z_dim) -> (N, C, H, W); D: (N/pack, pack*C, H, W) -> (N/pack, 1)."""
    if len(data_shape) != 3:
        raise ValueError(f"convd needs images (C, H, W), got data shape {data_shape}")
    G, _ = mlp(data_shape, z_dim, pack)
    C, H, W = data_shape
    layers, channels = [], C * pack
    for out_ch in (32, 64, 128):
        if min(H, W) + 2 < 4:
            raise ValueError(f"convd: images {data_shape} are too small for three stride-2 convolutions")
        layers += [Conv2d(channels, out_ch, 4, 2, 1), LeakyReLU(0.2)]
        channels, H, W = out_ch, conv_out_size(H, 4, 2, 1), conv_out_size(W, 4, 2, 1)
    D = Sequential(*layers, Flatten(), Dense(channels * H * W, 1))
    return G, D


def build(arch: str, data_shape, z_dim: int, pack: int = 1, **options):
    """Build ``(G, D)`` for ``arch`` (one of ARCHS), initialised as the module docstring says."""
    if arch == "mlp2d":
        if tuple(data_shape) != (2,):
            raise ValueError(f"arch 'mlp2d' is for 2-D points, got data shape {tuple(data_shape)}")
        return mlp2d(z_dim, pack, **options)
    toy_only = sorted(set(options) & set(MLP2D_OPTIONS))
    if toy_only:
        are = "is an option" if len(toy_only) == 1 else "are options"
        raise ValueError(f"{' and '.join(toy_only)} {are} of arch 'mlp2d' only, not of {arch!r}")
    if arch == "mlp":
        G, D = mlp(data_shape, z_dim, pack)
    elif arch == "dcgan":
        G, D = dcgan(data_shape, z_dim, pack, **options)
    elif arch == "convd":
        G, D = convd(data_shape, z_dim, pack)
    else:
        raise ValueError(f"unknown architecture {arch!r}: expected one of {ARCHS}")
    dcgan_init(G)
    dcgan_init(D)
    return G, D
