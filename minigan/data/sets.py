"""The data sets minigan ships with, one registry entry each (``registry.py`` says what an entry holds).

Each entry's ``defaults`` are the ``minigan train`` options tuned for it; docs/experiments.md has
the measurements behind them.
"""
from __future__ import annotations

from .digits import load_digits
from .registry import DataSet, get, register
from .toy import grid_means, ring_means


def _mnist_loader(name: str):
    def load(data_dir=None, download=False, log=print):
        from .mnist import load_mnist

        images, labels, _ = load_mnist(name, "train", data_dir=data_dir, download=download, log=log)
        return images, labels
    return load


def _mnist_test(name: str):
    """The 10,000 test images, the standard evaluation split, when the 60,000 training images are here too
    (without them the loader trains on the test images, which then are no unseen split)."""
    def test(data_dir=None, download=False, log=print):
        from .mnist import has_split, load_mnist

        if not has_split(name, "train", data_dir):
            return None
        images, labels, _ = load_mnist(name, "test", data_dir=data_dir, download=download, log=log)
        return images, labels
    return test


def _uci_form(split_loader):
    """A loader of MNIST in the digits' 8x8 form (mnist8.py) from a loader of MNIST itself."""
    def load(data_dir=None, download=False, log=print):
        from .mnist8 import from_scaled, to_uci_form

        loaded = split_loader(data_dir=data_dir, download=download, log=log)
        return None if loaded is None else (to_uci_form(from_scaled(loaded[0])), loaded[1])
    return load


def _emoji(vendor: str):
    def load(data_dir=None, download=False, log=print, image_size=32):
        from .emoji import load_emoji

        images, labels, _ = load_emoji(vendor, data_dir, image_size, download, log)
        return images, labels

    def groups(data_dir=None, download=False, log=print):
        from .emoji import emoji_groups

        return emoji_groups(vendor, data_dir, download, log)
    return dict(load=load, groups=groups)


def _load_folder(data_dir=None, download=False, log=print, image_size=32, channels=3):
    from .folder import load_folder

    return load_folder(data_dir, image_size, channels), None


# The toy mixtures: a narrow MLP pair, PacGAN packing 2, many cheap steps, Adam without momentum
# (beta1 = 0), and a learning rate decaying to 0 so that G settles precisely on the narrow modes.
_TOY = dict(arch="mlp2d", steps=16000, batch_size=256, z_dim=8, width=64, lr_g=2e-3, lr_d=2e-3, pack=2,
            beta1=0.0, lr_schedule="linear", log_every=50, checkpoint_every=4000)
# 28x28 images: the benchmark's dcgan28 network with the DCGAN paper's Adam settings at a constant
# learning rate (a linear decay to 0 halved the integrated learning rate and scored worse: see
# docs/experiments.md, "MNIST against PyTorch").
_MNIST = dict(arch="dcgan", steps=10000, batch_size=64, z_dim=100, width=64, lr_schedule="constant",
              log_every=20, checkpoint_every=500)

register(DataSet("ring8", "points", (2,), means=ring_means(8), std=0.01, defaults=dict(_TOY),
                 description="8 Gaussians on the unit circle, std 0.01 (PacGAN)"))
# On the grid G is a mixture of 256 generators (a categorical code in z) so that it can jump between
# the 25 modes instead of drawing bridges of samples between them; a gain of 2 on its output spans the
# +-4 grid sooner; sampling from an average of G's weights settles the last wandering categories.
register(DataSet("grid25", "points", (2,), means=grid_means([-4, -2, 0, 2, 4]), std=0.05,
                 defaults={**_TOY, "output_scale": 2.0, "z_categories": 256, "z_noise_scale": 0.1,
                           "ema": 0.999},
                 description="25 Gaussians on {-4,-2,0,2,4}^2, std 0.05 (PacGAN)"))
# A narrow DCGAN (2x2 -> 4x4 -> 8x8) at a brisk, decaying learning rate: recognisable digits of
# every class in about a minute on 2 cores.
def _load_digits(data_dir=None, download=False, log=print):
    return load_digits()  # embedded in the package: no folder, no download


register(DataSet("digits", "images", (1, 8, 8), load=_load_digits,
                 defaults=dict(arch="dcgan", steps=8000, batch_size=64, z_dim=32, width=32, lr_g=5e-4,
                               lr_d=5e-4, lr_schedule="linear", log_every=20, checkpoint_every=1000),
                 description="the embedded UCI 8x8 handwritten digits, 1,797 images (no download)"))
register(DataSet("mnist", "images", (1, 28, 28), load=_mnist_loader("mnist"), test=_mnist_test("mnist"),
                 defaults=dict(_MNIST), description="MNIST, 28x28 (IDX files from --data-dir, or --download)"))
# Stacked MNIST (Metz et al. 2017): three MNIST digits as the three channels, 1,000 modes; the
# same network as MNIST's, with three channels in and out.
register(DataSet("stacked-mnist", "images", (3, 28, 28), stack_of="mnist", defaults=dict(_MNIST),
                 description="three independent MNIST digits as the channels, (3, 28, 28): 1,000 modes"))
register(DataSet("fashion-mnist", "images", (1, 28, 28), load=_mnist_loader("fashion-mnist"),
                 test=_mnist_test("fashion-mnist"), defaults=dict(_MNIST),
                 description="Fashion-MNIST, 28x28: trains on the 60,000, evaluates on the 10,000 test images "
                             "(IDX files from --data-dir, e.g. Debian's /usr/share/datasets/fashion-mnist, or "
                             "--download)"))
# MNIST brought to the UCI digits' form (mnist8.py): a second domain for the digits, with their recipe.
register(DataSet("mnist8", "images", (1, 8, 8), load=_uci_form(_mnist_loader("mnist")),
                 test=_uci_form(_mnist_test("mnist")), defaults=dict(get("digits").defaults),
                 description="MNIST in the UCI digits' 8x8 form (padded to 32x32, thresholded, 4x4 on-pixel "
                             "counts): the IDX files from --data-dir, or --download"))
# The emoji (emoji.py): 3,786 colour images per vendor, 10 categories; --holdout spreads over base emoji.
# A width-32 dcgan (three stages at 32x32) with spectral normalisation in D: of the settings measured
# beside PyTorch's loop at 5,000 steps (docs/experiments.md, "The emoji against PyTorch"), the lowest
# Fréchet distance over two seeds, and the steadiest.
_EMOJI = dict(arch="dcgan", steps=5000, batch_size=64, z_dim=100, width=32, lr_schedule="constant",
              spectral_norm=True, log_every=20, checkpoint_every=500)
for _vendor, _who in (("google", "Google's Noto emoji, Apache 2.0"), ("twitter", "Twitter's Twemoji, CC BY 4.0")):
    register(DataSet(f"emoji-{_vendor}", "images", lambda image_size: (3, image_size, image_size),
                     options={"image_size": 32}, choices={"image_size": (16, 32, 64)}, defaults=dict(_EMOJI),
                     pairs="emoji",
                     **_emoji(_vendor),
                     description=f"{_who}: 3,786 RGB images in 10 categories (the emoji-data package "
                                 f"emoji-datasource-{_vendor}@16.0.0 from --data-dir, or --download)"))
register(DataSet("folder", "images", lambda image_size, channels: (channels, image_size, image_size),
                 load=_load_folder, options={"image_size": 32, "channels": 3}, choices={"channels": (1, 3)},
                 num_classes=0, defaults=dict(_EMOJI),
                 description="your own pictures: the PNG/JPEG files under --data-dir, centre-cropped, resized to "
                             "--image-size, --channels 3 or 1 (no labels)"))
