"""The Google (Noto) and Twitter (Twemoji) emoji as colour images, read from the emoji-data project's packages.

The emoji-data project (Cal Henderson, MIT licence) publishes one npm package per vendor,
``emoji-datasource-google`` and ``emoji-datasource-twitter``; version 16.0.0 is read here. What is used of a
package: ``emoji.json`` (one entry per emoji: its category, ``sort_order``, the cell ``sheet_x``, ``sheet_y``
of its picture, and its skin-tone variations), ``categories.json`` (the category names, in order) and the
sprite sheet ``img/<vendor>/sheets-clean/64.png``: 62 x 62 cells of 64 x 64 RGBA pictures, cell (x, y) at
pixel (x * 66 + 1, y * 66 + 1) (one pixel of padding around each). The images' licences: Noto emoji,
Apache License 2.0; Twemoji, CC BY 4.0 ("Twemoji by Twitter, Inc. and other contributors"). minigan ships
none of them: ``--data-dir`` points at a package, or ``--download`` fetches the package's .tgz.

Where the files may be (``--data-dir``): the package folder itself (``emoji.json`` inside, or the
``package/`` folder that unpacking the .tgz gives), its .tgz, or a folder holding ``emoji-datasource-<vendor>/``
or ``emoji-datasource-<vendor>-16.0.0.tgz`` — so one folder serves both vendors. Every file read is checked
against the SHA-256 of version 16.0.0: the canonical order and the hold-out below are that version's.

The images (``load_emoji``), 3,786 per vendor: each base emoji in ``sort_order``, followed by its
skin-tone variations sorted by their keys. A 64-pixel cell is composited on white in float,
rgb * a + 255 * (1 - a) with a = alpha / 255 (the same as averaging premultiplied RGBA), reduced
to S x S by area means (no rounding), and scaled x / 127.5 - 1: float32 (3, S, S) in [-1, 1].
Labels: the category's index in ``categories.json`` (0 Smileys & Emotion, 1 People & Body,
2 Component, ..., 9 Flags); a variation has its base emoji's.

Held-out images: the images are grouped by base emoji (its rank r in sort_order, ``emoji_groups``),
and ``--holdout F`` keeps out the groups where floor((r + 1) F) > floor(r F), F as an exact fraction
(``registry.spread_holdout``): spread evenly over sort_order, so over every category, and never a base
emoji without its variations.
"""
from __future__ import annotations

import hashlib
import io
import json
import tarfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .fetch import default_data_dir, fetch
from .idx import DataFileError

VENDORS = ("google", "twitter")
VERSION = "16.0.0"
CELL, PAD = 64, 1          # the 64-pixel sheet: 64 x 64 pictures, one pixel of padding around each
IMAGE_SIZES = (16, 32, 64)  # divisors of 64: the area mean takes whole blocks
COUNT = 3786               # images per vendor: 1,911 base emoji and 1,875 skin-tone variations

# SHA-256 of the files read, version 16.0.0 (emoji.json and categories.json are the same for both vendors).
_EMOJI_JSON = "1d602e65be88772bf8cc368ce16b855d719eeddbafe128d471b80203f494d29f"
_CATEGORIES_JSON = "05b7c3b10440d2c111064c72f047f22d242675feabf208e89df4494c36ca1ad7"
_SHEETS = {"google": "795a0c598d162c9a4aae23f2188c607b8c9bc1912cb7d84382459f8de91a3ae1",
           "twitter": "daa7711b29897de6bd811a4cfeae911d8d8baa7f7e25c97d9b64354ae425ff5c"}
# The npm registry's published tarballs and their SHA-512 ("integrity"), for --download.
_TARBALL_URL = "https://registry.npmjs.org/emoji-datasource-{vendor}/-/emoji-datasource-{vendor}-{version}.tgz"
_TARBALL_SHA512 = {
    "google": "6517b17f3b3b315a0b9e6cd998db0ee132a19c0269e43fbe566e8fa54a47fe31"
              "104257a6a7797cf028d9f83a19d9f68cf51e10c5990e3c90a84fc0e53e17d0dc",
    "twitter": "ec5fae0ae1c7fbb427adcd793f9b676ef2a483d13ab65ce2e0c9d3dae5b54653"
               "78a4b613cdae9c3ff76cb487d20ccb698c52d6b997b05a0f2305bb8bd9ec842d",
}


def package_name(vendor: str) -> str:
    return f"emoji-datasource-{vendor}"


def tarball_name(vendor: str) -> str:
    return f"{package_name(vendor)}-{VERSION}.tgz"


def tarball_url(vendor: str) -> str:
    return _TARBALL_URL.format(vendor=vendor, version=VERSION)


def how_to_get(vendor: str) -> str:
    return (f"pass --download, or get {tarball_name(vendor)} with `npm pack {package_name(vendor)}@{VERSION}` "
            f"(or from the emoji-data project's releases) and point --data-dir at it")


# ------------------------------------------------------------------------------------ finding the package

@dataclass(frozen=True)
class Package:
    """One vendor's package, as a folder or a .tgz: ``read(relative path) -> bytes``."""
    vendor: str
    path: Path

    def read(self, name: str) -> bytes:
        if self.path.is_dir():
            file = self.path / name
            if not file.is_file():
                raise DataFileError(f"{self.path}: no {name} in this {package_name(self.vendor)} folder")
            return file.read_bytes()
        with tarfile.open(self.path, "r:gz") as tar:  # members are read, never extracted to disk
            try:
                member = tar.extractfile(f"package/{name}")
            except KeyError:
                member = None
            if member is None:
                raise DataFileError(f"{self.path}: no package/{name} in this .tgz; expected the npm package "
                                    f"{package_name(self.vendor)}@{VERSION}")
            return member.read()


def _is_package_folder(path: Path) -> bool:
    return (path / "emoji.json").is_file()


def find_package(data_dir, vendor: str, download: bool = False, log=print) -> Package:
    """The package of ``vendor`` at ``data_dir`` (default: the cache's "emoji" folder), as the module says;
    fetched there as its .tgz when absent and ``download`` is true. FileNotFoundError, one line, otherwise."""
    if vendor not in VENDORS:
        raise ValueError(f"unknown emoji vendor {vendor!r}: expected one of {VENDORS}")
    root = Path(data_dir).expanduser() if data_dir is not None else default_data_dir("emoji")
    if root.is_file():
        return Package(vendor, root)
    candidates = [root, root / "package", root / package_name(vendor), root / package_name(vendor) / "package"]
    for folder in candidates:
        if _is_package_folder(folder):
            return Package(vendor, folder)
    tarball = root / tarball_name(vendor)
    if tarball.is_file():
        return Package(vendor, tarball)
    if download:
        log(f"downloading {tarball_name(vendor)} into {root}")
        fetch(tarball_url(vendor), tarball, sha512=_TARBALL_SHA512[vendor], what=tarball_name(vendor))
        return Package(vendor, tarball)
    raise FileNotFoundError(f"emoji-{vendor}: no {package_name(vendor)} package (folder or .tgz) in {root}; "
                            f"{how_to_get(vendor)}")


def _checked(package: Package, name: str, sha256: str) -> bytes:
    content = package.read(name)
    if hashlib.sha256(content).hexdigest() != sha256:
        raise DataFileError(f"{package.path}: {name} is not the one of {package_name(package.vendor)}@{VERSION} "
                            f"(expected SHA-256 {sha256}); {how_to_get(package.vendor)}")
    return content


# ------------------------------------------------------------------------------------------ the images

def canonical_order(entries: list, categories: list) -> tuple[list, np.ndarray, np.ndarray]:
    """The images' cells in canonical order, with their labels and groups.

    entries: emoji.json's list; categories: the category names in order. Returns ``(cells, labels,
    groups)``: cells [(sheet_x, sheet_y), ...], labels int64 (N,) the category index, groups int64 (N,)
    the rank of the image's base emoji in sort_order (a base emoji and its variations share it).
    """
    index = {name: i for i, name in enumerate(categories)}
    cells, labels, groups = [], [], []
    for rank, entry in enumerate(sorted(entries, key=lambda e: e["sort_order"])):
        variations = entry.get("skin_variations") or {}
        for item in [entry] + [variations[key] for key in sorted(variations)]:
            cells.append((item["sheet_x"], item["sheet_y"]))
            labels.append(index[entry["category"]])
            groups.append(rank)
    return cells, np.array(labels, dtype=np.int64), np.array(groups, dtype=np.int64)


def cut_cells(sheet: np.ndarray, cells: list, image_size: int, chunk: int = 256) -> np.ndarray:
    """The pictures at ``cells`` of an RGBA sheet (H, W, 4) uint8, composited on white and reduced to
    ``image_size`` by area means: float32 (N, 3, S, S) in [-1, 1]. Done ``chunk`` cells at a time in float64."""
    if CELL % image_size:
        raise ValueError(f"image size {image_size}: expected a divisor of {CELL} (one of {IMAGE_SIZES})")
    block = CELL // image_size
    offsets = np.arange(CELL)
    out = np.empty((len(cells), 3, image_size, image_size), dtype=np.float32)
    xy = np.asarray(cells, dtype=np.int64).reshape(-1, 2) * (CELL + 2 * PAD) + PAD
    for start in range(0, len(cells), chunk):
        x, y = xy[start:start + chunk, 0], xy[start:start + chunk, 1]
        rgba = sheet[(y[:, None] + offsets)[:, :, None], (x[:, None] + offsets)[:, None, :]].astype(np.float64)
        alpha = rgba[..., 3:] / 255.0
        white = rgba[..., :3] * alpha + 255.0 * (1.0 - alpha)                  # (n, 64, 64, 3)
        n = len(white)
        small = white.reshape(n, image_size, block, image_size, block, 3).mean(axis=(2, 4))
        out[start:start + n] = (small / 127.5 - 1.0).transpose(0, 3, 1, 2)
    return out


def _decode_sheet(content: bytes) -> np.ndarray:
    """The RGBA pixels (H, W, 4) uint8 of a PNG already checked by its SHA-256."""
    from PIL import Image  # imported here: reading a data set, not importing minigan, needs Pillow

    with Image.open(io.BytesIO(content)) as image:
        return np.asarray(image.convert("RGBA"))


def _entries(package: Package) -> tuple[list, list]:
    """emoji.json's entries and the category names, both checked."""
    entries = json.loads(_checked(package, "emoji.json", _EMOJI_JSON))
    return entries, list(json.loads(_checked(package, "categories.json", _CATEGORIES_JSON)))


def emoji_groups(vendor: str, data_dir=None, download: bool = False, log=print) -> np.ndarray:
    """Each image's group, int64 (3786,): the rank of its base emoji in sort_order."""
    return canonical_order(*_entries(find_package(data_dir, vendor, download, log)))[2]


def load_emoji(vendor: str, data_dir=None, image_size: int = 32, download: bool = False,
               log=print) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(images, labels, groups)`` of one vendor's emoji, as the module docstring says: float32
    (3786, 3, S, S) in [-1, 1], int64 labels (3786,) in 0..9, int64 groups (3786,) (base emoji rank)."""
    if image_size not in IMAGE_SIZES:
        raise ValueError(f"image size {image_size}: expected one of {IMAGE_SIZES}")
    package = find_package(data_dir, vendor, download, log)
    entries, categories = _entries(package)
    sheet_name = f"img/{vendor}/sheets-clean/{CELL}.png"
    sheet = _decode_sheet(_checked(package, sheet_name, _SHEETS[vendor]))
    cells, labels, groups = canonical_order(entries, categories)
    return cut_cells(sheet, cells, image_size), labels, groups

