"""minigan: a from-scratch GAN library on NumPy or CuPy, every derivative written by hand."""
from . import backend
from .backend import set_default_dtype

__version__ = "0.1.0"
__all__ = ["backend", "set_default_dtype", "__version__"]
