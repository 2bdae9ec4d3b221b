"""InstanceNorm2d and ReflectionPad2d against torch.nn's, in float64, forward and backward (optional: skipped
without PyTorch, which minigan never needs at run time)."""
import numpy as np
import pytest

from minigan import backend
from minigan.layers import InstanceNorm2d, ReflectionPad2d

torch = pytest.importorskip("torch", reason="PyTorch is not installed (pip install torch): optional comparison")


def compare(ours, theirs, x, rng):
    """(max |y - y_torch|, max |dL/dx - torch's|) for one random output gradient."""
    with backend.using_dtype("float64"):
        y = ours(backend.asarray(x, dtype="float64"))
        g = rng.standard_normal(y.shape)
        grad = ours.backward(backend.asarray(g, dtype="float64"))
    t = torch.tensor(x, requires_grad=True)
    out = theirs(t)
    out.backward(torch.tensor(g))
    return (np.abs(backend.to_numpy(y) - out.detach().numpy()).max(),
            np.abs(backend.to_numpy(grad) - t.grad.numpy()).max())


@pytest.mark.parametrize("padding", [1, 3, (0, 2, 1, 3), (2, 0, 0, 1)])
def test_reflection_pad_matches_torch(padding):
    rng = np.random.default_rng(0)
    errors = compare(ReflectionPad2d(padding), torch.nn.ReflectionPad2d(padding), rng.standard_normal((2, 3, 4, 5)),
                     rng)
    assert max(errors) < 1e-12


@pytest.mark.parametrize("affine", [False, True])
def test_instance_norm_matches_torch(affine):
    rng = np.random.default_rng(1)
    with backend.using_dtype("float64"):
        ours = InstanceNorm2d(3, affine=affine)
    theirs = torch.nn.InstanceNorm2d(3, affine=affine).double()
    if affine:
        gamma, beta = rng.standard_normal(3), rng.standard_normal(3)
        ours.params["gamma"][...], ours.params["beta"][...] = gamma, beta
        with torch.no_grad():
            theirs.weight.copy_(torch.tensor(gamma))
            theirs.bias.copy_(torch.tensor(beta))
    errors = compare(ours, theirs, 3 + 2 * rng.standard_normal((2, 3, 4, 5)), rng)
    assert max(errors) < 1e-12
    if affine:
        assert np.abs(backend.to_numpy(ours.grads["gamma"]) - theirs.weight.grad.numpy()).max() < 1e-12
        assert np.abs(backend.to_numpy(ours.grads["beta"]) - theirs.bias.grad.numpy()).max() < 1e-12
    ours.eval()  # the same in evaluation mode: no running statistics
    with backend.using_dtype("float64"):
        x = rng.standard_normal((1, 3, 3, 3))
        assert np.abs(backend.to_numpy(ours(x)) - theirs.eval()(torch.tensor(x)).detach().numpy()).max() < 1e-12


def test_reflection_pad_refuses_padding_as_wide_as_the_image():
    with pytest.raises(ValueError, match="W > 4"):
        ReflectionPad2d((4, 0, 0, 0))(np.zeros((1, 1, 5, 4)))
