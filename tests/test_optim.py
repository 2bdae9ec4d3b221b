"""Optimisers: Adam and SGD against closed-form updates, dtypes, state_dict round trips, clipping, errors."""
import math

import numpy as np
import pytest

from minigan import backend
from minigan.layers import Dense
from minigan.optim import SGD, Adam, clip_grad_norm, grad_norm

STEPS = 3


def fixed_gradients(layer, rng, steps):
    """One dict name -> host array per step, shaped like the layer's parameters."""
    return [{name: rng.standard_normal(p.shape) for name, p, _ in layer.parameters()} for _ in range(steps)]


def set_gradients(layer, grads):
    """Write into the existing gradient arrays: the optimiser holds references to them."""
    for name, _, g in layer.parameters():
        g[...] = backend.asarray(grads[name], dtype=g.dtype)


def host_params(layer):
    return {name: backend.to_numpy(p).copy() for name, p, _ in layer.parameters()}


# -- Adam against an independent float64 computation ---------------------------------------

def adam_reference(p, grads, lr, b1, b2, eps, weight_decay):
    """Adam as in Kingma & Ba, with PyTorch's L2 weight decay, written out plainly in NumPy."""
    m, v = np.zeros_like(p), np.zeros_like(p)
    for t, grad in enumerate(grads, start=1):
        g = grad + weight_decay * p
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g ** 2
        m_hat, v_hat = m / (1 - b1 ** t), v / (1 - b2 ** t)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
    return p


@pytest.mark.parametrize("weight_decay", [0.0, 0.1])
def test_adam_matches_closed_form(xp, float64, rng, weight_decay):
    layer = Dense(4, 3)
    hyper = dict(lr=0.05, b1=0.8, b2=0.99, eps=1e-6, weight_decay=weight_decay)
    start, grads = host_params(layer), fixed_gradients(layer, rng, STEPS)
    opt = Adam(layer, lr=hyper["lr"], betas=(hyper["b1"], hyper["b2"]), eps=hyper["eps"], weight_decay=weight_decay)
    for step_grads in grads:
        set_gradients(layer, step_grads)
        opt.step()
        for name, _, g in layer.parameters():  # the gradients are read, never changed
            assert np.array_equal(backend.to_numpy(g), step_grads[name])
    for name, p, _ in layer.parameters():
        expected = adam_reference(start[name], [g[name] for g in grads], **hyper)
        assert np.abs(backend.to_numpy(p) - expected).max() < 1e-12, name
        assert np.abs(expected - start[name]).min() > 1e-3  # every entry really moved
    assert opt.step_count == STEPS


def test_adam_keeps_float32_and_updates_in_place(xp, rng):
    layer = Dense(5, 3)
    arrays = {name: p for name, p, _ in layer.parameters()}
    opt = Adam(layer, weight_decay=0.01)
    for step_grads in fixed_gradients(layer, rng, STEPS):
        set_gradients(layer, step_grads)
        opt.step()
    for name, p, _ in layer.parameters():
        assert p is arrays[name] and p.dtype == xp.float32
    assert all(a.dtype == np.float32 for k, a in opt.state_dict().items() if k[:2] in ("m.", "v."))


def test_adam_decreases_a_quadratic(xp, rng):
    """L = 0.5 * sum (p - target)^2 over all parameters; dL/dp = p - target."""
    layer = Dense(6, 4)
    targets = {name: xp.asarray(rng.standard_normal(p.shape), dtype=p.dtype) for name, p, _ in layer.parameters()}

    def loss():
        return sum(float(((p - targets[name]) ** 2).sum()) / 2 for name, p, _ in layer.parameters())

    opt = Adam(layer, lr=0.05, betas=(0.9, 0.999))
    start = loss()
    for _ in range(300):
        opt.zero_grad()
        for name, p, g in layer.parameters():
            g += p - targets[name]
        opt.step()
    assert loss() < 1e-2 * start


def test_adam_matches_torch(xp, float64, rng):
    torch = pytest.importorskip("torch")
    layer = Dense(4, 3)
    torch_params = {name: torch.tensor(backend.to_numpy(p).copy(), requires_grad=True)
                    for name, p, _ in layer.parameters()}
    settings = dict(lr=0.01, betas=(0.7, 0.95), eps=1e-7, weight_decay=0.05)
    ours, theirs = Adam(layer, **settings), torch.optim.Adam(list(torch_params.values()), **settings)
    for step_grads in fixed_gradients(layer, rng, 5):
        set_gradients(layer, step_grads)
        for name, tp in torch_params.items():
            tp.grad = torch.tensor(step_grads[name])
        ours.step()
        theirs.step()
        for name, p, _ in layer.parameters():
            assert np.abs(backend.to_numpy(p) - torch_params[name].detach().numpy()).max() < 1e-12, name


# -- SGD --------------------------------------------------------------------------------------

@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_sgd_matches_closed_form(xp, float64, rng, momentum):
    layer = Dense(3, 2)
    start, grads = host_params(layer), fixed_gradients(layer, rng, STEPS)
    opt = SGD(layer, lr=0.1, momentum=momentum)
    for step_grads in grads:
        set_gradients(layer, step_grads)
        opt.step()
    for name, p, _ in layer.parameters():
        expected, buf = start[name], np.zeros_like(start[name])
        for g in grads:
            buf = momentum * buf + g[name]
            expected = expected - 0.1 * buf
        assert np.abs(backend.to_numpy(p) - expected).max() < 1e-12, name


# -- state_dict round trips ---------------------------------------------------------------------

OPTIMISERS = {
    # (configured as saved, built fresh with other settings before loading)
    "adam": (lambda m: Adam(m, lr=1e-2, betas=(0.8, 0.99), eps=1e-7, weight_decay=1e-3), lambda m: Adam(m)),
    "sgd": (lambda m: SGD(m, lr=0.05, momentum=0.9), lambda m: SGD(m, lr=1.0)),
}


@pytest.mark.parametrize("kind", sorted(OPTIMISERS))
def test_state_dict_round_trip_through_npz_continues_bitwise(xp, rng, tmp_path, kind):
    make, make_fresh = OPTIMISERS[kind]
    grads = fixed_gradients(Dense(4, 3), rng, 6)

    def run(layer, opt, step_grads):
        for g in step_grads:
            set_gradients(layer, g)
            opt.step()

    backend.seed(1)
    straight = Dense(4, 3)
    run(straight, make(straight), grads)

    backend.seed(1)
    first = Dense(4, 3)
    opt = make(first)
    run(first, opt, grads[:3])
    model_state = {f"model.{k}": backend.to_numpy(v) for k, v in first.state_dict().items()}
    optim_state = {f"optim.{k}": v for k, v in opt.state_dict().items()}
    np.savez(tmp_path / "checkpoint.npz", **model_state, **optim_state)

    backend.seed(2)  # a different initialisation, overwritten by the checkpoint
    resumed = Dense(4, 3)
    resumed_opt = make_fresh(resumed)
    with np.load(tmp_path / "checkpoint.npz", allow_pickle=False) as saved:
        resumed.load_state_dict({k[6:]: saved[k] for k in saved.files if k.startswith("model.")})
        resumed_opt.load_state_dict({k[6:]: saved[k] for k in saved.files if k.startswith("optim.")})
    assert resumed_opt.step_count == 3 and resumed_opt.lr == opt.lr
    run(resumed, resumed_opt, grads[3:])

    for name, p, _ in straight.parameters():
        assert np.array_equal(backend.to_numpy(p), backend.to_numpy(resumed.params[name])), name


def test_adam_state_dict_layout(xp):
    opt = Adam(Dense(2, 3), lr=1e-3, betas=(0.5, 0.9), eps=1e-8, weight_decay=0.0)
    state = opt.state_dict()
    assert set(state) == {"step", "lr", "beta1", "beta2", "eps", "weight_decay", "m.W", "m.b", "v.W", "v.b"}
    assert state["step"].shape == () and state["step"].dtype == np.int64
    assert state["beta2"].shape == () and float(state["beta2"]) == 0.9
    assert all(isinstance(a, np.ndarray) for a in state.values())  # NumPy, ready for np.savez
    assert state["m.W"].shape == (2, 3) and state["v.b"].shape == (3,)


@pytest.mark.parametrize("corrupt, message", [
    (lambda s: s.pop("v.W"), r"missing keys \['v.W'\]"),
    (lambda s: s.update({"m.extra": np.zeros(2)}), r"unexpected keys \['m.extra'\]"),
    (lambda s: s.update({"m.W": np.zeros((3, 4))}), r"m.W: expected shape \(4, 3\), got \(3, 4\)"),
    (lambda s: s.update({"lr": np.array([1e-3])}), r"lr: expected shape \(\), got \(1,\)"),
    (lambda s: s.update({"beta1": np.array(1.5)}), r"beta1 must be in \[0, 1\)"),
    (lambda s: s.update({"step": np.array(-1)}), r"step must be a non-negative integer"),
])
def test_bad_state_dict_raises_and_changes_nothing(xp, rng, corrupt, message):
    layer = Dense(4, 3)
    donor = Adam(Dense(4, 3), lr=0.5)
    set_gradients(donor.module, fixed_gradients(layer, rng, 1)[0])
    donor.step()
    opt = Adam(layer)
    bad = donor.state_dict()
    corrupt(bad)
    before = opt.state_dict()
    with pytest.raises(ValueError, match=message):
        opt.load_state_dict(bad)
    after = opt.state_dict()
    assert set(after) == set(before) and all(np.array_equal(after[k], before[k]) for k in before)


# -- gradient norms and clipping ------------------------------------------------------------------

def test_clip_grad_norm_returns_the_norm_and_scales_to_max_norm(xp, float64, rng):
    layer = Dense(5, 4)
    grads = fixed_gradients(layer, rng, 1)[0]
    set_gradients(layer, grads)
    expected = math.sqrt(sum(float((g ** 2).sum()) for g in grads.values()))
    assert grad_norm(layer) == pytest.approx(expected, rel=1e-12)

    assert clip_grad_norm(layer, max_norm=10 * expected) == pytest.approx(expected, rel=1e-12)
    assert grad_norm(layer) == pytest.approx(expected, rel=1e-12)  # below max_norm: untouched

    assert clip_grad_norm(layer, max_norm=0.5) == pytest.approx(expected, rel=1e-12)
    assert grad_norm(layer) == pytest.approx(0.5, rel=1e-5)
    for name, _, g in layer.parameters():  # same direction, every gradient scaled alike
        np.testing.assert_allclose(backend.to_numpy(g), grads[name] * 0.5 / (expected + 1e-6), rtol=1e-12)


def test_zero_grad_clears_the_module_gradients(xp, rng):
    layer = Dense(3, 2)
    opt = SGD(layer, lr=0.1)
    set_gradients(layer, fixed_gradients(layer, rng, 1)[0])
    opt.zero_grad()
    assert grad_norm(layer) == 0.0


# -- bad hyper-parameters ------------------------------------------------------------------------

@pytest.mark.parametrize("make, message", [
    (lambda m: Adam(m, lr=0), "lr must be a finite number > 0"),
    (lambda m: Adam(m, lr=-1e-3), "lr must be a finite number > 0"),
    (lambda m: Adam(m, lr=float("nan")), "lr must be a finite number > 0"),
    (lambda m: Adam(m, betas=(1.0, 0.999)), r"beta1 must be in \[0, 1\)"),
    (lambda m: Adam(m, betas=(0.5, -0.1)), r"beta2 must be in \[0, 1\)"),
    (lambda m: Adam(m, betas=(0.5,)), r"betas must be a pair"),
    (lambda m: Adam(m, eps=-1e-8), "eps must be a finite number >= 0"),
    (lambda m: Adam(m, weight_decay=-1), "weight_decay must be a finite number >= 0"),
    (lambda m: SGD(m, lr=0), "lr must be a finite number > 0"),
    (lambda m: SGD(m, lr=0.1, momentum=-0.5), r"momentum must be in \[0, 1\)"),
    (lambda m: clip_grad_norm(m, max_norm=0), "max_norm must be > 0"),
])
def test_bad_hyper_parameters_raise(xp, make, message):
    with pytest.raises(ValueError, match=message):
        make(Dense(2, 2))
