"""Downloads against a real HTTP server on 127.0.0.1 serving the shared MNIST files, good and bad copies.

Mirrors (sub-folders of the served root):
- good/: byte-for-byte copies of the shared files;
- truncated/: the first half of each file (the server announces the shorter length);
- corrupt/: the same size with bytes flipped in the middle;
- short/: announces the full length, sends half, then closes the connection;
- missing/: nothing (404).
"""
import hashlib
import http.server
import os
import shutil
import threading
from functools import partial
from pathlib import Path

import numpy as np
import pytest

from minigan.data import DownloadError, download, load_mnist
from minigan.data.mnist import FILES

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"
SERVED = ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
BAD = ("truncated", "corrupt", "short", "missing")


class _Handler(http.server.SimpleHTTPRequestHandler):
    requests = None  # the paths asked for, in order (a list set per server)

    def do_GET(self):
        self.requests.append(self.path)
        if not self.path.startswith("/short/"):
            return super().do_GET()
        data = (Path(self.directory) / "good" / self.path.rsplit("/", 1)[-1]).read_bytes()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data[: len(data) // 2])
        self.close_connection = True

    def log_message(self, *args):  # keep the test output clean
        pass


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """Base URL of a loopback server holding the mirrors above, and the list of paths it was asked for."""
    if not all((SHARED / f).is_file() for f in SERVED):
        pytest.skip(f"the real MNIST test files are not in {SHARED} (see shared/data/README.md)")
    root = tmp_path_factory.mktemp("mirrors")
    for folder in ("good", "truncated", "corrupt", "missing"):
        (root / folder).mkdir()
    for name in SERVED:
        data = (SHARED / name).read_bytes()
        (root / "good" / name).write_bytes(data)
        (root / "truncated" / name).write_bytes(data[: len(data) // 2])
        middle = len(data) // 2
        flipped = bytes(b ^ 0xFF for b in data[middle: middle + 64])
        (root / "corrupt" / name).write_bytes(data[:middle] + flipped + data[middle + 64:])
    requests = []
    handler = type("Handler", (_Handler,), {"requests": requests})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", requests
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def _md5(path) -> str:
    return hashlib.md5(Path(path).read_bytes()).hexdigest()


def test_download_from_a_good_mirror(server, tmp_path, capsys):
    base, _ = server
    path = download("mnist", "t10k-labels-idx1-ubyte.gz", tmp_path / "cache", mirrors=[f"{base}/good/"])
    assert path == tmp_path / "cache" / "t10k-labels-idx1-ubyte.gz"
    assert _md5(path) == FILES["mnist"]["test-labels"].md5
    assert os.listdir(tmp_path / "cache") == ["t10k-labels-idx1-ubyte.gz"]
    assert capsys.readouterr().err == ""  # no progress bar when stderr is not a terminal


@pytest.mark.parametrize("bad", BAD)
def test_a_bad_mirror_falls_back_to_the_next_and_leaves_nothing(server, tmp_path, bad):
    base, requests = server
    del requests[:]
    name = "t10k-images-idx3-ubyte.gz"
    path = download("mnist", name, tmp_path, mirrors=[f"{base}/{bad}", f"{base}/good"])
    assert requests == [f"/{bad}/{name}", f"/good/{name}"]
    assert _md5(path) == _md5(SHARED / name)
    assert os.listdir(tmp_path) == [name]  # no temporary file left by either attempt


def test_every_mirror_bad_is_a_clear_error_and_leaves_nothing(server, tmp_path):
    base, _ = server
    name = "t10k-labels-idx1-ubyte.gz"
    with pytest.raises(DownloadError) as err:
        download("mnist", name, tmp_path, mirrors=[f"{base}/{bad}/" for bad in BAD])
    message = str(err.value)
    assert "\n" not in message  # the command line prints it as one line
    head, tail = message.split(" from any mirror: ")
    lines = [head] + tail.split(" | ")
    assert lines[0] == f"could not download mnist {name}"
    assert [line.split(": ", 1)[0].strip() for line in lines[1:]] == [f"{base}/{bad}/{name}" for bad in BAD]
    assert "checksum mismatch: expected md5 ec29112dd5afa0611ce80d1b7f02629c" in lines[1]  # truncated
    assert "checksum mismatch" in lines[2]  # corrupt
    assert "truncated: the server announced 4,542 bytes and sent 2,271" in lines[3]
    assert "404" in lines[4]
    assert "delete it" not in str(err.value)  # nothing was kept, so nothing to delete
    assert os.listdir(tmp_path) == []


def test_load_mnist_downloads_what_is_missing_then_reuses_it(server, tmp_path):
    base, requests = server
    del requests[:]
    cache = tmp_path / "cache"
    images, labels, info = load_mnist("mnist", "test", data_dir=cache, download=True,
                                      mirrors=[f"{base}/missing", f"{base}/good"], log=pytest.fail)
    assert images.shape == (10000, 1, 28, 28) and labels.shape == (10000,)
    assert info["downloaded"] == list(SERVED) and info["split"] == "test"
    assert sorted(os.listdir(cache)) == sorted(SERVED)
    for name in SERVED:
        assert _md5(cache / name) == _md5(SHARED / name)

    del requests[:]
    again, _, info = load_mnist("mnist", "test", data_dir=cache, download=True, mirrors=[f"{base}/good"])
    assert requests == [] and info["downloaded"] == []
    np.testing.assert_array_equal(again, images)


def test_download_does_not_fall_back_silently_when_the_training_images_cannot_be_had(server, tmp_path):
    base, _ = server
    for name in SERVED:
        shutil.copy(SHARED / name, tmp_path)
    with pytest.raises(DownloadError, match="could not download mnist train-images-idx3-ubyte.gz"):
        load_mnist("mnist", "train", data_dir=tmp_path, download=True, mirrors=[f"{base}/good"])
    assert sorted(os.listdir(tmp_path)) == sorted(SERVED)


def test_download_refuses_an_unknown_file(tmp_path):
    with pytest.raises(ValueError, match="mnist has no file 'train-images.gz'"):
        download("mnist", "train-images.gz", tmp_path, mirrors=["http://127.0.0.1:9/"])
