"""Parameter initialisation: PyTorch's layer defaults and the DCGAN rule.

All draws come from the host generator (``backend.host_rng()``, re-seeded by
``backend.seed``) and are then moved to the active backend, so a seed gives the
same initial weights on NumPy and on CuPy.
"""
from __future__ import annotations

import math

from .. import backend


def uniform(shape, bound: float):
    """An array of ``shape`` drawn from U(-bound, bound), in the default dtype, on the active backend."""
    values = backend.host_rng().uniform(-bound, bound, size=shape)
    return backend.asarray(values, dtype=backend.default_dtype())


def fan_in_uniform(shape, fan_in: int):
    """PyTorch's default for Linear/Conv weights and biases: U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
    return uniform(shape, 1.0 / math.sqrt(fan_in))


def normal_(array, mean: float, std: float) -> None:
    """Overwrite ``array`` in place with draws from N(mean, std^2)."""
    values = backend.host_rng().normal(mean, std, size=array.shape)
    array[...] = backend.get_array_module(array).asarray(values, dtype=array.dtype)


def dcgan_init(module) -> None:
    """The DCGAN paper's initialisation, applied to every layer under ``module`` in place.

    Dense / Conv2d / ConvTranspose2d: W ~ N(0, 0.02^2), b = 0.
    BatchNorm: gamma ~ N(1, 0.02^2), beta = 0.
    """
    for m in module.modules():
        if "gamma" in m.params:
            normal_(m.params["gamma"], 1.0, 0.02)
            m.params["beta"].fill(0)
        elif "W" in m.params:
            normal_(m.params["W"], 0.0, 0.02)
            if "b" in m.params:
                m.params["b"].fill(0)
