"""MNIST IDX files: the reader, the checksum table, the real test set, and every bad-file case."""
import gzip
import hashlib
import shutil
from pathlib import Path

import numpy as np
import pytest

from minigan.data import DataFileError, default_data_dir, load_mnist, read_idx, read_images_labels
from minigan.data.idx import IDX_TYPES
from minigan.data.mnist import FILES

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"
SHARED_FILES = ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", "train-labels-idx1-ubyte.gz")
needs_shared = pytest.mark.skipif(
    not all((SHARED / f).is_file() for f in SHARED_FILES),
    reason=f"the real MNIST test files are not in {SHARED} (see shared/data/README.md)")
ENTRIES = {entry.name: entry for entry in FILES["mnist"].values()}


def _idx(array, type_byte=0x08) -> bytes:
    """``array`` as an IDX file of element type ``type_byte``."""
    array = np.asarray(array, dtype=IDX_TYPES[type_byte])
    header = bytes([0, 0, type_byte, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    return header + array.tobytes()


def _write(path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


@pytest.fixture(scope="module")
def test_split():
    """The real MNIST test split as read through the gzipped shared files."""
    if not all((SHARED / f).is_file() for f in SHARED_FILES):
        pytest.skip(f"the real MNIST test files are not in {SHARED}")
    return load_mnist("mnist", "test", data_dir=SHARED, log=pytest.fail)


# ------------------------------------------------------------------------------------- the IDX reader

@pytest.mark.parametrize("type_byte", sorted(IDX_TYPES))
@pytest.mark.parametrize("gzipped", [False, True])
def test_read_idx_round_trips_every_idx_type(tmp_path, type_byte, gzipped):
    array = (np.arange(24).reshape(2, 3, 4) - 7).astype(IDX_TYPES[type_byte])
    data = _idx(array, type_byte)
    path = _write(tmp_path / "a.idx", gzip.compress(data) if gzipped else data)
    out = read_idx(path)
    assert out.shape == (2, 3, 4) and out.dtype == IDX_TYPES[type_byte].newbyteorder("=")
    np.testing.assert_array_equal(out, array)


@pytest.mark.parametrize("data, pattern", [
    (b"", "not an IDX file.*an empty file"),
    (b"\x01\x02\x08\x01" + bytes(8), "not an IDX file.*found 01020801"),
    (b"\x00\x00\x0a\x01" + bytes(8), r"unsupported IDX element type 0x0A \(expected one of 0x08"),
    (b"\x00\x00\x08\x03" + bytes(4), "truncated header: 3 dimension sizes need 12 bytes, found 4"),
])
def test_bad_header_is_a_clear_error(tmp_path, data, pattern):
    path = _write(tmp_path / "bad-idx1-ubyte", data)
    with pytest.raises(DataFileError, match=pattern) as err:
        read_idx(path)
    assert str(path) in str(err.value)


@pytest.mark.parametrize("gzipped", [False, True])
def test_header_promising_more_than_the_data_is_truncated(tmp_path, gzipped):
    data = _idx(np.arange(10, dtype=np.uint8))[:-4]  # header says 10 bytes, 6 follow
    path = _write(tmp_path / "short", gzip.compress(data) if gzipped else data)
    with pytest.raises(DataFileError, match=r"truncated: the header promises shape \(10,\) of uint8, "
                                            r"i\.e\. 10 data bytes, the (\(decompressed\) )?file holds 6"):
        read_idx(path)


@pytest.mark.parametrize("gzipped", [False, True])
def test_data_beyond_the_header_sizes_is_an_error(tmp_path, gzipped):
    data = _idx(np.arange(10, dtype=np.uint8)) + b"\x00\x01\x02"
    path = _write(tmp_path / "long", gzip.compress(data) if gzipped else data)
    with pytest.raises(DataFileError, match="trailing extra bytes: the header promises shape"):
        read_idx(path)


@pytest.mark.parametrize("gzipped", [False, True])
def test_huge_fake_header_is_refused_without_allocating(tmp_path, gzipped):
    data = b"\x00\x00\x0e\x03" + np.full(3, 2**32 - 1, dtype=">u4").tobytes() + bytes(64)  # ~6e29 bytes promised
    path = _write(tmp_path / "huge", gzip.compress(data) if gzipped else data)
    with pytest.raises(DataFileError, match="truncated"):
        read_idx(path)


def test_corrupt_gzip_stream_is_an_error(tmp_path):
    packed = bytearray(gzip.compress(_idx(np.arange(100, dtype=np.uint8))))
    packed[-8] ^= 0xFF  # the CRC-32 in the gzip trailer
    with pytest.raises(DataFileError, match="corrupt or truncated gzip stream.*CRC"):
        read_idx(_write(tmp_path / "crc.gz", bytes(packed)))
    with pytest.raises(DataFileError, match="corrupt or truncated gzip stream"):
        read_idx(_write(tmp_path / "cut.gz", bytes(packed[:-20])))


# ------------------------------------------------------------------------------------- the real files

@needs_shared
@pytest.mark.parametrize("name", SHARED_FILES)
def test_shared_files_match_the_published_size_and_checksums(name):
    data = (SHARED / name).read_bytes()
    entry = ENTRIES[name]
    assert len(data) == entry.size
    assert _md5(gzip.decompress(data)) == entry.raw_md5
    if name != "t10k-images-idx3-ubyte.gz":  # that one is the published data in another gzip wrapper
        assert _md5(data) == entry.md5


def test_the_table_knows_all_eight_files():
    for name, files in FILES.items():
        assert sorted(files) == ["test-images", "test-labels", "train-images", "train-labels"], name
        for entry in files.values():
            assert entry.name.endswith("-ubyte.gz") and entry.size > 0
            assert len(entry.md5) == len(entry.raw_md5) == 32
    assert FILES["mnist"]["train-images"].md5 == "f68b3c2dcbeaaa9fbdd348bbdeb94873"
    assert FILES["mnist"]["train-images"].size == 9912422
    assert FILES["fashion-mnist"]["train-images"].md5 == "8d4fb7e6c68d591d4c3dfef9ec88bf0d"


def test_real_test_split_has_the_expected_shapes_range_and_classes(test_split):
    images, labels, info = test_split
    assert images.shape == (10000, 1, 28, 28) and images.dtype == np.float32
    assert labels.shape == (10000,) and labels.dtype == np.int64
    assert images.min() == -1.0 and images.max() == 1.0
    counts = np.bincount(labels, minlength=10)
    assert len(counts) == 10 and counts.min() >= 800 and counts.max() <= 1300, counts
    assert labels[:5].tolist() == [7, 2, 1, 0, 4]  # the well-known first test digits
    assert -0.9 < images.mean() < -0.6  # mostly black background
    assert info == {"name": "mnist", "requested_split": "test", "split": "test", "count": 10000,
                    "files": [str(SHARED / f) for f in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")],
                    "data_dir": str(SHARED), "downloaded": [], "note": None}


@needs_shared
@pytest.mark.parametrize("split, how", [("train", "the 10,000 test images instead"),
                                        ("all", "only the 10,000 test images")])
def test_missing_training_images_fall_back_to_the_test_split_and_say_so(test_split, split, how):
    messages = []
    images, labels, info = load_mnist("mnist", split, data_dir=SHARED, log=messages.append)
    assert messages == [f"mnist: train-images-idx3-ubyte.gz not in {SHARED}; using {how} "
                        f"(pass --download to fetch the 60,000 training images)"]
    assert info["requested_split"] == split and info["split"] == "test" and info["count"] == 10000
    assert info["note"] == messages[0]
    np.testing.assert_array_equal(images, test_split[0])
    np.testing.assert_array_equal(labels, test_split[1])


@needs_shared
def test_uncompressed_files_read_the_same_and_are_checksummed(tmp_path, test_split):
    for name in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        (tmp_path / name).write_bytes(gzip.decompress((SHARED / f"{name}.gz").read_bytes()))
    images, labels, info = load_mnist("mnist", "test", data_dir=tmp_path, log=pytest.fail)
    np.testing.assert_array_equal(images, test_split[0])
    np.testing.assert_array_equal(labels, test_split[1])
    assert info["files"] == [str(tmp_path / "t10k-images-idx3-ubyte"), str(tmp_path / "t10k-labels-idx1-ubyte")]

    raw = bytearray((tmp_path / "t10k-labels-idx1-ubyte").read_bytes())
    raw[100] = (raw[100] + 1) % 10  # a valid but wrong label
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(bytes(raw))
    with pytest.raises(DataFileError, match=f"t10k-labels-idx1-ubyte: checksum mismatch: expected md5 "
                                            f"27ae3e4e09519cfbb04c329615203637; found md5 {_md5(bytes(raw))} "
                                            f"\\(10,008 bytes\\); delete it"):
        load_mnist("mnist", "test", data_dir=tmp_path)


@needs_shared
def test_a_gz_with_the_wrong_checksum_is_refused(tmp_path):
    shutil.copy(SHARED / "t10k-images-idx3-ubyte.gz", tmp_path)
    raw = bytearray(gzip.decompress((SHARED / "t10k-labels-idx1-ubyte.gz").read_bytes()))
    raw[8] = (raw[8] + 1) % 10  # still a valid IDX file of valid labels: only the checksum can tell
    bad = gzip.compress(bytes(raw))
    path = _write(tmp_path / "t10k-labels-idx1-ubyte.gz", bad)
    with pytest.raises(DataFileError) as err:
        load_mnist("mnist", "test", data_dir=tmp_path)
    message = str(err.value)
    assert message.startswith(f"{path}: checksum mismatch: expected md5 ec29112dd5afa0611ce80d1b7f02629c")
    assert _md5(bad) in message and _md5(bytes(raw)) in message and "delete it" in message


@needs_shared
def test_the_published_data_in_another_gzip_wrapper_is_accepted(tmp_path, test_split):
    shutil.copy(SHARED / "t10k-images-idx3-ubyte.gz", tmp_path)
    raw = gzip.decompress((SHARED / "t10k-labels-idx1-ubyte.gz").read_bytes())
    _write(tmp_path / "t10k-labels-idx1-ubyte.gz", gzip.compress(raw, compresslevel=1, mtime=0))
    _, labels, _ = load_mnist("mnist", "test", data_dir=tmp_path, log=pytest.fail)
    np.testing.assert_array_equal(labels, test_split[1])


@needs_shared
def test_labels_and_images_of_different_counts_are_an_error():
    images, labels = SHARED / "t10k-images-idx3-ubyte.gz", SHARED / "train-labels-idx1-ubyte.gz"
    with pytest.raises(DataFileError, match=f"{images} holds 10,000 images but {labels} holds 60,000 labels"):
        read_images_labels(images, labels)


def test_labels_outside_0_to_9_and_wrong_image_shapes_are_errors(tmp_path):
    images = _write(tmp_path / "images", _idx(np.zeros((3, 28, 28), np.uint8)))
    labels = _write(tmp_path / "labels", _idx(np.array([1, 10, 2], np.uint8)))
    with pytest.raises(DataFileError, match=f"{labels}: labels must lie in 0..9, found 1..10"):
        read_images_labels(images, labels)
    small = _write(tmp_path / "small", _idx(np.zeros((3, 28, 27), np.uint8)))
    with pytest.raises(DataFileError, match=r"expected uint8 images of shape \(N, 28, 28\), "
                                            r"found uint8 of shape \(3, 28, 27\)"):
        read_images_labels(small, labels)


def test_synthetic_pair_is_scaled_to_minus_one_one(tmp_path):
    pixels = np.array([0, 255, 51] + [0] * (28 * 28 - 3), np.uint8).reshape(1, 28, 28)
    images, labels = read_images_labels(_write(tmp_path / "i", _idx(pixels)),
                                        _write(tmp_path / "l", _idx(np.array([9], np.uint8))))
    assert images.shape == (1, 1, 28, 28) and images.dtype == np.float32
    np.testing.assert_allclose(images[0, 0, 0, :3], [-1.0, 1.0, 51 / 127.5 - 1], rtol=1e-6)
    assert labels.tolist() == [9] and labels.dtype == np.int64


def test_no_files_is_a_clear_error_and_bad_arguments_are_refused(tmp_path):
    with pytest.raises(FileNotFoundError, match=f"mnist: t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz "
                                                f"not in {tmp_path}; pass --download to fetch them"):
        load_mnist("mnist", "test", data_dir=tmp_path)
    with pytest.raises(ValueError, match="unknown data set 'kmnist'"):
        load_mnist("kmnist", data_dir=tmp_path)
    with pytest.raises(ValueError, match="unknown split 'val'"):
        load_mnist("mnist", "val", data_dir=tmp_path)


def test_default_data_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("MINIGAN_CACHE", str(tmp_path / "c"))
    assert default_data_dir("fashion-mnist") == tmp_path / "c" / "fashion-mnist"
    monkeypatch.delenv("MINIGAN_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "x"))
    assert default_data_dir("mnist") == tmp_path / "x" / "minigan" / "mnist"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "h"))
    assert default_data_dir("mnist") == tmp_path / "h" / ".cache" / "minigan" / "mnist"
    with pytest.raises(FileNotFoundError, match=f"not in {tmp_path / 'h' / '.cache' / 'minigan' / 'mnist'}; "):
        load_mnist("mnist", "test")  # load_mnist's default folder is that one
