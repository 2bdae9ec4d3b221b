"""Module behaviour: gradient accumulation, zero_grad, modes, state dicts, shape and dtype errors, init."""
import pytest

from minigan import backend
from minigan.layers import (BatchNorm1d, BatchNorm2d, Conv2d, ConvTranspose2d, Dense, Flatten, LeakyReLU, Reshape,
                            Sequential, Tanh, dcgan_init)


def small_net():
    return Sequential(Dense(4, 6), BatchNorm1d(6), LeakyReLU(0.2), Dense(6, 2), Tanh())


def test_parameters_are_named_through_containers(xp):
    names = [name for name, _, _ in small_net().parameters()]
    assert names == ["0.W", "0.b", "1.gamma", "1.beta", "3.W", "3.b"]
    assert set(small_net().state_dict()) == set(names) | {"1.running_mean", "1.running_var"}


def test_gradients_accumulate_over_two_backwards_and_zero_grad_clears(xp, float64, rng):
    net = small_net()
    x1, x2 = (xp.asarray(rng.standard_normal((5, 4))) for _ in range(2))
    G1, G2 = (xp.asarray(rng.standard_normal((5, 2))) for _ in range(2))

    def grads_of(x, G):
        net.zero_grad()
        net.forward(x)
        net.backward(G)
        return {k: g.copy() for k, _, g in net.parameters()}

    g1, g2 = grads_of(x1, G1), grads_of(x2, G2)
    net.zero_grad()
    for x, G in ((x1, G1), (x2, G2)):
        net.forward(x)
        net.backward(G)
    for name, _, g in net.parameters():
        assert float(abs(g - (g1[name] + g2[name])).max()) < 1e-12, name
        assert float(abs(g1[name]).max()) > 0
    net.zero_grad()
    assert all(float(abs(g).max()) == 0 for _, _, g in net.parameters())


def test_requires_param_grads_false_leaves_grads_untouched_but_returns_dx(xp, float64, rng):
    net = Sequential(Conv2d(1, 2, 3, 1, 1), BatchNorm2d(2), LeakyReLU(), Flatten(), Dense(8, 1))
    x = xp.asarray(rng.standard_normal((3, 1, 2, 2)))
    G = xp.asarray(rng.standard_normal((3, 1)))
    net.forward(x)
    dx_full = net.backward(G)
    net.zero_grad()
    net.requires_param_grads(False)
    net.forward(x)
    dx = net.backward(G)
    assert float(abs(dx - dx_full).max()) < 1e-12
    assert all(float(abs(g).max()) == 0 for _, _, g in net.parameters())


def test_batchnorm_follows_pytorch_running_statistics(xp, float64, rng):
    bn = BatchNorm2d(3, momentum=0.1)
    x = xp.asarray(rng.standard_normal((4, 3, 5, 5)) * 3 + 2)
    y = bn(x)
    m = 4 * 5 * 5
    mean = x.mean(axis=(0, 2, 3))
    var_biased = x.var(axis=(0, 2, 3))
    assert float(abs(bn.buffers["running_mean"] - 0.1 * mean).max()) < 1e-12
    assert float(abs(bn.buffers["running_var"] - (0.9 + 0.1 * var_biased * m / (m - 1))).max()) < 1e-12
    # normalised with the biased variance: per channel mean 0, biased variance var/(var+eps)
    assert float(abs(y.mean(axis=(0, 2, 3))).max()) < 1e-12
    assert float(abs(y.var(axis=(0, 2, 3)) - var_biased / (var_biased + 1e-5)).max()) < 1e-10


def test_eval_batchnorm_uses_running_statistics(xp, float64, rng):
    bn = BatchNorm1d(3)
    for _ in range(5):
        bn(xp.asarray(rng.standard_normal((8, 3)) * 2 + 1))
    bn.eval()
    x = xp.asarray(rng.standard_normal((4, 3)))
    rm, rv = bn.buffers["running_mean"], bn.buffers["running_var"]
    expected = (x - rm) / xp.sqrt(rv + 1e-5) * bn.params["gamma"] + bn.params["beta"]
    assert float(abs(bn(x) - expected).max()) < 1e-12
    before = rm.copy()
    bn(x)
    assert float(abs(bn.buffers["running_mean"] - before).max()) == 0  # eval never updates them
    # one sample is fine in eval mode, but not in train mode
    bn(x[:1])
    with pytest.raises(ValueError, match="more than one value"):
        bn.train()(x[:1])


def test_state_dict_round_trip_restores_outputs_exactly(xp, rng, tmp_path):
    backend.seed(1)
    a = Sequential(Reshape(1, 4, 4), Conv2d(1, 3, 3, 1, 1), BatchNorm2d(3), LeakyReLU(), Flatten(), Dense(48, 2))
    backend.seed(2)
    b = Sequential(Reshape(1, 4, 4), Conv2d(1, 3, 3, 1, 1), BatchNorm2d(3), LeakyReLU(), Flatten(), Dense(48, 2))
    x = xp.asarray(rng.standard_normal((5, 16)), dtype=xp.float32)
    a(x)  # moves a's running statistics
    a.eval(), b.eval()
    assert float(abs(a(x) - b(x)).max()) > 0
    # through a real file, as a checkpoint does
    import numpy as np
    path = tmp_path / "sd.npz"
    np.savez(path, **{k: backend.to_numpy(v) for k, v in a.state_dict().items()})
    with np.load(path, allow_pickle=False) as f:
        b.load_state_dict(dict(f))
    assert bool((a(x) == b(x)).all())


def test_load_state_dict_names_what_is_wrong_and_changes_nothing(xp):
    net = small_net()
    before = {k: v.copy() for k, v in net.state_dict().items()}
    good = {k: v.copy() for k, v in before.items()}
    bad_shape = dict(good, **{"0.W": xp.zeros((5, 6), dtype=xp.float32)})
    with pytest.raises(ValueError, match=r"0\.W: expected \(4, 6\), got \(5, 6\)"):
        net.load_state_dict(bad_shape)
    missing = {k: v for k, v in good.items() if k != "1.running_var"}
    with pytest.raises(ValueError, match=r"missing keys \['1.running_var'\]"):
        net.load_state_dict(missing)
    with pytest.raises(ValueError, match=r"unexpected keys \['9.W'\]"):
        net.load_state_dict(dict(good, **{"9.W": xp.zeros(1)}))
    for k, v in net.state_dict().items():
        assert bool((v == before[k]).all()), k


@pytest.mark.parametrize("layer,bad_shape,pattern", [
    (Dense(784, 512), (64, 100), r"Dense\(784, 512.*expected input of shape \(N, 784\), got \(64, 100\)"),
    (BatchNorm2d(8), (4, 8), r"BatchNorm2d\(8.*expected input of shape \(N, 8, \*, \*\), got \(4, 8\)"),
    (BatchNorm1d(8), (4, 7), r"BatchNorm1d\(8.*expected input of shape \(N, 8\), got \(4, 7\)"),
    (ConvTranspose2d(128, 64, 4, 2, 1), (2, 64, 7, 7), r"expected input of shape \(N, 128, \*, \*\), got \(2, 64, 7, 7\)"),
    (Reshape(128, 7, 7), (2, 6000), r"Reshape\(128, 7, 7\).*6272 values per item, got \(2, 6000\)"),
])
def test_wrong_input_shape_names_layer_expected_and_received(layer, bad_shape, pattern, xp):
    with pytest.raises(ValueError, match=pattern):
        layer(xp.zeros(bad_shape, dtype=xp.float32))


def test_wrong_dtype_is_refused(xp):
    with pytest.raises(ValueError, match="expected float32 input"):
        Dense(3, 2)(xp.zeros((2, 3), dtype=xp.float64))


def test_float32_end_to_end(xp, rng):
    net = Sequential(Dense(4, 8), BatchNorm1d(8), LeakyReLU(), Reshape(2, 2, 2), ConvTranspose2d(2, 1, 4, 2, 1),
                     Tanh(), Conv2d(1, 2, 3, 2, 1), Flatten(), Dense(8, 1))
    y = net(xp.asarray(rng.standard_normal((3, 4)), dtype=xp.float32))
    dx = net.backward(xp.ones_like(y))
    assert y.dtype == xp.float32 and dx.dtype == xp.float32
    assert all(g.dtype == xp.float32 for _, _, g in net.parameters())


def test_dcgan_init_statistics(xp):
    backend.seed(0)
    net = Sequential(Dense(100, 6272), BatchNorm1d(6272), Conv2d(64, 128, 4, 2, 1))
    dcgan_init(net)
    W = backend.to_numpy(net[0].params["W"])
    gamma = backend.to_numpy(net[1].params["gamma"])
    assert abs(W.mean()) < 1e-3 and abs(W.std() - 0.02) < 1e-3
    assert abs(gamma.mean() - 1) < 2e-3 and abs(gamma.std() - 0.02) < 2e-3
    assert float(abs(net[0].params["b"]).max()) == 0 and float(abs(net[1].params["beta"]).max()) == 0
    assert abs(backend.to_numpy(net[2].params["W"]).std() - 0.02) < 1e-3


def test_same_seed_same_parameters(xp):
    backend.seed(7)
    a = small_net()
    backend.seed(7)
    b = small_net()
    for (_, p, _), (_, q, _) in zip(a.parameters(), b.parameters()):
        assert bool((p == q).all())


def test_requires_input_grad_false_skips_dx_but_keeps_param_grads(xp, float64, rng):
    net = Sequential(Conv2d(1, 2, 3, 1, 1), BatchNorm2d(2), LeakyReLU(), Flatten(), Dense(8, 1))
    x = xp.asarray(rng.standard_normal((3, 1, 2, 2)))
    G = xp.asarray(rng.standard_normal((3, 1)))
    net.forward(x)
    assert net.backward(G) is not None
    full = {k: g.copy() for k, _, g in net.parameters()}
    net.zero_grad()
    net.requires_input_grad(False)
    net.forward(x)
    assert net.backward(G) is None
    for k, _, g in net.parameters():
        assert float(abs(g - full[k]).max()) < 1e-12, k
    assert net.layers[0].needs_input_grad is False and net.layers[1].needs_input_grad is True
