"""A named table of entries that users can extend: data sets, architectures, loss kinds.

A ``Registry`` is a dict (name -> entry, in registration order) that refuses to overwrite an entry
by accident and, asked for a name it lacks, raises a ValueError listing the names it has.
"""
from __future__ import annotations


class Registry(dict):
    def __init__(self, what: str):
        super().__init__()
        self.what = what  # "dataset", "architecture", ...: the word in error messages

    def add(self, name: str, entry, replace: bool = False):
        """Register ``entry`` under ``name`` (``replace=True`` to overwrite one of the same name)."""
        if name in self and not replace:
            raise ValueError(f"a {self.what} named {name!r} is already registered")
        self[name] = entry
        return entry

    def remove(self, name: str) -> None:
        """Forget ``name`` (a test that registered an entry of its own cleans up with it)."""
        self.pop(name, None)

    def find(self, name: str):
        """The entry ``name``; ValueError listing the known names if there is none."""
        if name not in self:
            raise ValueError(f"unknown {self.what} {name!r}: expected one of {tuple(self)}")
        return self[name]
