"""Training data: a registry of data sets (``registry.py``) and the sets minigan ships (``sets.py``):
the PacGAN 2-D mixtures, the embedded 8x8 digits, MNIST (and in the digits' form, ``mnist8.py``) and
Fashion-MNIST, the Google and Twitter
emoji in colour (``emoji.py``), and a folder of your own pictures (``folder.py``).

Importing this package reads no file; the digits are parsed on the first ``load_digits()``, the IDX
files of MNIST / Fashion-MNIST on ``load_mnist()`` (downloaded, checksums verified, on request, by
``fetch.py``, which every downloaded data set uses).
"""
from . import sets  # noqa: F401  (registers the built-in data sets)
from .digits import load_digits
from .fetch import ChecksumError, DownloadError, cache_root, default_data_dir, fetch, verify
from .idx import DataFileError, read_idx
from .mnist import MNIST_SETS, download, load_mnist, read_images_labels
from .registry import DATASETS, DataSet, get, names, register, spread_holdout, tail_holdout, unregister
from .toy import grid_means, ring_means, sample_toy, toy_means, toy_std

__all__ = ["DataSet", "DATASETS", "register", "unregister", "get", "names", "spread_holdout", "tail_holdout",
           "ring_means", "grid_means", "toy_means", "toy_std", "sample_toy", "load_digits",
           "MNIST_SETS", "load_mnist", "download", "default_data_dir", "read_images_labels", "read_idx",
           "DataFileError", "DownloadError", "ChecksumError", "fetch", "verify", "cache_root"]
