"""mnist8: MNIST in the UCI digits' 8x8 form, checked against the procedure written out pixel by pixel on the
real MNIST test images (../shared/data/mnist)."""
from pathlib import Path

import numpy as np
import pytest

from minigan.data import read_idx
from minigan.data.mnist8 import to_uci_form
from minigan.datasource import real_images
from minigan.options import make_config

MNIST = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"
needs_mnist = pytest.mark.skipif(not (MNIST / "t10k-images-idx3-ubyte.gz").is_file(),
                                 reason=f"the MNIST test files are not in {MNIST} (see shared/data/README.md)")


def by_hand(image):
    """The UCI procedure with plain loops: a 32x32 field, the 28x28 image at (2, 2), pixels > 127 on,
    on-pixels counted per 4x4 block."""
    field = [[0] * 32 for _ in range(32)]
    for i in range(28):
        for j in range(28):
            field[i + 2][j + 2] = 1 if image[i][j] > 127 else 0
    return [[sum(field[4 * a + u][4 * b + v] for u in range(4) for v in range(4)) for b in range(8)]
            for a in range(8)]


@needs_mnist
def test_mnist8_is_mnist_in_the_uci_form():
    raw = read_idx(MNIST / "t10k-images-idx3-ubyte.gz")
    config = make_config({"dataset": "mnist8", "data_dir": str(MNIST)})
    images, labels = real_images(config, log=lambda *_: None)
    assert images.shape == (10000, 1, 8, 8) and images.dtype == np.float32 and len(labels) == 10000
    for k in (0, 1, 4321, 9999):
        assert np.array_equal((images[k, 0] + 1) * 8, np.array(by_hand(raw[k].tolist()), dtype=np.float32))
    assert images.min() == -1 and images.max() == 1      # empty blocks and full ones both occur


def test_the_threshold_is_strictly_above_127():
    image = np.zeros((1, 28, 28), dtype=np.uint8)
    image[0, :2, :2] = 128        # the field's block (0, 0) holds image pixels (0..1, 0..1): four on
    image[0, 2:6, 2:6] = 127      # off
    assert (to_uci_form(image)[0, 0] + 1)[0, 0] * 8 == 4 and (to_uci_form(image) == -1).sum() == 63
