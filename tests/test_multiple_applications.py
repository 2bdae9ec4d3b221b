"""A module applied several times before its backward: each forward saves what its backward needs on a
stack of its own, each backward pops the most recent, so every application gets its exact gradient.

The function checked is the CycleGAN shape y = G(x1) + G(G(x2)): G runs three times (on x1, on x2, on
G(x2)) before any backward; reverse mode then takes the three backwards in the opposite order. Checked
against central differences in float64: the input gradients for x1 and x2 and every parameter gradient.
Also: a backward with nothing saved says so, forwards under no_grad() save nothing, and a forward with its
backward leaves nothing pending, whatever the backward is asked for.
"""
import copy

import pytest

from minigan.check import LAYER_CASES
from minigan.gradcheck import check_layer, numerical_gradient, rel_error
from minigan.layers import (BatchNorm1d, BatchNorm2d, Concat, Conv2d, ConvTranspose2d, Dense, Identity, Residual,
                            Sequential, Sigmoid, SpectralNorm, Tanh, no_grad)

TOL = 1e-7  # float64 central differences: a correct gradient scores ~1e-10 (minigan.gradcheck)


def dense_g():
    """(N, 4) -> (N, 4), BatchNorm in train mode (it couples the batch: fine, the whole function is checked).
    No bias before BatchNorm (here and below): BN removes it, so its true gradient is exactly 0 and its
    relative error meaningless."""
    return Sequential(Dense(4, 5, bias=False), BatchNorm1d(5), Tanh(), Residual(Sequential(Dense(5, 5), Sigmoid())),
                      Dense(5, 4))


def conv_g():
    """(N, 2, 4, 4) -> (N, 2, 4, 4): a skip beside a conv-BN-tanh path (Concat), then a transposed conv."""
    return Sequential(Concat(Identity(), Sequential(Conv2d(2, 3, 3, padding=1, bias=False), BatchNorm2d(3), Tanh())),
                      ConvTranspose2d(5, 2, 3, padding=1))


CASES = {"dense": (dense_g, (3, 4)), "conv": (conv_g, (2, 2, 4, 4))}


def cycle_loss_and_grads(G, x1, x2, C):
    """L = sum(C * (G(x1) + G(G(x2)))) and (dL/dx1, dL/dx2), G's parameter gradients ADDED into its grads.

    Forwards: G(x1), G(x2), G(G(x2)); backwards in reverse order, each popping its own forward's saves."""
    y = G(x1) + G(G(x2))
    dx2 = G.backward(G.backward(C))   # G(G(x2)): the outer application first, then the inner one
    dx1 = G.backward(C)               # G(x1), the first forward, comes last
    return float((y * C).sum()), dx1, dx2


@pytest.mark.parametrize("name", CASES)
def test_a_network_run_twice_gets_exact_gradients(name, xp, float64, rng):
    make, shape = CASES[name]
    G = make()
    x1, x2 = (xp.asarray(rng.standard_normal(shape)) for _ in range(2))
    C = xp.asarray(rng.standard_normal(shape))
    G.zero_grad()
    _, dx1, dx2 = cycle_loss_and_grads(G, x1, x2, C)
    assert G.pending() == 0

    def loss():
        with no_grad():
            return float(((G(x1) + G(G(x2))) * C).sum())

    errors = {"x1": rel_error(dx1, numerical_gradient(loss, x1)), "x2": rel_error(dx2, numerical_gradient(loss, x2))}
    errors.update({p_name: rel_error(grad, numerical_gradient(loss, p)) for p_name, p, grad in G.parameters()})
    assert len(errors) == 2 + len(list(G.parameters()))
    assert max(errors.values()) < TOL, errors
    assert G.pending() == 0


@pytest.mark.parametrize("name", CASES)
def test_interleaved_applications_equal_one_after_the_other(name, xp, float64, rng):
    """forward A, forward B, backward B, backward A gives bitwise the gradients of A's pass then B's
    (BatchNorm's running statistics move in the same order both ways)."""
    make, shape = CASES[name]
    G = make()
    H = copy.deepcopy(G)
    xa, xb, ga, gb = (xp.asarray(rng.standard_normal(shape)) for _ in range(4))
    ya, yb = G(xa), G(xb)
    dxb, dxa = G.backward(gb), G.backward(ga)
    assert bool((H(xa) == ya).all()) and bool((H.backward(ga) == dxa).all())
    assert bool((H(xb) == yb).all()) and bool((H.backward(gb) == dxb).all())
    for (n, _, g), (_, _, h) in zip(G.parameters(), H.parameters()):
        assert bool((g == h).all()), n


def test_spectral_norm_applied_twice_back_propagates_each_with_its_own_u(xp, float64, rng):
    """In train mode u moves between the two forwards; each backward uses the u, v, sigma of its own."""
    sn = SpectralNorm(Dense(5, 3)).train()
    one_by_one = copy.deepcopy(sn)
    xa, xb = (xp.asarray(rng.standard_normal((4, 5))) for _ in range(2))
    ga, gb = (xp.asarray(rng.standard_normal((4, 3))) for _ in range(2))
    sn(xa)
    sigma_a = float(sn.sigma)
    sn(xb)
    assert float(sn.sigma) != sigma_a           # the power iteration moved u in between
    dxb, dxa = sn.backward(gb), sn.backward(ga)
    one_by_one(xa)
    assert bool((one_by_one.backward(ga) == dxa).all())
    one_by_one(xb)
    assert bool((one_by_one.backward(gb) == dxb).all())
    for (n, _, g), (_, _, h) in zip(sn.parameters(), one_by_one.parameters()):
        assert bool((g == h).all()), n


def test_a_module_in_two_branches_of_a_concat(xp, float64, rng):
    """Concat(G, Sequential(G, G)) runs G three times; its backward takes the branches last first, so G's
    saves are popped in reverse order of its forwards."""
    G = Sequential(Dense(3, 3), Tanh())
    errors = check_layer(Concat(G, Sequential(G, G)), xp.asarray(rng.standard_normal((4, 3))))
    assert max(errors.values()) < TOL, errors
    assert G.pending() == 0


def test_a_backward_without_its_forward_says_so(xp, float64, rng):
    x = xp.asarray(rng.standard_normal((3, 4)))
    with pytest.raises(RuntimeError, match=r"backward called without a forward to match: Dense\(4, 2"):
        Dense(4, 2).backward(xp.ones((3, 2)))
    net = Sequential(Dense(4, 2), Tanh())
    net(x)
    net.backward(xp.ones((3, 2)))
    with pytest.raises(RuntimeError, match=r"backward called without a forward to match: Tanh\(\)"):
        net.backward(xp.ones((3, 2)))                       # one backward per forward
    with no_grad():
        net(x)
    with pytest.raises(RuntimeError, match="backward called without a forward to match"):
        net.backward(xp.ones((3, 2)))                       # a forward under no_grad() saved nothing


def test_no_grad_saves_nothing_nests_and_is_undone_after_an_exception(xp, rng):
    net = dense_g()
    x = xp.asarray(rng.standard_normal((3, 4)), dtype=xp.float32)
    with no_grad():
        y = net(x)
        with no_grad():
            net(x)
        net(net(x))
    assert net.pending() == 0
    with pytest.raises(ZeroDivisionError), no_grad():
        1 / 0
    assert bool((net(x) == y).all())            # recording again after the block: a save in every layer
    assert net.pending() == sum(next(m.children(), None) is None for m in net.modules())


@pytest.mark.parametrize("asked", [(True, True), (False, True), (True, False), (False, False)])
@pytest.mark.parametrize("case", LAYER_CASES, ids=lambda case: case.name)
def test_a_forward_and_its_backward_leave_nothing_pending(case, asked, xp, float64):
    """Every layer of minigan check, whatever its backward is asked for (nothing at all included: the
    layers and containers below then only pop their saves)."""
    layer = case.make()
    x = xp.asarray(case.input())
    y = layer(x)
    assert layer.pending() > 0
    input_grad, param_grads = asked
    out = layer.backward(xp.ones_like(y), input_grad=input_grad, param_grads=param_grads)
    assert (out is None) == (not input_grad)
    assert layer.pending() == 0
