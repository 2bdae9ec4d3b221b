"""Lesson 32's exercise solved (as minigan/penalties.py does it); near misses that fail."""
from minigan import backend


def _shifted(D, x, v, h, plus, minus, divisor):
    xp = backend.get_array_module(x)
    n = x.shape[0]
    D(xp.concatenate([plus(x, v, h), minus(x, v, h)]))
    c = 1.0 / divisor
    upstream = xp.concatenate([xp.full((n, 1), c, dtype=x.dtype),
                               xp.full((n, 1), -c, dtype=x.dtype)])
    D.backward(upstream, input_grad=False)


def hessian_vector_product(D, x, v, h):
    _shifted(D, x, v, h, lambda x, v, h: x + h * v, lambda x, v, h: x - h * v, 2 * h)


def near_miss__hessian_vector_product__divides_by_h(D, x, v, h):
    """The central difference over h instead of 2h: twice the gradient."""
    _shifted(D, x, v, h, lambda x, v, h: x + h * v, lambda x, v, h: x - h * v, h)


def near_miss__hessian_vector_product__one_sided_with_2h(D, x, v, h):
    """D(x + hv) - D(x) over the central formula's 2h: half the gradient."""
    _shifted(D, x, v, h, lambda x, v, h: x + h * v, lambda x, v, h: x, 2 * h)


def near_miss__hessian_vector_product__wrong_sign(D, x, v, h):
    """D(x - hv) - D(x + hv): the penalty would be climbed instead of descended."""
    _shifted(D, x, v, h, lambda x, v, h: x - h * v, lambda x, v, h: x + h * v, 2 * h)
