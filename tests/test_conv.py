"""Conv2d / ConvTranspose2d: against the naive loops, the adjoint identity, output sizes."""
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from minigan import backend
from minigan.layers import Conv2d, ConvTranspose2d
from minigan.layers.conv_naive import conv2d_naive, conv_transpose2d_naive

GEOMETRIES = [  # (H, W, kernel, stride, padding); several with (H + 2p - k) % s != 0
    (5, 5, 3, 1, 1), (7, 7, 4, 2, 1), (6, 7, 3, 2, 0), (8, 9, 5, 3, 2), (4, 4, 1, 1, 0), (28, 28, 4, 2, 1),
    (9, 6, 2, 3, 0),
]


@pytest.mark.parametrize("H,W,k,s,p", GEOMETRIES)
def test_conv2d_matches_naive_loops(H, W, k, s, p, xp, float64, rng):
    conv = Conv2d(3, 4, k, s, p)
    x = xp.asarray(rng.standard_normal((2, 3, H, W)))
    expected = conv2d_naive(x, conv.params["W"], s, p) + conv.params["b"].reshape(1, -1, 1, 1)
    y = conv(x)
    assert y.shape == ((2, 4, (H + 2 * p - k) // s + 1, (W + 2 * p - k) // s + 1))
    assert float(abs(y - expected).max()) < 1e-12


@pytest.mark.parametrize("H,W,k,s,p", GEOMETRIES)
def test_conv_transpose2d_matches_naive_loops(H, W, k, s, p, xp, float64, rng):
    convT = ConvTranspose2d(3, 2, k, s, p)
    x = xp.asarray(rng.standard_normal((2, 3, H, W)))
    expected = conv_transpose2d_naive(x, convT.params["W"], s, p) + convT.params["b"].reshape(1, -1, 1, 1)
    y = convT(x)
    assert y.shape == (2, 2, (H - 1) * s - 2 * p + k, (W - 1) * s - 2 * p + k)
    assert float(abs(y - expected).max()) < 1e-12


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 3), c_in=st.integers(1, 3), c_out=st.integers(1, 3), k=st.integers(1, 5),
       s=st.integers(1, 3), p=st.integers(0, 2), H=st.integers(1, 12), W=st.integers(1, 12),
       seed=st.integers(0, 2**31))
def test_conv_transpose_is_the_adjoint_of_conv(n, c_in, c_out, k, s, p, H, W, seed):
    """<conv(x), y> == <x, convT(y)> with the same W, for any geometry (NumPy, float64).

    Where (H + 2p - k) % s != 0, output_padding restores the rows conv skips over.
    """
    assume(H + 2 * p >= k and W + 2 * p >= k)
    assume((H + 2 * p - k) % s == (W + 2 * p - k) % s)  # one output_padding for both axes
    r = backend.rng(seed)
    backend.set_default_dtype("float64")
    try:
        conv = Conv2d(c_in, c_out, k, s, p, bias=False)
        convT = ConvTranspose2d(c_out, c_in, k, s, p, output_padding=(H + 2 * p - k) % s, bias=False)
    finally:
        backend.set_default_dtype("float32")
    convT.params["W"][...] = conv.params["W"]
    x = backend.asarray(r.standard_normal((n, c_in, H, W)))
    cx = conv(x)
    y = backend.asarray(r.standard_normal(cx.shape))
    cty = convT(y)
    assert cty.shape == x.shape
    lhs, rhs = float((cx * y).sum()), float((x * cty).sum())
    scale = float(abs(cx * y).sum())  # the size of the terms that cancel
    assert abs(lhs - rhs) <= 1e-10 * max(1.0, scale)
    assert float(abs(conv.backward(y) - cty).max()) <= 1e-12 * max(1.0, scale)


def test_conv_input_gradient_is_the_transposed_convolution(xp, float64, rng):
    """Conv2d.backward(G) equals ConvTranspose2d(G) with the same W (and vice versa)."""
    conv = Conv2d(2, 3, 4, 2, 1, bias=False)
    convT = ConvTranspose2d(3, 2, 4, 2, 1, bias=False)
    convT.params["W"][...] = conv.params["W"]
    x = xp.asarray(rng.standard_normal((2, 2, 8, 8)))
    G = xp.asarray(rng.standard_normal(conv(x).shape))
    assert float(abs(conv.backward(G) - convT(G)).max()) < 1e-12
    out = convT(G)
    assert float(abs(convT.backward(x) - conv(x)).max()) < 1e-12
    assert out.shape == x.shape


def test_conv_rejects_wrong_channels_and_tiny_inputs(xp):
    conv = Conv2d(3, 8, 4, 2, 1)
    with pytest.raises(ValueError, match=r"Conv2d\(3, 8.*expected input of shape \(N, 3, \*, \*\), got \(2, 1, 8, 8\)"):
        conv(xp.zeros((2, 1, 8, 8), dtype=xp.float32))
    with pytest.raises(ValueError, match="smaller than the kernel"):
        conv(xp.zeros((2, 3, 1, 1), dtype=xp.float32))
    with pytest.raises(ValueError, match="kernel_size >= 1"):
        Conv2d(1, 1, 0)
