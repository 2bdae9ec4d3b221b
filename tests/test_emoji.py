"""The emoji data sets on the real packages of ../shared/data/emoji: the canonical order, the categories,
the compositing on white, the sizes, the spread hold-out, the .tgz and the folder layouts, the checksums,
and --download from a loopback HTTP server."""
import functools
import hashlib
import http.server
import json
import tarfile
import threading
from pathlib import Path

import numpy as np
import pytest

from minigan.data import DataFileError, DownloadError, emoji, spread_holdout

EMOJI = Path(__file__).resolve().parents[2] / "shared" / "data" / "emoji"
needs_emoji = pytest.mark.skipif(not (EMOJI / "emoji-datasource-google").is_dir(),
                                 reason=f"the emoji packages are not in {EMOJI} (see shared/data/README.md)")
# shared/data/README.md: base emoji per category, in categories.json's order
BASE_COUNTS = [169, 386, 5, 159, 131, 218, 85, 264, 224, 270]
USED = ("emoji.json", "categories.json", "img/{vendor}/sheets-clean/64.png")


@functools.lru_cache(maxsize=None)
def loaded(vendor: str, size: int):
    return emoji.load_emoji(vendor, EMOJI / emoji.package_name(vendor), size)


def make_tarball(vendor: str, dest: Path) -> Path:
    """The layout `npm pack` gives (files under package/), holding the files minigan reads."""
    with tarfile.open(dest, "w:gz") as tar:
        for name in USED:
            name = name.format(vendor=vendor)
            tar.add(EMOJI / emoji.package_name(vendor) / name, arcname=f"package/{name}")
    return dest


@needs_emoji
@pytest.mark.parametrize("vendor", ["google", "twitter"])
def test_every_emoji_and_skin_tone_in_canonical_order_with_its_category(vendor):
    images, labels, groups = loaded(vendor, 32)
    assert images.shape == (3786, 3, 32, 32) and images.dtype == np.float32
    assert images.min() >= -1 and images.max() <= 1
    first_of_group = np.r_[True, groups[1:] != groups[:-1]]
    assert groups.max() + 1 == 1911 and np.all(np.diff(groups) >= 0)
    assert np.bincount(labels[first_of_group], minlength=10).tolist() == BASE_COUNTS
    for g in (0, 500, 1910):  # a group shares its base emoji's category
        assert len(set(labels[groups == g])) == 1
    assert not np.all(images == 1, axis=(1, 2, 3)).any(), "an empty (all white) cell was cut"


@needs_emoji
def test_a_cell_is_composited_on_white_and_reduced_by_area_means():
    from PIL import Image

    images, _, _ = loaded("google", 64)
    small, _, _ = loaded("google", 16)
    entries = sorted(json.loads((EMOJI / "emoji-datasource-google" / "emoji.json").read_text()),
                     key=lambda e: e["sort_order"])
    first = entries[0]
    x, y = first["sheet_x"] * 66 + 1, first["sheet_y"] * 66 + 1
    with Image.open(EMOJI / "emoji-datasource-google" / "img/google/sheets-clean/64.png") as sheet:
        rgba = np.asarray(sheet.convert("RGBA"), dtype=np.float64)[y:y + 64, x:x + 64]
    a = rgba[..., 3:] / 255
    expected = (rgba[..., :3] * a + 255 * (1 - a)) / 127.5 - 1
    assert np.abs(images[0] - expected.transpose(2, 0, 1)).max() < 1e-6
    blocks = images.reshape(-1, 3, 16, 4, 16, 4).mean(axis=(3, 5))
    assert np.abs(small - blocks).max() < 1e-5
    assert (expected.min(axis=2) < 0.5).any() and (expected == 1).any()  # a drawing on a white ground


@needs_emoji
def test_holdout_spreads_whole_base_emoji_over_every_category():
    _, labels, groups = loaded("google", 32)
    held = spread_holdout(groups, 0.2)
    assert len(set(groups[held])) == 382 and held.sum() == 747
    assert set(groups[held]).isdisjoint(groups[~held])       # variations stay with their base emoji
    assert set(labels[held]) == set(range(10))                # every category, not a tail of flags
    assert sorted(set(groups[held]))[:3] == [4, 9, 14]        # every fifth base emoji


def test_spread_holdout_holds_out_floor_r_f_groups_evenly():
    groups = np.repeat(np.arange(100), 2)
    for f, count in ((0.2, 20), (1 / 3, 33), (0.05, 5), (0.0, 0)):
        held = spread_holdout(groups, f)
        assert held.sum() == 2 * count
    gaps = np.diff(np.flatnonzero(spread_holdout(np.arange(1000), 1 / 3)))
    assert set(gaps) <= {3}


@needs_emoji
@pytest.mark.parametrize("layout", ["tgz", "folder of packages", "folder of tarballs", "unpacked tgz"])
def test_the_package_is_found_in_every_layout(tmp_path, layout):
    images, labels, _ = loaded("twitter", 16)
    if layout == "tgz":
        where = make_tarball("twitter", tmp_path / "any-name.tgz")
    elif layout == "folder of packages":
        (tmp_path / "emoji-datasource-twitter").symlink_to(EMOJI / "emoji-datasource-twitter")
        where = tmp_path
    elif layout == "folder of tarballs":
        make_tarball("twitter", tmp_path / emoji.tarball_name("twitter"))
        where = tmp_path
    else:
        (tmp_path / "package").symlink_to(EMOJI / "emoji-datasource-twitter")
        where = tmp_path
    again, again_labels, _ = emoji.load_emoji("twitter", where, 16)
    assert np.array_equal(again, images) and np.array_equal(again_labels, labels)


def test_a_missing_package_says_how_to_get_it(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        emoji.load_emoji("google", tmp_path, 32)
    message = str(info.value)
    assert "\n" not in message and "npm pack emoji-datasource-google@16.0.0" in message and "--download" in message


@needs_emoji
def test_a_changed_file_is_refused_in_one_line(tmp_path):
    package = tmp_path / "emoji-datasource-google"
    for name in USED:
        name = name.format(vendor="google")
        (package / name).parent.mkdir(parents=True, exist_ok=True)
        (package / name).symlink_to(EMOJI / "emoji-datasource-google" / name)
    (package / "emoji.json").unlink()
    (package / "emoji.json").write_text("[]")
    with pytest.raises(DataFileError) as info:
        emoji.load_emoji("google", tmp_path, 32)
    assert "emoji.json" in str(info.value) and "16.0.0" in str(info.value) and "\n" not in str(info.value)


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def served(tmp_path, monkeypatch):
    """A loopback HTTP server holding a real package .tgz; the download address and its SHA-512 point there."""
    root = tmp_path / "server"
    root.mkdir()
    tarball = make_tarball("google", root / emoji.tarball_name("google"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setattr(emoji, "_TARBALL_URL",
                        f"http://127.0.0.1:{server.server_port}/emoji-datasource-{{vendor}}-{{version}}.tgz")
    monkeypatch.setitem(emoji._TARBALL_SHA512, "google", hashlib.sha512(tarball.read_bytes()).hexdigest())
    yield tarball
    server.shutdown()
    server.server_close()


@needs_emoji
def test_download_fetches_the_tarball_and_checks_it(tmp_path, served):
    dest = tmp_path / "cache"
    images, _, _ = emoji.load_emoji("google", dest, 16, download=True, log=lambda *_: None)
    assert (dest / emoji.tarball_name("google")).read_bytes() == served.read_bytes()
    assert np.array_equal(images, loaded("google", 16)[0])


@needs_emoji
def test_a_download_with_the_wrong_checksum_leaves_nothing(tmp_path, served, monkeypatch):
    monkeypatch.setitem(emoji._TARBALL_SHA512, "google", "0" * 128)
    dest = tmp_path / "cache"
    with pytest.raises(DownloadError):
        emoji.load_emoji("google", dest, 16, download=True, log=lambda *_: None)
    assert not any(dest.iterdir())


@needs_emoji
def test_an_emoji_run_trains_resumes_samples_and_evaluates_in_colour(tmp_path):
    import os
    import subprocess
    import sys

    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MINIGAN_CACHE": str(tmp_path / "cache")}
    run = lambda *args: subprocess.run([sys.executable, "-m", "minigan", *args], env=env, capture_output=True,
                                       text=True, timeout=600)
    common = ["--dataset", "emoji-twitter", "--data-dir", str(EMOJI), "--image-size", "16", "--width", "4",
              "--z-dim", "8", "--batch-size", "16", "--frames", "2", "--holdout", "0.2"]
    whole, split = tmp_path / "whole", tmp_path / "split"
    assert run("train", *common, "--steps", "4", "--out", str(whole)).returncode == 0
    assert run("train", *common, "--steps", "2", "--out", str(split)).returncode == 0
    assert run("train", "--steps", "4", "--resume", "--out", str(split)).returncode == 0
    with np.load(whole / "checkpoint.npz") as a, np.load(split / "checkpoint.npz") as b:
        assert all(np.array_equal(a[k], b[k]) for k in a.files)
    assert json.loads((whole / "config.json").read_text())["image_size"] == 16
    done = run("sample", str(whole), "-n", "3", "--out", str(tmp_path / "s.npy"))
    assert done.returncode == 0 and np.load(tmp_path / "s.npy").shape == (3, 3, 16, 16)
    evaluated = run("evaluate", str(whole))
    assert evaluated.returncode == 0, evaluated.stderr
    figures = json.loads((whole / "metrics.json").read_text())["images"]
    assert figures["num_real_eval"] == 747 and figures["num_classes"] == 10
    assert figures["real"]["classes_covered"] >= 8        # the held-out emoji span the categories
    assert figures["real"]["nearest_train_distance"] > 0


@needs_emoji
@pytest.mark.parametrize("model", ["pix2pix", "vae"])
def test_the_other_families_train_on_emoji_of_another_size(tmp_path, model):
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "minigan", "train", "--model", model, "--dataset", "emoji-google",
                           "--data-dir", str(EMOJI), "--image-size", "16", "--steps", "2", "--frames", "1",
                           "--holdout", "0.2", "--out", str(tmp_path / "run")], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    with np.load(tmp_path / "run" / "checkpoint.npz") as checkpoint:
        assert checkpoint["step"] == 2
