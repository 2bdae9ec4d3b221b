"""SpectralNorm: its backward against central differences (eval mode, and train mode with the power iteration
run), the power iteration against numpy.linalg.svd, what train and eval mode do to u, the gradients asked for,
W staying the trained parameter, the state_dict, and equality with torch.nn.utils.spectral_norm.

Why the train-mode gradient checks need care. In train mode every forward runs the power iteration and stores
u back, and central differences call forward twice per perturbed entry: u moves between calls, so the
difference quotient would see a function that changes under it (with a fresh random u, "x" scores 1.0). The
backward differentiates W / sigma with u and v held constant (as torch does). So the checks here either use
eval mode, where u is left alone and sigma = ||Wm^T u|| has exactly the gradient u v^T, or train mode with u
put back to the same value before every forward (``HeldU``): the power iteration still runs in each forward
(v = normalise(Wm^T u0), u = normalise(Wm v)), from a u0 converged beforehand, where u v^T is the exact
derivative of what the forward computes. An unconverged u is checked against the formula's own definition
(u, v constants) instead.
"""
import numpy as np
import pytest

import minigan
from minigan import backend
from minigan.gradcheck import check_layer, numerical_gradient, rel_error
from minigan.layers import (BatchNorm1d, Concat, Conv2d, ConvTranspose2d, Dense, Identity, LeakyReLU, Module,
                            Residual, Sequential, SpectralNorm, Tanh, apply_spectral_norm)
from minigan.optim import SGD

TOL = 1e-7

# name -> (make the wrapped layer, input shape, out features). in != out everywhere, so a wrong choice of
# Wm's rows (e.g. torch's dim=0 for ConvTranspose2d) gives a u of the wrong length.
LAYERS = {
    "dense": (lambda: Dense(5, 3), (4, 5), 3),
    "dense-nobias-1out": (lambda: Dense(4, 1, bias=False), (3, 4), 1),
    "conv-k3s2p1": (lambda: Conv2d(2, 3, 3, stride=2, padding=1), (2, 2, 5, 5), 3),
    "convT-k4s2p1": (lambda: ConvTranspose2d(2, 3, 4, stride=2, padding=1), (2, 2, 3, 3), 3),
}


def make(name, **kwargs):
    return SpectralNorm(LAYERS[name][0](), **kwargs)


def top_singular_value(sn):
    return float(np.linalg.svd(backend.to_numpy(sn.weight_matrix()), compute_uv=False)[0])


def converge(sn, x, iterations=2000):
    """Run the power iteration to convergence (one train forward with many iterations)."""
    n = sn.n_power_iterations
    sn.n_power_iterations = iterations
    sn.train()(x)
    sn.n_power_iterations = n
    return sn


class HeldU(Module):
    """``sn`` in train mode with u put back to u0 before every forward: the power iteration runs in each
    forward, always from the same u0, so the forward is a fixed function of x and W (what central differences
    need), and the backward's constants u, v are those of the forward it follows."""

    def __init__(self, sn):
        super().__init__()
        self.sn, self.u0 = sn, sn.buffers["u"].copy()

    def children(self):
        return iter((("sn", self.sn),))

    def forward(self, x):
        self.sn.buffers["u"][...] = self.u0
        return self.sn.forward(x)

    def backward(self, grad_out, input_grad=True, param_grads=True):
        return self.sn.backward(grad_out, input_grad, param_grads)


@pytest.mark.parametrize("name", LAYERS)
def test_gradients_eval_mode(name, xp, float64, rng):
    """Eval mode: u fixed, v = normalise(Wm^T u), sigma = ||Wm^T u||: the backward is exact for any u."""
    sn = make(name).eval()
    x = xp.asarray(rng.standard_normal(LAYERS[name][1]))
    errors = check_layer(sn, x)
    assert set(errors) == {"x"} | {n for n, _, _ in sn.parameters()}
    assert max(errors.values()) < TOL, errors


@pytest.mark.parametrize("name", LAYERS)
def test_gradients_train_mode_power_iteration_run(name, xp, float64, rng):
    """Train mode, the power iteration run in every forward from a converged u held fixed (see HeldU)."""
    x = xp.asarray(rng.standard_normal(LAYERS[name][1]))
    sn = converge(make(name), x)
    held = HeldU(sn.train())
    errors = check_layer(held, x)
    assert max(errors.values()) < TOL, errors
    # and it was a train-mode forward at the top singular value
    held(x)
    assert sn.training and abs(float(sn.sigma) - top_singular_value(sn)) < 1e-12 * top_singular_value(sn)


@pytest.mark.parametrize("name", LAYERS)
def test_train_mode_backward_is_the_derivative_with_u_v_constant(name, xp, float64, rng):
    """With a fresh (unconverged) u, one train forward: the backward is the gradient of
    W -> sum(G * layer_with(W / (u^T Wm v))) with the forward's u, v held constant, built here independently
    (a plain copy of the wrapped layer given W / sigma), by central differences in W."""
    sn = make(name).train()
    u_before = sn.buffers["u"].copy()
    x = xp.asarray(rng.standard_normal(LAYERS[name][1]))
    y = sn(x)
    if LAYERS[name][2] > 1:   # (with one output u = +-1 is converged from the start: sigma = ||W||)
        assert float(xp.abs(sn.buffers["u"] - u_before).max()) > 1e-3     # the iteration moved u: unconverged
    u, v = sn.u.copy(), sn.v.copy()
    G = xp.asarray(rng.standard_normal(y.shape))
    sn.zero_grad()
    sn.backward(G)
    W = sn.layer.params["W"].copy()
    plain = LAYERS[name][0]()
    plain.load_state_dict(sn.layer.state_dict())

    def f():
        sigma = u @ (sn.weight_matrix(W) @ v)
        plain.params["W"] = W / sigma
        return float((plain.forward(x) * G).sum())
    assert rel_error(sn.layer.grads["W"], numerical_gradient(f, W)) < TOL


@pytest.mark.parametrize("name", LAYERS)
def test_power_iteration_converges_to_the_top_singular_value(name, float64, rng):
    sn = make(name)
    x = backend.asarray(rng.standard_normal(LAYERS[name][1]))
    assert sn.buffers["u"].shape == (LAYERS[name][2],)
    sigma_1 = top_singular_value(sn)
    sn.train()
    for _ in range(300):                           # 300 training forwards, one iteration each
        sn(x)
    assert abs(float(sn.sigma) - sigma_1) < 1e-6 * sigma_1
    # W / sigma has spectral norm 1; the parameter W itself is untouched
    W_sn = sn.weight_matrix(sn.weight_sn)
    assert abs(np.linalg.svd(W_sn, compute_uv=False)[0] - 1) < 1e-6
    assert abs(top_singular_value(sn) - sigma_1) == 0
    # eval mode at convergence gives the same sigma
    sn.eval()(x)
    assert abs(float(sn.sigma) - sigma_1) < 1e-6 * sigma_1


def test_one_iteration_sigma_underestimates_and_rises():
    """Each sigma of the power iteration is u.(Wm v) = ||Wm v|| <= sigma_max, and it never falls."""
    minigan.set_default_dtype("float64")
    try:
        sn = SpectralNorm(Dense(20, 10)).train()
        x = backend.asarray(np.ones((1, 20)))
        sigmas = []
        for _ in range(30):
            sn(x)
            sigmas.append(float(sn.sigma))
        s1 = top_singular_value(sn)
        assert all(s <= s1 * (1 + 1e-12) for s in sigmas)
        assert all(b >= a * (1 - 1e-12) for a, b in zip(sigmas, sigmas[1:]))
    finally:
        minigan.set_default_dtype("float32")


@pytest.mark.parametrize("name", LAYERS)
def test_eval_leaves_u_unchanged_train_changes_it(name, xp, rng):
    sn = make(name)
    x = xp.asarray(rng.standard_normal(LAYERS[name][1]), dtype="float32")
    u0 = sn.buffers["u"].copy()
    assert abs(float(xp.linalg.norm(u0)) - 1) < 1e-6          # normalised at construction
    sn.eval()
    y1, y2 = sn(x), sn(x)
    assert xp.array_equal(sn.buffers["u"], u0) and xp.array_equal(y1, y2)
    sn.train()(x)
    if LAYERS[name][2] > 1:   # (one output: u = +-1 is already the fixed point)
        assert float(xp.abs(sn.buffers["u"] - u0).max()) > 1e-4
    assert abs(float(xp.linalg.norm(sn.buffers["u"])) - 1) < 1e-6


def test_u_is_drawn_from_the_host_generator():
    backend.seed(7)
    a = SpectralNorm(Dense(4, 6))
    backend.seed(7)
    b = SpectralNorm(Dense(4, 6))
    backend.seed(7)
    Dense(4, 6)
    expected = backend.host_rng().standard_normal(6)
    assert np.array_equal(a.buffers["u"], b.buffers["u"])
    np.testing.assert_allclose(a.buffers["u"], expected / np.linalg.norm(expected), rtol=1e-6)
    assert a.buffers["u"].dtype == np.float32


@pytest.mark.parametrize("name", LAYERS)
def test_gradients_asked_for(name, xp, float64, rng):
    """input_grad=False returns None and adds the same parameter gradients; param_grads=False adds none and
    returns the same dL/dx; both False returns None and touches nothing; gradients accumulate. (Eval mode:
    every forward, one before each backward, is the same function.)"""
    sn = make(name).eval()
    x = xp.asarray(rng.standard_normal(LAYERS[name][1]))
    G = xp.asarray(rng.standard_normal(sn(x).shape))
    sn.zero_grad()
    dx = sn.backward(G)
    full = {n: g.copy() for n, _, g in sn.parameters()}

    sn.zero_grad()
    sn(x)
    assert sn.backward(G, input_grad=False) is None
    assert all(xp.array_equal(g, full[n]) for n, _, g in sn.parameters())

    sn.zero_grad()
    sn(x)
    assert xp.array_equal(sn.backward(G, param_grads=False), dx)
    assert all(not g.any() for _, _, g in sn.parameters())
    sn(x)
    assert sn.backward(G, input_grad=False, param_grads=False) is None
    assert all(not g.any() for _, _, g in sn.parameters())

    sn(x), sn(x)
    sn.backward(G)
    sn.backward(G, input_grad=False)
    assert all(rel_error(g, 2 * full[n]) < 1e-15 for n, _, g in sn.parameters())
    assert sn.pending() == 0


@pytest.mark.parametrize("name", LAYERS)
def test_w_stays_the_trained_parameter(name, rng):
    """After forward and backward the wrapped layer holds W itself (the very array the optimiser updates,
    never W_sn), and a step of SGD moves W by -lr dL/dW."""
    sn = make(name).train()
    W, gW = sn.layer.params["W"], sn.layer.grads["W"]
    W_before = W.copy()
    opt = SGD(sn, lr=0.1)
    x = backend.asarray(rng.standard_normal(LAYERS[name][1]), dtype="float32")
    y = sn(x)
    assert sn.layer.params["W"] is W and sn.layer.grads["W"] is gW
    assert not np.array_equal(sn.weight_sn, W)
    sn.zero_grad()
    sn.backward(backend.asarray(rng.standard_normal(y.shape), dtype="float32"))
    assert sn.layer.params["W"] is W and sn.layer.grads["W"] is gW and gW.any()
    opt.step()
    np.testing.assert_allclose(W, W_before - 0.1 * gW, rtol=1e-6, atol=1e-7)
    assert [n for n, _, _ in sn.parameters()] == ["layer.W"] + (["layer.b"] if "b" in sn.layer.params else [])


def test_swap_is_undone_when_the_wrapped_layer_raises():
    sn = SpectralNorm(Dense(3, 2))
    W = sn.layer.params["W"]
    with pytest.raises(ValueError, match="expected input of shape"):
        sn(np.zeros((2, 4), dtype=np.float32))
    assert sn.layer.params["W"] is W


def test_names_and_state_dict_round_trip(rng):
    model = Sequential(SpectralNorm(Dense(3, 2)))
    names = [n for n, _, _ in model.parameters()]
    assert names == ["0.layer.W", "0.layer.b"] and all(n.endswith((".W", ".b")) for n in names)
    state = model.state_dict()
    assert set(state) == {"0.layer.W", "0.layer.b", "0.u"}
    x = backend.asarray(rng.standard_normal((4, 3)), dtype="float32")
    for _ in range(3):
        model.train()(x)                            # u moves away from its initial value
    saved = {k: v.copy() for k, v in model.state_dict().items()}

    backend.seed(99)
    other = Sequential(SpectralNorm(Dense(3, 2)))
    assert not np.array_equal(other.state_dict()["0.u"], saved["0.u"])
    other.load_state_dict(saved)
    for k, v in other.state_dict().items():
        assert np.array_equal(v, saved[k]), k
    assert np.array_equal(other.train()(x), model.train()(x))   # and the next power iteration agrees
    assert np.array_equal(other.state_dict()["0.u"], model.state_dict()["0.u"])
    with pytest.raises(ValueError, match="missing keys"):
        other.load_state_dict({k: v for k, v in saved.items() if k != "0.u"})


def test_astype_converts_u():
    sn = SpectralNorm(Conv2d(1, 2, 3)).astype("float64")
    assert sn.buffers["u"].dtype == np.float64 and sn.dtype == np.float64
    y = sn(np.zeros((1, 1, 3, 3)))
    assert y.dtype == np.float64
    sn32 = SpectralNorm(Dense(3, 2))
    assert sn32(np.ones((2, 3), dtype=np.float32)).dtype == np.float32    # float32 stays float32


def test_refuses_other_layers_and_bad_arguments():
    for layer in (Tanh(), BatchNorm1d(3), Sequential(Dense(2, 2))):
        with pytest.raises(ValueError, match="Dense, Conv2d or ConvTranspose2d"):
            SpectralNorm(layer)
    for n in (0, -1, 1.5):
        with pytest.raises(ValueError, match="n_power_iterations"):
            SpectralNorm(Dense(2, 2), n_power_iterations=n)
    with pytest.raises(ValueError, match="eps"):
        SpectralNorm(Dense(2, 2), eps=0)
    assert "SpectralNorm(Dense(2, 3" in repr(SpectralNorm(Dense(2, 3)))


def test_apply_spectral_norm_reaches_weight_layers_in_every_container(rng):
    """Every layer with a weight matrix is wrapped, in a Sequential, a Residual and a Concat (directly and
    nested), once: a second call wraps nothing again; a bare layer is refused."""
    model = Sequential(Dense(2, 3), Residual(Dense(3, 3)), Residual(Sequential(Dense(3, 3), Tanh())),
                       Concat(Identity(), Dense(3, 2)), LeakyReLU(0.2),
                       Concat(Sequential(Dense(5, 2), Tanh()), Identity()))
    weight_layers = [m for m in model.modules() if m.has_weight_matrix]
    assert apply_spectral_norm(model) is model
    wrapped = [m for m in model.modules() if isinstance(m, SpectralNorm)]
    assert [sn.layer for sn in wrapped] == weight_layers
    assert isinstance(model[1].block, SpectralNorm) and isinstance(model[2].block[0], SpectralNorm)
    assert isinstance(model[3][1], SpectralNorm) and isinstance(model[3][0], Identity)
    assert isinstance(model[5][0][0], SpectralNorm)
    apply_spectral_norm(model)
    assert [m for m in model.modules() if isinstance(m, SpectralNorm)] == wrapped
    assert [n for n, _, _ in model.parameters()][:4] == ["0.layer.W", "0.layer.b", "1.block.layer.W", "1.block.layer.b"]
    x = backend.asarray(rng.standard_normal((4, 2)), dtype="float32")
    y = model(x)
    assert y.shape == (4, 7)
    model.backward(np.ones_like(y))
    assert model.pending() == 0
    with pytest.raises(ValueError, match=r"use SpectralNorm\(layer\)"):
        apply_spectral_norm(Dense(2, 2))
    for container, name in ((Sequential(Tanh()), "1"), (Residual(Tanh()), "layer"), (Concat(Tanh()), "x")):
        with pytest.raises(ValueError, match=f"has no sub-module.*{name!r}"):
            container.set_child(name, Tanh())


# -- against PyTorch ---------------------------------------------------------------------------------------

def _torch_twin(torch, layer, dtype):
    """torch's layer with minigan's W and b (torch's Linear stores W.T), wrapped by torch's spectral_norm."""
    if isinstance(layer, Dense):
        t = torch.nn.Linear(layer.in_features, layer.out_features, bias="b" in layer.params)
        W = layer.params["W"].T
    elif isinstance(layer, ConvTranspose2d):
        t = torch.nn.ConvTranspose2d(layer.in_ch, layer.out_ch, layer.k, layer.stride, layer.padding)
        W = layer.params["W"]
    else:
        t = torch.nn.Conv2d(layer.in_ch, layer.out_ch, layer.k, layer.stride, layer.padding)
        W = layer.params["W"]
    t = t.to(dtype)
    with torch.no_grad():
        t.weight.copy_(torch.from_numpy(np.ascontiguousarray(W)))
        if "b" in layer.params:
            t.bias.copy_(torch.from_numpy(layer.params["b"]))
    return torch.nn.utils.spectral_norm(t, n_power_iterations=2)


@pytest.mark.parametrize("dtype, tol", [("float32", 1e-5), ("float64", 1e-10)])
@pytest.mark.parametrize("name", LAYERS)
def test_equals_torch_spectral_norm_in_train_mode(name, dtype, tol, rng):
    """Same W, b, u (torch's weight_u copied in), same inputs, three training forwards (two power iterations
    each): the outputs, W / sigma, u, and the gradients dL/dx, dL/dW, dL/db against torch's autograd."""
    torch = pytest.importorskip("torch")
    minigan.set_default_dtype(dtype)
    try:
        sn = make(name, n_power_iterations=2).train()
        twin = _torch_twin(torch, sn.layer, getattr(torch, dtype))
        assert tuple(twin.weight_u.shape) == sn.buffers["u"].shape
        sn.buffers["u"][...] = twin.weight_u.numpy()
        transpose = isinstance(sn.layer, Dense)
        for _ in range(3):
            x = rng.standard_normal(LAYERS[name][1]).astype(dtype)
            y = sn(x)
            xt = torch.from_numpy(x.copy()).requires_grad_()
            yt = twin(xt)
            assert rel_error(y, yt.detach().numpy()) < tol
            W_sn = sn.weight_sn.T if transpose else sn.weight_sn
            assert rel_error(W_sn, twin.weight.detach().numpy()) < tol
            assert rel_error(sn.buffers["u"], twin.weight_u.numpy()) < tol
            G = rng.standard_normal(y.shape).astype(dtype)
            sn.zero_grad()
            twin.zero_grad()
            dx = sn.backward(G)
            (yt * torch.from_numpy(G)).sum().backward()
            assert rel_error(dx, xt.grad.numpy()) < tol
            gW = sn.layer.grads["W"].T if transpose else sn.layer.grads["W"]
            assert rel_error(gW, twin.weight_orig.grad.numpy()) < tol
            if "b" in sn.layer.params:
                assert rel_error(sn.layer.grads["b"], twin.bias.grad.numpy()) < tol
    finally:
        minigan.set_default_dtype("float32")


def test_conv_transpose_rows_are_torch_dim_1():
    """torch's spectral_norm takes dim=1 for ConvTranspose (W (in, out, k, k): rows = output channels), the
    convention of the specification; dim=0 would give a u of length in_ch."""
    torch = pytest.importorskip("torch")
    t = torch.nn.ConvTranspose2d(2, 3, 4)
    assert tuple(torch.nn.utils.spectral_norm(t).weight_u.shape) == (3,)
    assert tuple(torch.nn.utils.spectral_norm(torch.nn.ConvTranspose2d(2, 3, 4), dim=0).weight_u.shape) == (2,)
    assert SpectralNorm(ConvTranspose2d(2, 3, 4)).buffers["u"].shape == (3,)
