"""Ready generator/discriminator pairs, built from minigan's layers.

``build(arch, data_shape, z_dim, pack, **options)`` returns ``(G, D)`` for an architecture of the
registry ``ARCHITECTURES`` (one ``Architecture`` entry each; ``register`` adds one):
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
  "dcgan"  images whose sides are multiples of 4, with k stride-2 stages: k = 2, plus one more for as
           long as the sides / 2^k are even and above 4 (8x8 and 28x28: 2 stages from 2x2 and 7x7; 16x16:
           2 from 4x4; 32x32: 3 from 4x4; 64x64: 4 from 4x4, as in PyTorch's DCGAN example).
           With h, w = H / 2^k, W / 2^k and c = 64 unless ``width`` says otherwise:
           G z -> Dense (2^(k-1) c) h w -> BN1d -> ReLU -> reshape -> [ConvT(2^i c -> 2^(i-1) c, k4 s2 p1)
           -> BN2d -> ReLU for i = k-1 .. 1] -> ConvT(c -> C, k4 s2 p1) -> tanh (channels halving);
           D Conv(C -> c, k4 s2 p1) -> LeakyReLU 0.2 -> [Conv(2^(i-1) c -> 2^i c, k4 s2 p1) -> BN2d ->
           LeakyReLU for i = 1 .. k-1] -> Flatten -> Dense 1 (channels doubling).
           On 28x28 it is the benchmark network "dcgan28", also registered under that name; on 8x8 the
           small conv pair for the embedded digits. A layer that feeds a BatchNorm has no bias (as in
           PyTorch's DCGAN): BN subtracts the per-channel mean, so such a bias would do nothing and its
           gradient is exactly zero.
  "dcgan32", "dcgan64"  the benchmark networks for 32x32 and 64x64 images, PyTorch's DCGAN example's
           form exactly (3 and 4 stages, c = 64): G z as (z, 1, 1) -> ConvT(z -> 2^(k-1) c, k4 s1 p0)
           -> BN2d -> ReLU -> ... -> ConvT(c -> C, k4 s2 p1) -> tanh; D as dcgan's, ending in
           Conv(2^(k-1) c -> 1, k4 s1 p0) (a logit); no layer has a bias. They differ from dcgan's
           first and last layers only: a 4x4 transposed convolution from 1x1 is the same map as
           dcgan's Dense, but its BatchNorm is per channel (BN2d), not per unit (BN1d).
  "convd"  the "mlp" generator with a conv discriminator: Conv 32 -> 64 -> 128 (each k4 s2 p1 ->
           LeakyReLU 0.2) -> Flatten -> Dense 1; the sizes follow from the image size.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

from .layers.conv_ops import conv_out_size
from .registry import Registry
from .layers import (BatchNorm1d, BatchNorm2d, CodedDense, Conv2d, ConvTranspose2d, Dense, Flatten, LeakyReLU,
                     ReLU, Reshape, Scale, Sequential, Tanh, apply_spectral_norm, dcgan_init)


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


def dcgan_stages(H: int, W: int) -> int:
    """The number k of stride-2 stages of "dcgan" on H x W images (H, W multiples of 4): 2, plus one for as
    long as H / 2^k and W / 2^k are both even and above 4 (so a power-of-two side starts from 4x4)."""
    k = 2
    while all((side >> k) % 2 == 0 and (side >> k) > 4 for side in (H, W)):
        k += 1
    return k


def _up_stages(width: int, k: int) -> list:
    """G's middle: [ConvT(2^i c -> 2^(i-1) c, k4 s2 p1) -> BN2d -> ReLU] for i = k-1 .. 1 (each doubles the side)."""
    layers = []
    for i in range(k - 1, 0, -1):
        layers += [ConvTranspose2d(width << i, width << (i - 1), 4, 2, 1, bias=False), BatchNorm2d(width << (i - 1)),
                   ReLU()]
    return layers


def _down_stages(width: int, k: int) -> list:
    """D's middle: [Conv(2^(i-1) c -> 2^i c, k4 s2 p1) -> BN2d -> LeakyReLU 0.2] for i = 1 .. k-1 (each halves it)."""
    layers = []
    for i in range(1, k):
        layers += [Conv2d(width << (i - 1), width << i, 4, 2, 1, bias=False), BatchNorm2d(width << i), LeakyReLU(0.2)]
    return layers


def dcgan(data_shape, z_dim: int = 100, pack: int = 1, width: int = 64):
    """DCGAN with k = ``dcgan_stages(H, W)`` stride-2 stages. data_shape (C, H, W), H and W multiples of 4.

    G: (N, z_dim) -> (N, C, H, W) in [-1, 1];  D: (N/pack, pack*C, H, W) -> (N/pack, 1).
    """
    _sides_multiple_of_4("dcgan", data_shape)
    C, H, W = data_shape
    k = dcgan_stages(H, W)
    h, w, top = H >> k, W >> k, width << (k - 1)
    G = Sequential(Dense(z_dim, top * h * w, bias=False), BatchNorm1d(top * h * w), ReLU(), Reshape(top, h, w),
                   *_up_stages(width, k), ConvTranspose2d(width, C, 4, 2, 1), Tanh())    # -> (C, H, W)
    D = Sequential(Conv2d(C * pack, width, 4, 2, 1), LeakyReLU(0.2),                   # -> (c, H/2, W/2)
                   *_down_stages(width, k), Flatten(), Dense(top * h * w, 1))
    return G, D


def pytorch_dcgan(data_shape, z_dim: int = 100, pack: int = 1, width: int = 64):
    """PyTorch's DCGAN example's networks for (C, S, S) images, S = 4 * 2^(k-1) (32: k = 3, 64: k = 4).

    G: (N, z_dim) -> (N, C, S, S) in [-1, 1];  D: (N/pack, pack*C, S, S) -> (N/pack, 1). No biases.
    """
    C, S, _ = data_shape
    k = (S // 4).bit_length() - 1  # stride-2 stages after the 4x4 start: 32 -> 3, 64 -> 4
    top = width << (k - 1)
    G = Sequential(Reshape(z_dim, 1, 1), ConvTranspose2d(z_dim, top, 4, 1, 0, bias=False), BatchNorm2d(top), ReLU(),
                   *_up_stages(width, k), ConvTranspose2d(width, C, 4, 2, 1, bias=False), Tanh())
    D = Sequential(Conv2d(C * pack, width, 4, 2, 1, bias=False), LeakyReLU(0.2), *_down_stages(width, k),
                   Conv2d(top, 1, 4, 1, 0, bias=False), Flatten())   # (2^(k-1) c, 4, 4) -> a logit
    return G, D


def convd(data_shape, z_dim: int = 100, pack: int = 1):
    """MLP generator, conv discriminator. G: (N, z_dim) -> (N, C, H, W); D: (N/pack, pack*C, H, W) -> (N/pack, 1)."""
    _three_halvings("convd", data_shape)
    G, _ = mlp(data_shape, z_dim, pack)
    C, H, W = data_shape
    layers, channels = [], C * pack
    for out_ch in (32, 64, 128):
        layers += [Conv2d(channels, out_ch, 4, 2, 1), LeakyReLU(0.2)]
        channels, H, W = out_ch, conv_out_size(H, 4, 2, 1), conv_out_size(W, 4, 2, 1)
    D = Sequential(*layers, Flatten(), Dense(channels * H * W, 1))
    return G, D


# -- the registry ----------------------------------------------------------------
def _points(arch: str, data_shape) -> None:
    if tuple(data_shape) != (2,):
        raise ValueError(f"arch {arch!r} is for 2-D points, not samples of shape {tuple(data_shape)}")


def _images(arch: str, data_shape) -> None:
    if len(data_shape) != 3:
        raise ValueError(f"arch {arch!r} is for images (C, H, W), not samples of shape {tuple(data_shape)}")


def _sides_multiple_of_4(arch: str, data_shape) -> None:
    _images(arch, data_shape)
    if data_shape[1] % 4 or data_shape[2] % 4:
        raise ValueError(f"arch {arch!r} needs images whose sides are multiples of 4, not {tuple(data_shape)}")


def _28x28(arch: str, data_shape) -> None:
    _images(arch, data_shape)
    if tuple(data_shape[1:]) != (28, 28):
        raise ValueError(f"arch {arch!r} is dcgan on 28x28 images (the benchmark network), not on "
                         f"{tuple(data_shape)}; use --arch dcgan for other sizes")


def _side(side: int):
    def check(arch: str, data_shape) -> None:
        _images(arch, data_shape)
        if tuple(data_shape[1:]) != (side, side):
            raise ValueError(f"arch {arch!r} is the benchmark network for {side}x{side} images, not "
                             f"{tuple(data_shape)}; use --arch dcgan for other sizes")
    return check


def _three_halvings(arch: str, data_shape) -> None:
    _images(arch, data_shape)
    side = min(data_shape[1:])
    for _ in range(3):
        if side + 2 < 4:
            raise ValueError(f"arch {arch!r}: images {tuple(data_shape)} are too small for three stride-2 "
                             f"convolutions")
        side = conv_out_size(side, 4, 2, 1)


@dataclass(frozen=True)
class Architecture:
    """One ready architecture.

    build(data_shape, z_dim, pack, **options) -> (G, D); options: the names of the ``minigan train``
    options it takes besides z_dim and pack (passed on when set); check(name, data_shape) raises
    ValueError when the data do not fit it; dcgan_init: apply the DCGAN initialisation after building.
    """
    name: str
    build: Callable
    options: tuple = ()
    check: Callable = _images
    dcgan_init: bool = True
    description: str = ""


ARCHITECTURES = Registry("architecture")


def register(arch: Architecture, replace: bool = False) -> Architecture:
    """Add ``arch`` to the registry (``replace=True`` to overwrite an entry of the same name)."""
    return ARCHITECTURES.add(arch.name, arch, replace)


def unregister(name: str) -> None:
    ARCHITECTURES.remove(name)


def get(name: str) -> Architecture:
    """The entry ``name``; ValueError listing the known names if there is none."""
    return ARCHITECTURES.find(name)


register(Architecture("mlp2d", lambda data_shape, z_dim, pack, **o: mlp2d(z_dim, pack, **o),
                      ("width", "output_scale", "z_categories", "z_noise_scale"), _points, dcgan_init=False,
                      description="toy MLP pair for 2-D points"))
register(Architecture("mlp", mlp, description="the seed MLP GAN"))
register(Architecture("dcgan", dcgan, ("width",), _sides_multiple_of_4,
                      description="DCGAN, two stride-2 stages (images whose sides are multiples of 4)"))
register(Architecture("dcgan28", dcgan, ("width",), _28x28, description="dcgan on 28x28 images"))
register(Architecture("dcgan32", pytorch_dcgan, ("width",), _side(32),
                      description="PyTorch's DCGAN form on 32x32 images (3 stages from 4x4; the benchmark network)"))
register(Architecture("dcgan64", pytorch_dcgan, ("width",), _side(64),
                      description="PyTorch's DCGAN example's networks on 64x64 images (4 stages from 4x4)"))
register(Architecture("convd", convd, description="MLP generator, conv discriminator"))


def build(arch: str, data_shape, z_dim: int, pack: int = 1, spectral_norm: bool = False, **options):
    """Build ``(G, D)`` for the registered architecture ``arch``, initialised as the module docstring says.

    ``spectral_norm``: wrap D's weight layers in ``SpectralNorm`` (``apply_spectral_norm``).
    ``options``: the architecture's options (``Architecture.options``) and any other keyword its
    builder takes. Raises ValueError when the data do not fit the architecture, or for an option
    that another architecture takes and this one does not.
    """
    entry = get(arch)
    entry.check(arch, tuple(data_shape))
    # Options of other architectures are refused by name; anything else (e.g. mlp2d's depth) goes to the builder.
    known = {name for a in ARCHITECTURES.values() for name in a.options}
    foreign = sorted((set(options) & known) - set(entry.options))
    if foreign:
        takes = f"it takes {', '.join(entry.options)}" if entry.options else "it takes none"
        raise ValueError(f"arch {arch!r} does not take the option{'s' if len(foreign) > 1 else ''} "
                         f"{', '.join(foreign)} ({takes})")
    G, D = entry.build(tuple(data_shape), z_dim, pack, **options)
    if entry.dcgan_init:
        dcgan_init(G)
        dcgan_init(D)
    if spectral_norm:  # after the initialisation: it normalises the weights the architecture chose
        apply_spectral_norm(D)
    return G, D
