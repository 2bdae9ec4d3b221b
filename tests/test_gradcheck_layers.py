"""Every layer's backward against central differences, float64, tolerance 1e-7 (minigan.gradcheck's documented bound)."""
import pytest

from minigan import backend
from minigan.gradcheck import check_layer, numerical_gradient, rel_error
from minigan.layers import (BatchNorm1d, BatchNorm2d, Concat, Conv2d, ConvTranspose2d, Dense, Flatten, Identity,
                            InstanceNorm2d, LabelPlanes, LeakyReLU, ReflectionPad2d, ReLU, Reshape, Residual, Scale,
                            Sequential, Sigmoid, Tanh)

TOL = 1e-7

CASES = {
    "dense": (lambda: Dense(5, 3), (4, 5)),
    "dense-nobias": (lambda: Dense(6, 2, bias=False), (3, 6)),
    "dense-wide-out1": (lambda: Dense(7, 1), (5, 7)),
    "leakyrelu": (lambda: LeakyReLU(0.2), (4, 6)),
    "leakyrelu-4d": (lambda: LeakyReLU(0.01), (2, 3, 2, 2)),
    "relu": (lambda: ReLU(), (4, 6)),
    "tanh": (lambda: Tanh(), (4, 6)),
    "sigmoid": (lambda: Sigmoid(), (4, 6)),
    "scale": (lambda: Scale(-2.5), (4, 6)),
    "batchnorm1d": (lambda: BatchNorm1d(4), (6, 4)),
    "batchnorm1d-n3": (lambda: BatchNorm1d(3), (3, 3)),
    "batchnorm2d": (lambda: BatchNorm2d(3), (4, 3, 3, 2)),
    "conv-k3s1p1": (lambda: Conv2d(2, 3, 3, 1, 1), (2, 2, 5, 5)),
    "conv-k3s2p0-ragged": (lambda: Conv2d(2, 3, 3, 2, 0), (2, 2, 6, 7)),
    "conv-k4s2p1": (lambda: Conv2d(2, 3, 4, 2, 1), (2, 2, 7, 7)),
    "conv-k5s3p2-ragged": (lambda: Conv2d(1, 2, 5, 3, 2), (2, 1, 8, 9)),
    "conv-k1-nobias": (lambda: Conv2d(3, 2, 1, bias=False), (2, 3, 3, 3)),
    "convT-k4s2p1": (lambda: ConvTranspose2d(2, 3, 4, 2, 1), (2, 2, 3, 3)),
    "convT-k3s2p0": (lambda: ConvTranspose2d(2, 3, 3, 2, 0), (2, 2, 3, 4)),
    "convT-k3s1p1": (lambda: ConvTranspose2d(3, 2, 3, 1, 1), (2, 3, 4, 4)),
    "convT-k5s3p1": (lambda: ConvTranspose2d(1, 2, 5, 3, 1), (2, 1, 2, 3)),
    "convT-outpad": (lambda: ConvTranspose2d(2, 2, 3, 2, 1, output_padding=1), (2, 2, 3, 2)),
    "instancenorm2d": (lambda: InstanceNorm2d(3), (2, 3, 4, 3)),
    "instancenorm2d-affine": (lambda: InstanceNorm2d(2, affine=True), (3, 2, 3, 3)),
    "reflectionpad2d": (lambda: ReflectionPad2d(2), (2, 2, 3, 4)),
    "reflectionpad2d-uneven": (lambda: ReflectionPad2d((0, 3, 1, 2)), (1, 2, 3, 5)),
    # CycleGAN's in-and-out block: mirror 3 pixels, a 7x7 convolution (no bias: the normalisation removes it), IN, ReLU
    "reflect-conv7-in": (lambda: Sequential(ReflectionPad2d(3), Conv2d(2, 3, 7, bias=False),
                                            InstanceNorm2d(3, affine=True), ReLU()), (2, 2, 5, 5)),
    "labelplanes": (lambda: LabelPlanes(3, 2, 3), (4, 6)),
    "flatten": (lambda: Flatten(), (2, 3, 2, 2)),
    "reshape": (lambda: Reshape(3, 2, 2), (2, 12)),
    "identity": (lambda: Identity(), (3, 4)),
    "residual-dense": (lambda: Residual(Sequential(Dense(4, 4), Tanh(), Dense(4, 4))), (3, 4)),
    "residual-conv-bn": (lambda: Residual(Sequential(Conv2d(2, 2, 3, 1, 1, bias=False), BatchNorm2d(2), ReLU())),
                         (3, 2, 4, 4)),
    "concat-features": (lambda: Concat(Dense(3, 2), Identity(), Sequential(Dense(3, 4), Tanh())), (4, 3)),
    "concat-last-axis": (lambda: Concat(Dense(3, 2), Dense(3, 5), axis=-1), (4, 3)),
    # a U-Net level: the skip beside a down-up path, then a 1x1 conv mixing the two
    "unet-skip": (lambda: Sequential(Concat(Identity(), Sequential(Conv2d(2, 3, 4, 2, 1), LeakyReLU(0.2),
                                                                   ConvTranspose2d(3, 2, 4, 2, 1))),
                                     Conv2d(4, 1, 1)), (2, 2, 4, 4)),
    # (no conv bias before BatchNorm: BN removes per-channel constants, so its true gradient is 0)
    "sequential-dcgan-like": (lambda: Sequential(Conv2d(1, 2, 4, 2, 1, bias=False), BatchNorm2d(2), LeakyReLU(0.2), Flatten(),
                                                 Dense(8, 1)), (3, 1, 4, 4)),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_layer_gradients_match_central_differences(case, xp, float64, rng):
    make, shape = CASES[case]
    layer = make()
    x = xp.asarray(rng.standard_normal(shape))
    errors = check_layer(layer, x)
    assert set(errors) == {"x"} | {name for name, _, _ in layer.parameters()}
    assert max(errors.values()) < TOL, errors


def test_batchnorm_eval_mode_gradients(xp, float64, rng):
    bn = BatchNorm2d(3)
    bn.forward(xp.asarray(rng.standard_normal((5, 3, 2, 2))))  # give the running stats non-default values
    bn.eval()
    errors = check_layer(bn, xp.asarray(rng.standard_normal((4, 3, 2, 2))))
    assert max(errors.values()) < TOL, errors


def test_gradcheck_catches_a_wrong_backward(xp, float64, rng):
    """The check itself can fail: a layer whose backward is off by 1 % is flagged."""
    class WrongTanh(Tanh):
        def backward(self, grad_out, input_grad=True, param_grads=True):
            return 1.01 * super().backward(grad_out, input_grad, param_grads)

    errors = check_layer(WrongTanh(), xp.asarray(rng.standard_normal((3, 4))))
    assert errors["x"] > 1e-3


def test_gradcheck_refuses_float32(xp, rng):
    with pytest.raises(ValueError, match="float64"):
        check_layer(Dense(3, 2), xp.asarray(rng.standard_normal((2, 3)), dtype=xp.float32))


def test_numerical_gradient_of_a_known_function(xp, rng):
    x = xp.asarray(rng.standard_normal((3, 4)))
    g = numerical_gradient(lambda: float((x ** 3).sum()), x)
    assert rel_error(g, 3 * x ** 2) < 1e-8
    assert backend.get_array_module(g) is xp


def test_residual_and_concat_name_their_parameters_as_pytorch_would(xp):
    res = Residual(Sequential(Dense(3, 3), Tanh()))
    cat = Concat(Identity(), Dense(3, 2))
    assert [n for n, _, _ in res.parameters()] == ["block.0.W", "block.0.b"]
    assert [n for n, _, _ in cat.parameters()] == ["1.W", "1.b"]
    y = cat.forward(xp.ones((2, 3), dtype=cat.dtype))
    assert y.shape == (2, 5)


def test_residual_refuses_a_block_that_changes_the_shape(xp):
    with pytest.raises(ValueError, match=r"keep its input's shape \(2, 3\)"):
        Residual(Dense(3, 4)).forward(xp.ones((2, 3), dtype="float32"))


def test_concat_refuses_branches_that_disagree_off_the_axis(xp):
    cat = Concat(Identity(), Reshape(3, 1), axis=1)
    with pytest.raises(ValueError, match="branch 1 gave"):
        cat.forward(xp.ones((2, 3), dtype="float32"))


def test_a_fork_adds_its_branches_input_gradients(xp, float64):
    """Concat(Identity(), Identity()) is y = [x, x]: dL/dx must be the SUM of the two halves."""
    x = xp.arange(6.0).reshape(2, 3)
    cat = Concat(Identity(), Identity())
    cat.forward(x)
    g = xp.arange(12.0).reshape(2, 6)
    assert (cat.backward(g) == g[:, :3] + g[:, 3:]).all()
