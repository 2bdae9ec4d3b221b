"""--dataset folder: your own pictures (PNG and JPEG written here with Pillow), their order, the centre crop,
transparency on white, grey, and the refusal of an unreadable file before anything is written."""
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from minigan.data import DataFileError
from minigan.data.folder import load_folder, picture_files


def halves(path, size=(60, 40), left=(255, 0, 0), right=(0, 0, 255), **save):
    """A picture whose left half is one colour and right half another."""
    image = Image.new("RGB", size, right)
    image.paste(left, (0, 0, size[0] // 2, size[1]))
    image.save(path, **save)


@pytest.fixture
def pictures(tmp_path):
    folder = tmp_path / "pictures"
    (folder / "b").mkdir(parents=True)
    halves(folder / "b" / "wide.png")                                        # 60x40: the crop keeps x 10..50
    Image.new("RGB", (16, 16), (0, 255, 0)).save(folder / "a.JPG", quality=100)
    Image.new("RGBA", (8, 8), (0, 0, 0, 0)).save(folder / "c.png")           # transparent: white
    (folder / "notes.txt").write_text("not a picture")
    return folder


def test_pictures_are_found_recursively_in_relative_path_order(pictures):
    assert [p.relative_to(pictures).as_posix() for p in picture_files(pictures)] == ["a.JPG", "b/wide.png", "c.png"]


def test_each_picture_is_centre_cropped_resized_and_scaled(pictures):
    images = load_folder(pictures, image_size=8, channels=3)
    assert images.shape == (3, 3, 8, 8) and images.dtype == np.float32
    green, wide, clear = images
    assert np.allclose(green[1], 1, atol=0.02) and np.allclose(green[[0, 2]], -1, atol=0.02)
    assert np.allclose(clear, 1)                                               # transparent -> white
    # the centre square of the 60x40 picture: red on its left half, blue on its right
    assert np.allclose(wide[0, :, :3], 1, atol=0.05) and np.allclose(wide[2, :, 5:], 1, atol=0.05)
    grey = load_folder(pictures, image_size=4, channels=1)
    assert grey.shape == (3, 1, 4, 4) and np.allclose(grey[2], 1)


def test_an_unreadable_picture_is_named(pictures):
    (pictures / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    with pytest.raises(DataFileError, match="broken.png"):
        load_folder(pictures, 8, 3)


def test_train_on_a_folder_then_evaluate_without_labels(pictures, tmp_path):
    for i in range(30):
        halves(pictures / f"more{i:02d}.png", left=(8 * i, 100, 200), right=(250 - 8 * i, 50, 0))
    run = tmp_path / "run"
    common = ["--dataset", "folder", "--data-dir", str(pictures), "--image-size", "8", "--channels", "3",
              "--width", "4", "--z-dim", "8", "--batch-size", "8", "--frames", "2", "--holdout", "0.2"]
    done = subprocess.run([sys.executable, "-m", "minigan", "train", *common, "--steps", "3", "--out", str(run)],
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    evaluated = subprocess.run([sys.executable, "-m", "minigan", "evaluate", str(run)], capture_output=True,
                               text=True, timeout=180)
    assert evaluated.returncode == 0, evaluated.stderr
    assert "no labels" in evaluated.stdout and "classes covered" not in evaluated.stdout
    assert "distance to nearest training image" in evaluated.stdout


def test_an_unreadable_picture_refuses_the_run_before_anything_is_written(pictures, tmp_path):
    (pictures / "broken.jpg").write_bytes(b"\xff\xd8 truncated")
    run = tmp_path / "run"
    done = subprocess.run([sys.executable, "-m", "minigan", "train", "--dataset", "folder", "--data-dir",
                           str(pictures), "--image-size", "8", "--steps", "1", "--batch-size", "2",
                           "--out", str(run)], capture_output=True, text=True, timeout=180)
    assert done.returncode == 2 and "broken.jpg" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
    assert not run.exists()
