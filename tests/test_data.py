"""The data sets: the PacGAN 2-D mixtures and the embedded UCI digits."""
import gzip
import itertools
import math
import subprocess
import sys
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from minigan.data import load_digits, names, sample_toy, toy_means, toy_std

SHARED_DIGITS = Path(__file__).resolve().parents[2] / "shared" / "data" / "digits"
PACKAGED = resources.files("minigan.data")


def _nearest(points, means):
    return np.argmin(((points[:, None, :] - means[None]) ** 2).sum(axis=2), axis=1)


def test_ring8_means_are_eight_distinct_points_on_the_unit_circle():
    means = toy_means("ring8")
    assert means.shape == (8, 2) and means.dtype == np.float64
    h = math.sqrt(0.5)
    expected = [(1, 0), (h, h), (0, 1), (-h, h), (-1, 0), (-h, -h), (0, -1), (h, -h)]
    np.testing.assert_allclose(means, expected, atol=1e-15)
    assert len({tuple(np.round(m, 6)) for m in means}) == 8
    assert toy_std("ring8") == 0.01


def test_grid25_means_are_the_grid_points():
    means = toy_means("grid25")
    assert means.shape == (25, 2) and means.dtype == np.float64
    grid = set(itertools.product([-4.0, -2.0, 0.0, 2.0, 4.0], repeat=2))
    assert {tuple(m) for m in means} == grid
    assert toy_std("grid25") == 0.05


@pytest.mark.parametrize("name", names("points"))
def test_samples_have_the_stated_std_and_balanced_modes(name):
    n = 20_000
    means, std = toy_means(name), toy_std(name)
    points = sample_toy(name, n, np.random.default_rng(0))
    assert points.shape == (n, 2) and points.dtype == np.float32
    nearest = _nearest(points.astype(np.float64), means)
    offsets = points - means[nearest]
    np.testing.assert_allclose(offsets.std(axis=0), [std, std], rtol=0.03)
    np.testing.assert_allclose(offsets.mean(axis=0), [0, 0], atol=0.05 * std)
    counts = np.bincount(nearest, minlength=len(means))
    np.testing.assert_allclose(counts / n, 1 / len(means), rtol=0.15)


def test_same_seed_gives_same_samples():
    a = sample_toy("grid25", 100, np.random.default_rng(7))
    b = sample_toy("grid25", 100, np.random.default_rng(7))
    c = sample_toy("grid25", 100, np.random.default_rng(8))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_unknown_toy_name_lists_the_known_ones():
    for call in (lambda: toy_means("ring9"), lambda: toy_std("ring9"), lambda: sample_toy("ring9", 3, None)):
        with pytest.raises(ValueError, match="ring8.*grid25"):
            call()
    with pytest.raises(ValueError, match="non-negative integer"):
        sample_toy("ring8", -1, None)


def test_digits_shape_dtype_range_and_labels():
    images, labels = load_digits()
    assert images.shape == (1797, 1, 8, 8) and images.dtype == np.float32
    assert labels.shape == (1797,) and labels.dtype == np.int64
    assert images.min() == -1.0 and images.max() == 1.0
    # 0..16 mapped by x/8 - 1: every value is a multiple of 1/8
    np.testing.assert_array_equal((images + 1) * 8, np.round((images + 1) * 8))
    counts = np.bincount(labels, minlength=10)
    assert len(counts) == 10 and (counts > 0).all() and counts.sum() == 1797


def test_digits_cache_cannot_be_corrupted_by_a_caller():
    images, labels = load_digits()
    images[:] = 0
    labels[:] = 0
    again_images, again_labels = load_digits()
    assert again_images.min() == -1.0 and len(np.unique(again_labels)) == 10


@pytest.mark.skipif(not SHARED_DIGITS.is_dir(), reason=f"shared data folder {SHARED_DIGITS} is absent")
def test_packaged_digits_equal_the_shared_files():
    for name in ("digits.csv.gz", "digits-description.rst"):
        assert PACKAGED.joinpath(name).read_bytes() == (SHARED_DIGITS / name).read_bytes(), name


def _gz(text):
    return gzip.compress(text.encode("ascii"))


@pytest.mark.parametrize("content, message", [
    (lambda good: good[: len(good) // 2], "corrupt"),                     # truncated gzip stream
    (lambda good: b"not a gzip file at all", "corrupt"),                  # garbage
    (lambda good: _gz("1,2,3\n4,5,6\n"), "65 columns"),                   # wrong number of columns
    (lambda good: _gz(",".join(["17"] * 64 + ["3"]) + "\n"), r"0\.\.16"),  # pixel out of range
    (lambda good: _gz(",".join(["0"] * 64 + ["10"]) + "\n"), r"0\.\.9"),   # label out of range
    (lambda good: _gz("0,0,x\n"), "corrupt"),                             # not numbers
    (lambda good: _gz(""), "no data"),                                     # empty
])
def test_corrupt_digits_file_raises_a_clear_error(tmp_path, content, message):
    bad = tmp_path / "digits.csv.gz"
    bad.write_bytes(content(PACKAGED.joinpath("digits.csv.gz").read_bytes()))
    with pytest.raises(ValueError, match=message) as info:
        load_digits(path=bad)
    assert str(bad) in str(info.value)


def test_digits_from_an_explicit_path_match_the_packaged_ones(tmp_path):
    copy = tmp_path / "copy.csv.gz"
    copy.write_bytes(PACKAGED.joinpath("digits.csv.gz").read_bytes())
    for got, expected in zip(load_digits(path=copy), load_digits()):
        np.testing.assert_array_equal(got, expected)


def test_import_data_is_light():
    """import minigan.data pulls in no plotting library, no progress bar, not minigan.options (which
    imports minigan.data: importing it back would be a cycle), and reads no file."""
    code = ("import sys, minigan.data, minigan.data.digits as d; "
            "print('matplotlib' in sys.modules, 'tqdm' in sys.modules, 'minigan.options' in sys.modules, "
            "d._cache is None)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[1])
    assert out.stdout.split() == ["False", "False", "False", "True"]
