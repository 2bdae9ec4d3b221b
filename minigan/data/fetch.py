"""Getting a data file onto this machine, once and verified: the cache folder, downloads, checksums.

Every data set that is not shipped inside the package (MNIST, Fashion-MNIST, the emoji sets) goes
through here, so that there is one place that decides where downloads live, how they are checked
and what a failure says:

- ``cache_root()`` / ``default_data_dir(name)``: ``$MINIGAN_CACHE``, else ``$XDG_CACHE_HOME/minigan``,
  else ``~/.cache/minigan``; a data set's files go in the sub-folder named after it.
- ``fetch(urls, dest, sha256=..., ...)``: download ``dest`` from the first of ``urls`` (mirrors, tried
  in order) that delivers the expected bytes. The bytes go to a temporary file next to ``dest`` that is
  renamed to ``dest`` only once its checksum matched, so an interrupted, truncated or tampered
  download never leaves a file under the final name (and a later run never trusts one).
- ``verify(path, sha256=..., ...)``: the same check on a file already here.

What is "the expected bytes" is said by checksums, of two kinds that may be combined:

- of the file itself (``sha256``, ``sha512``, ``md5``): the file exactly as published;
- of its gzip-DECOMPRESSED content (``decompressed_sha256``, ``decompressed_md5``): the same data in
  any gzip wrapper. A distribution that recompresses a published .gz (Debian's dataset-fashion-mnist
  package does) changes the .gz's bytes, not its content, and is still genuine.

A file is accepted when it matches every given checksum of the file, or every given checksum of the
decompressed content; at least one checksum is required, since a download is only kept verified.
MD5 is accepted because that is what MNIST's publishers give; new data sets should pin a SHA-256.
"""
from __future__ import annotations

import gzip
import hashlib
import http.client
import os
import re
import sys
import tempfile
import urllib.request
import zlib
from pathlib import Path

from .idx import DataFileError

TIMEOUT_S = 30           # seconds a stalled connection may stay silent before the mirror counts as failed
_CHUNK = 1 << 16
_HEX_LENGTH = {"sha256": 64, "sha512": 128, "md5": 32}
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


class DownloadError(FileNotFoundError):
    """Every mirror failed to deliver a file with the expected checksum.

    A FileNotFoundError because that is what it means to the caller: the file is neither here nor to be
    had, so code that reports a missing data file reports this too.
    """


class ChecksumError(DataFileError):
    """A file whose bytes are not the expected ones (a DataFileError: the data cannot be trusted)."""


# ------------------------------------------------------------------------------------- the cache folder

def cache_root() -> Path:
    """minigan's user cache folder: ``$MINIGAN_CACHE``, else ``$XDG_CACHE_HOME/minigan``, else
    ``~/.cache/minigan`` (the XDG base-directory rule, so a user who moved caches elsewhere finds ours there)."""
    if os.environ.get("MINIGAN_CACHE"):
        root = Path(os.environ["MINIGAN_CACHE"])
    elif os.environ.get("XDG_CACHE_HOME"):
        root = Path(os.environ["XDG_CACHE_HOME"]) / "minigan"
    else:
        root = Path.home() / ".cache" / "minigan"
    return root.expanduser()


def default_data_dir(name: str) -> Path:
    """The folder where data set ``name``'s downloads live: ``cache_root() / name``.

    Any data set may have one; ``name`` must be one plain folder name (letters, digits, ``_ . -``, not
    starting with a dot), so that a name can never point outside the cache.
    """
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ValueError(f"data set name {name!r} cannot name a cache folder: expected letters, digits, "
                         f"'_', '.' or '-', not starting with '.' or '-'")
    return cache_root() / name


# ------------------------------------------------------------------------------------------ checksums

def _expected(sha256, md5, decompressed_sha256, decompressed_md5, caller: str, sha512=None) -> tuple[dict, dict]:
    """The checksums asked for, as ({algorithm: hex} of the file, {algorithm: hex} of its content)."""
    given = {("file", "sha256"): sha256, ("file", "sha512"): sha512, ("file", "md5"): md5,
             ("content", "sha256"): decompressed_sha256, ("content", "md5"): decompressed_md5}
    whole, content = {}, {}
    for (of, algorithm), digest in given.items():
        if digest is None:
            continue
        label = algorithm if of == "file" else f"decompressed_{algorithm}"
        if not (isinstance(digest, str) and len(digest) == _HEX_LENGTH[algorithm]
                and re.fullmatch(r"[0-9a-fA-F]+", digest)):
            raise ValueError(f"{caller}: {label} must be {_HEX_LENGTH[algorithm]} hexadecimal digits, "
                             f"got {digest!r}")
        (whole if of == "file" else content)[algorithm] = digest.lower()
    if not whole and not content:
        raise ValueError(f"{caller}: no checksum given (sha256, sha512, md5, decompressed_sha256 or decompressed_md5): "
                         f"a file is only kept once verified")
    return whole, content


def _chunks(f):
    return iter(lambda: f.read(_CHUNK), b"")


def _digests(f, algorithms) -> dict:
    hashes = {a: hashlib.new(a) for a in algorithms}
    for chunk in _chunks(f):
        for h in hashes.values():
            h.update(chunk)
    return {a: h.hexdigest() for a, h in hashes.items()}


def _decompressed_digests(path: Path, algorithms) -> dict | None:
    """Digests of the gzip-decompressed content of ``path`` (streamed), or None when it does not decompress."""
    try:
        with gzip.open(path, "rb") as f:
            return _digests(f, algorithms)
    except (OSError, EOFError, zlib.error):
        return None


def _words(digests: dict) -> str:
    return " and ".join(f"{a} {d}" for a, d in digests.items())


def _mismatch(path: Path, whole: dict, content: dict, size) -> str | None:
    """None when ``path`` holds the expected bytes; else what was expected and what was found, in one line."""
    found = {}
    if whole:
        with path.open("rb") as f:
            found = _digests(f, whole)
        if found == whole:
            return None
    unpacked = _decompressed_digests(path, content) if content else None
    if content and unpacked == content:
        return None
    expected = []
    if whole:
        expected.append(_words(whole) + (f" ({size:,} bytes, as published)" if size else ""))
    if content:
        expected.append(_words(content) + " once decompressed")
    seen = []
    if whole:
        seen.append(f"{_words(found)} ({path.stat().st_size:,} bytes)")
    if content:
        seen.append("a file that does not decompress (not gzip, or corrupt)" if unpacked is None
                    else _words(unpacked) + " once decompressed")
    return f"checksum mismatch: expected {' or '.join(expected)}; found {', and '.join(seen)}"


def verify(path, *, sha256: str | None = None, md5: str | None = None, decompressed_sha256: str | None = None,
           decompressed_md5: str | None = None, size: int | None = None, advice: str = "",
           sha512: str | None = None) -> Path:
    """Return ``path`` when it holds the expected bytes; raise ChecksumError naming it otherwise.

    The checksums are ``fetch``'s (at least one; see the module's docstring); ``size`` (the published
    size of the file) only makes the message clearer. ``advice`` is appended to the message, e.g.
    "; delete it and pass --download to fetch a fresh copy".
    """
    whole, content = _expected(sha256, md5, decompressed_sha256, decompressed_md5, "verify", sha512)
    path = Path(path)
    problem = _mismatch(path, whole, content, size)
    if problem:
        raise ChecksumError(f"{path}: {problem}{advice}")
    return path


# ------------------------------------------------------------------------------------------- download

def fetch(urls, dest, *, sha256: str | None = None, md5: str | None = None, decompressed_sha256: str | None = None,
          decompressed_md5: str | None = None, size: int | None = None, what: str | None = None,
          progress: bool = True, timeout: float = TIMEOUT_S, log=None, sha512: str | None = None) -> Path:
    """Download ``dest`` from ``urls`` and return its path, once its checksum matched.

    urls: one URL or a sequence of them (mirrors of the same file), tried in order until one delivers
        the expected bytes.
    dest: the file to create (its folder is created if need be). An existing file there is replaced,
        but only by a verified download: the caller decides whether to fetch at all.
    sha256, sha512, md5, decompressed_sha256, decompressed_md5: the expected checksums (at least one);
        see the module's docstring for how they combine (sha512: what the npm registry publishes).
    size: the published size in bytes, for the progress bar when the server announces none, and for
        messages. Not enforced: a mirror's recompressed copy of a .gz may differ in size yet be genuine.
    what: how messages name the file (default: its file name), e.g. "mnist t10k-images-idx3-ubyte.gz".
    progress: show a tqdm progress bar on stderr, only when stderr is a terminal (never in a log file).
    timeout: seconds a connection may stay silent before that mirror counts as failed.
    log: called with one line when a mirror fails and the next is tried (None: quiet).

    Raises DownloadError, one line, naming ``what`` and then each URL tried with why it failed (HTTP
    error, timeout, truncated transfer, or the checksum it should have had and the one it had).
    ValueError for bad arguments (no URL, no checksum, a checksum that is not hexadecimal).
    """
    whole, content = _expected(sha256, md5, decompressed_sha256, decompressed_md5, "fetch", sha512)
    urls = [urls] if isinstance(urls, str) else list(urls)
    if not urls or not all(isinstance(u, str) and u for u in urls):
        raise ValueError(f"fetch: expected one URL or a list of URLs, got {urls!r}")
    dest = Path(dest)
    what = what or dest.name
    dest.parent.mkdir(parents=True, exist_ok=True)
    failures = []
    for i, url in enumerate(urls):
        # Not storage.atomic_write: the finished temporary file must be read back (checksum) before the rename.
        fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as out:
                _stream(url, out, size, progress, timeout)
                out.flush()
                os.fsync(out.fileno())
            problem = _mismatch(Path(tmp), whole, content, size)
            if problem is None:
                os.chmod(tmp, 0o666 & ~_umask())  # what a plain open() would give, not mkstemp's 0o600
                os.replace(tmp, dest)
                return dest
            failures.append(f"{url}: {problem}")
        except (OSError, ValueError, http.client.HTTPException) as exc:  # URLError, timeouts, bad URLs
            failures.append(f"{url}: {exc}")
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        if log is not None and i + 1 < len(urls):
            log(f"{failures[-1]}; trying the next mirror")
    raise DownloadError(f"could not download {what} from any mirror: " + " | ".join(failures))  # one line


def _umask() -> int:
    mask = os.umask(0)  # reading the umask means setting it, so it is set straight back
    os.umask(mask)
    return mask


def _stream(url: str, out, size, progress: bool, timeout: float) -> None:
    """Copy ``url`` into the binary file ``out``, with a progress bar when stderr is a terminal.

    Raises OSError when the server sends fewer bytes than it announced, so that a cut connection reads
    as what it is rather than as a checksum mismatch.
    """
    from tqdm import tqdm  # only downloads need it

    with urllib.request.urlopen(url, timeout=timeout) as response:
        length = response.headers.get("Content-Length", "")
        announced = int(length) if length.isdigit() else None
        received = 0
        with tqdm(total=announced or size, unit="B", unit_scale=True, desc=url.rsplit("/", 1)[-1],
                  disable=not (progress and sys.stderr.isatty())) as bar:
            for chunk in _chunks(response):
                out.write(chunk)
                received += len(chunk)
                bar.update(len(chunk))
    if announced is not None and received != announced:
        raise OSError(f"truncated: the server announced {announced:,} bytes and sent {received:,}")
