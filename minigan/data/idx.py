"""The IDX file format of MNIST and Fashion-MNIST, gzipped or not.

An IDX file is a header then the data, all big-endian:
two zero bytes, a type byte (the element type), a byte ``ndim``, ``ndim`` uint32 sizes, then
``prod(sizes)`` elements in C order. MNIST images are type 0x08 (uint8) of shape (N, 28, 28), its
labels type 0x08 of shape (N,).

The reader trusts nothing: a bad header, fewer or more data bytes than the header promises, or a corrupt
gzip stream is a ``DataFileError`` naming the file, never a silently wrong array. It never allocates
what a header merely claims: the data are read in chunks and the read stops at the promised size.
"""
from __future__ import annotations

import gzip
import math
import os
import zlib
from pathlib import Path

import numpy as np

GZIP_MAGIC = b"\x1f\x8b"
# The element types of the IDX specification, by type byte; multi-byte types are big-endian on disk.
IDX_TYPES = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CHUNK = 1 << 20


class DataFileError(ValueError):
    """A data file that cannot be trusted: bad header, wrong size, corrupt compression or wrong checksum."""


def read_idx(path) -> np.ndarray:
    """The array stored in the IDX file ``path`` (gzipped or raw), in native byte order.

    Shape and dtype come from the header, e.g. uint8 of shape (10000, 28, 28) for MNIST test images.
    A gzipped file is recognised by its content (the gzip magic bytes), whatever its name.
    """
    path = Path(path)
    with path.open("rb") as raw:  # a missing file stays a FileNotFoundError
        if raw.read(2) != GZIP_MAGIC:
            raw.seek(0)
            return _read(raw, path, os.fstat(raw.fileno()).st_size)
        raw.seek(0)
        try:
            with gzip.GzipFile(fileobj=raw) as stream:
                return _read(stream, path, None)
        except (OSError, EOFError, zlib.error) as exc:  # gzip.BadGzipFile is an OSError
            raise DataFileError(f"{path}: corrupt or truncated gzip stream ({exc})") from exc


def _read(stream, path: Path, file_size: int | None) -> np.ndarray:
    """Parse an IDX stream; ``file_size`` is the byte count of a raw file (None for a gzip stream)."""
    head = stream.read(4)
    if len(head) < 4 or head[:2] != b"\0\0":
        found = head.hex() if head else "an empty file"
        raise DataFileError(f"{path}: not an IDX file: expected a 4-byte magic number 0000TTNN "
                            f"(two zero bytes, type, ndim), found {found}")
    type_byte, ndim = head[2], head[3]
    if type_byte not in IDX_TYPES:
        known = ", ".join(f"0x{t:02X}" for t in IDX_TYPES)
        raise DataFileError(f"{path}: unsupported IDX element type 0x{type_byte:02X} (expected one of {known})")
    sizes = stream.read(4 * ndim)
    if len(sizes) < 4 * ndim:
        raise DataFileError(f"{path}: truncated header: {ndim} dimension sizes need {4 * ndim} bytes, "
                            f"found {len(sizes)}")
    shape = tuple(int(s) for s in np.frombuffer(sizes, dtype=">u4"))
    dtype = IDX_TYPES[type_byte]
    expected = math.prod(shape) * dtype.itemsize  # Python ints: a huge fake header cannot overflow
    promise = f"the header promises shape {shape} of {dtype.name}, i.e. {expected:,} data bytes"

    if file_size is not None:  # raw file: compare with its size before reading anything more
        found = file_size - 4 - 4 * ndim
        if found != expected:
            problem = "truncated" if found < expected else f"{found - expected:,} trailing extra bytes"
            raise DataFileError(f"{path}: {problem}: {promise}, the file holds {found:,}")

    data = bytearray()
    while len(data) < expected:
        chunk = stream.read(min(_CHUNK, expected - len(data)))
        if not chunk:
            raise DataFileError(f"{path}: truncated: {promise}, the (decompressed) file holds {len(data):,}")
        data += chunk
    if stream.read(1):  # also makes gzip reach its end and check the CRC
        raise DataFileError(f"{path}: trailing extra bytes: {promise}, the (decompressed) file holds more")
    array = np.frombuffer(data, dtype=dtype).reshape(shape)
    return array.astype(dtype.newbyteorder("="), copy=False)
