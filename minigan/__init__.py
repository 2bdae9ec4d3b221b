"""minigan: a from-scratch GAN library on NumPy or CuPy, every derivative written by hand.

``minigan.backend`` and ``minigan.set_default_dtype`` load on first use, so that importing a part of the
package (the command line, say) reads MINIGAN_BACKEND only when an array is first needed, and a bad value
can be reported as one line.
"""
__version__ = "0.1.0"
__all__ = ["backend", "set_default_dtype", "__version__"]


def __getattr__(name):
    if name in ("backend", "set_default_dtype"):
        import importlib

        backend = importlib.import_module(f"{__name__}.backend")  # (``from . import`` would call us again)
        return backend if name == "backend" else backend.set_default_dtype
    raise AttributeError(f"module 'minigan' has no attribute {name!r}")
