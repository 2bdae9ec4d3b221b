"""What a wheel built from a clean clone holds: every module minigan train and the lessons import (setuptools
finds a package only where an __init__.py is), the embedded digits, the licence file."""
import re
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib", reason="tomllib is in the standard library from Python 3.11")

ROOT = Path(__file__).resolve().parent.parent


def test_every_folder_of_modules_is_a_package_the_wheel_takes():
    folders = {p.parent for p in (ROOT / "minigan").rglob("*.py") if "__pycache__" not in p.parts}
    missing = sorted(str(f.relative_to(ROOT)) for f in folders if not (f / "__init__.py").is_file())
    assert not missing, f"folders of modules without __init__.py (left out of the wheel): {missing}"


def test_the_package_data_patterns_name_the_embedded_digits():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["minigan"]
    shipped = {p.relative_to(ROOT / "minigan") for pattern in patterns for p in (ROOT / "minigan").glob(pattern)}
    assert Path("data/digits.csv.gz") in shipped and Path("data/digits-description.rst") in shipped


def test_the_licence_is_an_spdx_string_and_its_file_names_the_data():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == "MIT" and project["license-files"] == ["LICENSE"]
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License") and re.search(r"CC BY 4\.0", text) and "digits.csv.gz" in text
