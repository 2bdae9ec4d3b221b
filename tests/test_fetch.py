"""minigan.data.fetch against a real HTTP server on 127.0.0.1: atomic verified downloads, mirrors in
order, checksums of a file or of its decompressed content, the cache folder, and every refusal.

The served root holds files written by each test (``serve(name, data)``); the server also answers:
- /slow/NAME: sends half of NAME, waits until the test has looked at the destination folder, sends the rest;
- /short/NAME: announces NAME's full length, sends half, closes the connection;
- any missing path: 404.
"""
import gzip
import hashlib
import http.server
import io
import os
import re
import select
import sys
import tarfile
import threading
from functools import partial
from pathlib import Path

import pytest

from minigan.data import ChecksumError, DataFileError, DownloadError, cache_root, default_data_dir, fetch, verify

FASHION = Path(__file__).resolve().parents[2] / "shared" / "data" / "fashion-mnist"


class _Handler(http.server.SimpleHTTPRequestHandler):
    state = None  # per server: {"requests": [...], "midway": callable or None}

    def do_GET(self):
        self.state["requests"].append(self.path)
        kind, _, name = self.path.lstrip("/").partition("/")
        if kind not in ("slow", "short"):
            return super().do_GET()
        data = (Path(self.directory) / name).read_bytes()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data[: len(data) // 2])
        self.wfile.flush()
        if kind == "short":
            self.close_connection = True
            return
        self.state["midway"]()  # the client holds half of the file now
        self.wfile.write(data[len(data) // 2:])

    def log_message(self, *args):  # keep the test output clean
        pass


@pytest.fixture
def server(tmp_path_factory):
    """(base URL, serve(name, bytes) -> URL, state) of a loopback server over a fresh folder."""
    root = tmp_path_factory.mktemp("served")
    state = {"requests": [], "midway": lambda: None}
    handler = type("Handler", (_Handler,), {"state": state})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{httpd.server_address[1]}"

    def serve(name, data):
        (root / name).write_bytes(data)
        return f"{base}/{name}"

    yield base, serve, state
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


# Real-looking content: a little IDX label file (the kind the .gz of MNIST holds).
CONTENT = bytes([0, 0, 8, 1, 0, 0, 0, 200]) + bytes(i % 10 for i in range(200))


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# ------------------------------------------------------------------------------------- good downloads

def test_a_good_download_lands_atomically_under_its_name(server, tmp_path):
    """While the bytes arrive they are in a temporary file beside the destination; the old file under
    the final name is untouched until the checksum matched, then replaced in one rename."""
    base, serve, state = server
    data = os.urandom(300_000)
    serve("pack.tgz", data)
    dest = tmp_path / "cache" / "pack.tgz"
    dest.parent.mkdir()
    dest.write_bytes(b"the previous copy")
    seen = {}

    def midway():
        seen["files"] = sorted(os.listdir(dest.parent))
        seen["dest"] = dest.read_bytes()
    state["midway"] = midway

    path = fetch(f"{base}/slow/pack.tgz", dest, sha256=_sha256(data))
    assert path == dest and dest.read_bytes() == data
    assert seen["dest"] == b"the previous copy"  # the final name never held part of the download
    assert len(seen["files"]) == 2 and seen["files"][1] == "pack.tgz"
    assert seen["files"][0].startswith(".pack.tgz.") and seen["files"][0].endswith(".tmp")
    assert os.listdir(dest.parent) == ["pack.tgz"]  # no temporary file left
    assert (dest.stat().st_mode & 0o777) == 0o666 & ~_umask()  # as open() makes it, not mkstemp's 0o600


def test_a_tgz_with_a_pinned_sha256_and_the_folder_created(server, tmp_path, capsys):
    """The emoji sets' case: a .tgz from one URL, pinned by SHA-256, into a cache folder not made yet."""
    _, serve, _ = server
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        info = tarfile.TarInfo("package/emoji.json")
        info.size = len(CONTENT)
        tar.addfile(info, io.BytesIO(CONTENT))
    url = serve("emoji-datasource-google-16.0.0.tgz", buffer.getvalue())
    dest = tmp_path / "a" / "b" / "emoji.tgz"
    assert fetch(url, dest, sha256=_sha256(buffer.getvalue()), md5=_md5(buffer.getvalue())) == dest
    with tarfile.open(dest) as tar:
        assert tar.extractfile("package/emoji.json").read() == CONTENT
    assert capsys.readouterr().err == ""  # no progress bar when stderr is not a terminal


def test_mirrors_are_tried_in_order_and_each_failure_is_logged(server, tmp_path):
    base, serve, state = server
    serve("f.bin", CONTENT)
    serve("wrong.bin", CONTENT[::-1])
    lines = []
    urls = [f"{base}/gone/f.bin", f"{base}/wrong.bin", f"{base}/short/f.bin", f"{base}/f.bin", f"{base}/never"]
    fetch(urls, tmp_path / "f.bin", sha256=_sha256(CONTENT), log=lines.append)
    assert state["requests"] == ["/gone/f.bin", "/wrong.bin", "/short/f.bin", "/f.bin"]  # stops at the good one
    assert [line.split(": ", 1)[0] for line in lines] == urls[:3]
    assert all(line.endswith("; trying the next mirror") and "\n" not in line for line in lines)
    assert "404" in lines[0] and "checksum mismatch" in lines[1] and "truncated" in lines[2]
    assert os.listdir(tmp_path) == ["f.bin"] and (tmp_path / "f.bin").read_bytes() == CONTENT


# ------------------------------------------------------------------------------------ bad downloads

def test_a_bad_checksum_leaves_no_file_and_names_the_url_and_what_was_expected(server, tmp_path):
    _, serve, _ = server
    url = serve("data.tgz", CONTENT)
    wanted = _sha256(b"something else")
    with pytest.raises(DownloadError) as err:
        fetch(url, tmp_path / "data.tgz", sha256=wanted, size=1234)
    assert str(err.value) == (f"could not download data.tgz from any mirror: {url}: checksum mismatch: "
                              f"expected sha256 {wanted} (1,234 bytes, as published); "
                              f"found sha256 {_sha256(CONTENT)} ({len(CONTENT):,} bytes)")
    assert isinstance(err.value, FileNotFoundError)  # what it means to the caller: the file is not to be had
    assert os.listdir(tmp_path) == []


def test_a_failed_download_keeps_the_previous_file_and_every_mirror_is_named(server, tmp_path):
    base, serve, _ = server
    serve("f.bin", CONTENT)
    dest = tmp_path / "f.bin"
    dest.write_bytes(b"old")
    urls = [f"{base}/missing.bin", f"{base}/short/f.bin", f"{base}/f.bin"]
    with pytest.raises(DownloadError) as err:
        fetch(urls, dest, md5=_md5(b"other"), what="mnist f.bin")
    message = str(err.value)
    assert "\n" not in message and message.startswith("could not download mnist f.bin from any mirror: ")
    failures = message.split(" from any mirror: ", 1)[1].split(" | ")
    assert [f.split(": ", 1)[0] for f in failures] == urls
    assert "404" in failures[0]
    assert f"truncated: the server announced {len(CONTENT):,} bytes and sent {len(CONTENT) // 2:,}" in failures[1]
    assert f"expected md5 {_md5(b'other')}; found md5 {_md5(CONTENT)}" in failures[2]
    assert os.listdir(tmp_path) == ["f.bin"] and dest.read_bytes() == b"old"


def test_an_unreachable_server_is_a_download_error(tmp_path):
    with pytest.raises(DownloadError, match=r"could not download x from any mirror: http://127\.0\.0\.1:9/x: "):
        fetch("http://127.0.0.1:9/x", tmp_path / "x", sha256="0" * 64, timeout=5)
    assert os.listdir(tmp_path) == []


# ---------------------------------------------------------------------------- decompressed content

def test_the_decompressed_checksum_accepts_the_same_content_recompressed(server, tmp_path):
    """The published .gz and another tool's recompression differ in bytes, not in content: both pass."""
    _, serve, _ = server
    published = gzip.compress(CONTENT, compresslevel=9, mtime=1)
    recompressed = gzip.compress(CONTENT, compresslevel=1, mtime=0)
    assert published != recompressed
    checks = dict(md5=_md5(published), decompressed_sha256=_sha256(CONTENT))
    for i, data in enumerate((published, recompressed)):
        dest = fetch(serve(f"{i}.gz", data), tmp_path / f"{i}.gz", **checks)
        assert dest.read_bytes() == data
    changed = CONTENT[:-1] + b"\x00"  # one label changed (the last one is 9)
    other = gzip.compress(changed)
    url = serve("other.gz", other)
    with pytest.raises(DownloadError) as err:
        fetch(url, tmp_path / "other.gz", **checks)
    assert (f"{url}: checksum mismatch: expected md5 {_md5(published)} or sha256 {_sha256(CONTENT)} once "
            f"decompressed; found md5 {_md5(other)} ({len(other)} bytes), and sha256 "
            f"{_sha256(changed)} once decompressed") in str(err.value)
    assert sorted(os.listdir(tmp_path)) == ["0.gz", "1.gz"]


def test_only_a_decompressed_checksum_refuses_a_file_that_is_not_gzip(server, tmp_path):
    _, serve, _ = server
    url = serve("plain.gz", CONTENT)
    with pytest.raises(DownloadError, match=f"{url}: checksum mismatch: expected md5 {_md5(CONTENT)} once "
                                            f"decompressed; found a file that does not decompress"):
        fetch(url, tmp_path / "plain.gz", decompressed_md5=_md5(CONTENT))
    assert os.listdir(tmp_path) == []


@pytest.mark.skipif(not (FASHION / "t10k-labels-idx1-ubyte.gz").is_file(),
                    reason=f"Debian's Fashion-MNIST files are not in {FASHION} (see shared/data/README.md)")
def test_debians_recompressed_fashion_mnist_is_accepted_by_its_content(server, tmp_path):
    """The real case: Debian's dataset-fashion-mnist .gz is not Zalando's .gz, but holds Zalando's file."""
    from minigan.data.mnist import FILES

    entry = FILES["fashion-mnist"]["test-labels"]
    debian = (FASHION / entry.name).read_bytes()
    assert _md5(debian) != entry.md5  # recompressed
    _, serve, _ = server
    url = serve(entry.name, debian)
    with pytest.raises(DownloadError, match="checksum mismatch"):  # the .gz's published checksum alone
        fetch(url, tmp_path / entry.name, md5=entry.md5)
    path = fetch(url, tmp_path / entry.name, md5=entry.md5, decompressed_md5=entry.raw_md5, size=entry.size)
    assert path.read_bytes() == debian


# ---------------------------------------------------------------------------------- local files

def test_verify_a_local_file(tmp_path):
    path = tmp_path / "labels.gz"
    path.write_bytes(gzip.compress(CONTENT))
    assert verify(path, decompressed_sha256=_sha256(CONTENT)) == path
    assert verify(path, sha256=_sha256(path.read_bytes()), md5=_md5(path.read_bytes())) == path
    with pytest.raises(ChecksumError) as err:  # every checksum of the file must match, not one of them
        verify(path, sha256=_sha256(path.read_bytes()), md5=_md5(b"x"), advice="; delete it")
    assert isinstance(err.value, DataFileError)
    assert str(err.value).startswith(f"{path}: checksum mismatch: expected sha256 ")
    assert str(err.value).endswith("; delete it")


# ------------------------------------------------------------------------------------- the cache

def test_default_data_dir_works_for_any_new_data_set(monkeypatch, tmp_path):
    monkeypatch.setenv("MINIGAN_CACHE", str(tmp_path / "c"))
    assert cache_root() == tmp_path / "c"
    assert default_data_dir("emoji-google") == tmp_path / "c" / "emoji-google"
    monkeypatch.delenv("MINIGAN_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "x"))
    assert default_data_dir("emoji_twitter.v16") == tmp_path / "x" / "minigan" / "emoji_twitter.v16"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "h"))
    assert default_data_dir("celeba") == tmp_path / "h" / ".cache" / "minigan" / "celeba"
    monkeypatch.setenv("MINIGAN_CACHE", "~/elsewhere")
    assert default_data_dir("celeba") == tmp_path / "h" / "elsewhere" / "celeba"


@pytest.mark.parametrize("name", ["", "..", ".hidden", "a/b", "../etc", "-rf", None])
def test_default_data_dir_refuses_a_name_that_is_not_one_plain_folder(name):
    with pytest.raises(ValueError, match=re.escape(f"data set name {name!r} cannot name a cache folder")):
        default_data_dir(name)


# ------------------------------------------------------------------------------------ bad arguments

@pytest.mark.parametrize("kwargs, message", [
    ({}, "fetch: no checksum given"),
    ({"sha256": "abc"}, "fetch: sha256 must be 64 hexadecimal digits, got 'abc'"),
    ({"decompressed_md5": "z" * 32}, "fetch: decompressed_md5 must be 32 hexadecimal digits"),
])
def test_fetch_refuses_bad_checksums_before_connecting(tmp_path, kwargs, message):
    with pytest.raises(ValueError, match=message):
        fetch("http://127.0.0.1:9/x", tmp_path / "d" / "x", **kwargs)
    assert not (tmp_path / "d").exists()


@pytest.mark.parametrize("urls", [[], "", [None]])
def test_fetch_refuses_no_url(tmp_path, urls):
    with pytest.raises(ValueError, match="fetch: expected one URL or a list of URLs"):
        fetch(urls, tmp_path / "x", sha256="0" * 64)


# ------------------------------------------------------------------------------------- progress bar

@pytest.mark.skipif(not hasattr(os, "openpty") or sys.platform == "win32", reason="needs a pseudo-terminal (POSIX)")
def test_a_progress_bar_only_on_a_terminal(server, tmp_path, monkeypatch):
    import fcntl
    import struct
    import termios

    _, serve, _ = server
    data = os.urandom(200_000)
    url = serve("big.bin", data)
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # tqdm sizes its bar to it
    try:
        with open(slave, "w", closefd=True) as terminal:
            monkeypatch.setattr(sys, "stderr", terminal)
            fetch(url, tmp_path / "a.bin", sha256=_sha256(data))
            fetch(url, tmp_path / "b.bin", sha256=_sha256(data), progress=False)
            terminal.flush()
            monkeypatch.undo()
        shown = b""
        while select.select([master], [], [], 0.2)[0]:
            try:
                chunk = os.read(master, 1 << 16)
            except OSError:  # Linux: the slave side is closed and everything was read
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(master)
    text = shown.decode(errors="replace")
    assert "big.bin: 100%" in text and "200k/200k" in text
    assert text.count("big.bin:   0%") == 1  # one bar (each opens at 0%): progress=False showed none
