"""Fashion-MNIST in full (Debian's recompressed files in ../shared/data): training on the 60,000, and
minigan evaluate's reference on the standard split, the 10,000 test images; a folder with the test files
alone has no unseen split, so evaluation falls back to the seeded halves."""
from pathlib import Path

import numpy as np
import pytest

from minigan.datasource import real_images, unseen_test_images
from minigan.evaluate import _reference_and_held_out
from minigan.options import make_config

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.mark.skipif(not (SHARED / "fashion-mnist" / "train-images-idx3-ubyte.gz").is_file(),
                    reason=f"the full Fashion-MNIST is not in {SHARED / 'fashion-mnist'} (see shared/data/README.md)")
def test_fashion_mnist_trains_on_60000_and_is_scored_against_the_10000_test_images():
    config = make_config({"dataset": "fashion-mnist", "data_dir": str(SHARED / "fashion-mnist")})
    images, labels = real_images(config, log=lambda *_: None)
    test, test_labels = unseen_test_images(config, log=lambda *_: None)
    assert images.shape == (60000, 1, 28, 28) and test.shape == (10000, 1, 28, 28)
    assert np.bincount(test_labels).tolist() == [1000] * 10          # the published test split: 1,000 a class
    reference, held_out, held_labels, train = _reference_and_held_out(config, images, labels, seed=0,
                                                                      log=lambda *_: None)
    assert reference is images and train is images and np.array_equal(held_out, test)
    assert np.array_equal(held_labels, test_labels)


@pytest.mark.skipif(not (SHARED / "mnist" / "t10k-images-idx3-ubyte.gz").is_file(),
                    reason=f"the MNIST test files are not in {SHARED / 'mnist'} (see shared/data/README.md)")
def test_without_the_training_files_there_is_no_unseen_split():
    config = make_config({"dataset": "mnist", "data_dir": str(SHARED / "mnist")})
    assert unseen_test_images(config) is None
    images, labels = real_images(config, log=lambda *_: None)
    reference, held_out, held_labels, train = _reference_and_held_out(config, images, labels, seed=0,
                                                                      log=lambda *_: None)
    assert train is None and len(reference) + len(held_out) == len(images) == 10000
    assert len(held_labels) == len(held_out)
