"""Module behaviour: gradient accumulation, what backward is asked for, zero_grad, modes (and eval_mode), state
dicts, shape and dtype errors, init, capabilities."""
import pytest

from minigan import backend
from minigan.layers import (BatchNorm1d, BatchNorm2d, CategoricalCode, CodedDense, Conv2d, ConvTranspose2d, Dense,
                            Flatten, LeakyReLU, Module, ReLU, Reshape, Scale, Sequential, Sigmoid, Tanh, dcgan_init,
                            eval_mode)
from minigan.layers.base import grads_needed
from minigan.models import build


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


def conv_net():
    return Sequential(Conv2d(1, 2, 3, 1, 1), BatchNorm2d(2), LeakyReLU(), Flatten(), Dense(8, 1))


def grads_copy(net):
    return {k: g.copy() for k, _, g in net.parameters()}


def assert_bitwise_equal(a, b):
    assert set(a) == set(b)
    for k in a:
        assert bool((a[k] == b[k]).all()), k


def test_param_grads_false_leaves_grads_untouched_but_returns_dx(xp, float64, rng):
    net = conv_net()
    x = xp.asarray(rng.standard_normal((3, 1, 2, 2)))
    G = xp.asarray(rng.standard_normal((3, 1)))
    net.forward(x)
    dx_full = net.backward(G)
    before = grads_copy(net)  # non-zero: any addition would show
    assert all(float(abs(g).max()) > 0 for g in before.values())
    net.forward(x)
    dx = net.backward(G, param_grads=False)
    assert bool((dx == dx_full).all())
    assert_bitwise_equal(grads_copy(net), before)


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


def test_input_grad_false_returns_none_and_keeps_param_grads(xp, float64, rng):
    net = conv_net()
    x = xp.asarray(rng.standard_normal((3, 1, 2, 2)))
    G = xp.asarray(rng.standard_normal((3, 1)))
    net.forward(x)
    assert net.backward(G) is not None
    full = grads_copy(net)
    net.zero_grad()
    net.forward(x)
    assert net.backward(G, input_grad=False) is None
    assert_bitwise_equal(grads_copy(net), full)


def test_grads_needed_rule():
    chain = [Flatten(), LeakyReLU(), Dense(3, 2), Sequential(Tanh(), Dense(2, 2)), Tanh()]
    F, T = False, True
    assert grads_needed(chain, input_grad=F, param_grads=T) == [F, F, F, T, T, T]
    assert grads_needed(chain, input_grad=T, param_grads=F) == [T] * 6
    assert grads_needed(chain, input_grad=T, param_grads=T) == [T] * 6
    assert grads_needed(chain, input_grad=F, param_grads=F) == [F] * 6
    assert grads_needed([Tanh(), Sequential(Flatten(), Dense(2, 1))], False, True) == [F, F, T]
    assert grads_needed([], True, True) == [True] and grads_needed([], False, True) == [False]
    assert Sequential(Tanh(), Sequential(Dense(2, 2))).has_params() and not Sequential(Tanh(), Flatten()).has_params()


def record_backward_calls(net):
    """Wrap each layer's backward (an instance attribute shadowing the method): calls get
    ``(index, input_grad, param_grads, returned None)`` appended, in call order."""
    calls = []
    for i, layer in enumerate(net.layers):
        def wrapped(grad_out, input_grad=True, param_grads=True, _orig=layer.backward, _i=i):
            out = _orig(grad_out, input_grad=input_grad, param_grads=param_grads)
            calls.append((_i, input_grad, param_grads, out is None))
            return out
        layer.backward = wrapped
    return calls


@pytest.mark.parametrize("arch", ["mlp", "dcgan"])
def test_discriminator_step_computes_no_unread_input_gradient(arch, xp, rng):
    """D.backward(g, input_grad=False), as in the D step: the first layer with parameters is asked for no
    input gradient (mlp: Dense(784, 512)) and returns None, the parameter-free layers before it are asked
    for nothing at all (mlp: the Flatten: it only pops its save), every later one is asked (its input
    gradient feeds parameter gradients); the parameter gradients are bitwise those of the full backward."""
    _, D = build(arch, (1, 28, 28), 100)
    x = xp.asarray(rng.standard_normal((4, 1, 28, 28)), dtype=xp.float32)
    G = xp.asarray(rng.standard_normal((4, 1)), dtype=xp.float32)
    D.forward(x)
    D.backward(G)
    full = grads_copy(D)
    D.zero_grad()
    calls = record_backward_calls(D)
    D.forward(x)
    assert D.backward(G, input_grad=False) is None
    assert_bitwise_equal(grads_copy(D), full)
    first = next(i for i, layer in enumerate(D.layers) if layer.has_params())
    assert calls == [(i, i > first, i >= first, i <= first) for i in reversed(range(len(D.layers)))]
    assert all(input_grad == (i > first) for i, input_grad, _, _ in calls)  # none below first asked for dx
    assert D.pending() == 0
    if arch == "mlp":
        assert isinstance(D[0], Flatten) and isinstance(D[1], Dense) and first == 1
        assert calls[-2] == (1, False, True, True)  # Dense(784, 512): no dL/dx, returned None
        assert calls[-1] == (0, False, False, True)  # the Flatten: asked for nothing, it only pops its save


def test_generator_step_asks_every_layer_of_d_for_its_input_gradient_only(xp, rng):
    """D.backward(g, param_grads=False), as in the G step: every layer returns dL/dx, none adds into grads."""
    _, D = build("mlp", (1, 28, 28), 100)
    x = xp.asarray(rng.standard_normal((4, 1, 28, 28)), dtype=xp.float32)
    G = xp.asarray(rng.standard_normal((4, 1)), dtype=xp.float32)
    D.forward(x)
    dx_full = D.backward(G)
    before = grads_copy(D)
    calls = record_backward_calls(D)
    D.forward(x)
    dx = D.backward(G, param_grads=False)
    assert bool((dx == dx_full).all())
    assert_bitwise_equal(grads_copy(D), before)
    assert calls == [(i, True, False, False) for i in reversed(range(len(D.layers)))]


def test_nothing_asked_computes_nothing(xp, rng):
    """param_grads=False and input_grad=False: every layer is asked for nothing (it only pops its save)."""
    net = Sequential(Flatten(), LeakyReLU(), Dense(12, 5), Sequential(Tanh(), Dense(5, 1)))
    x = xp.asarray(rng.standard_normal((4, 3, 2, 2)), dtype=xp.float32)
    net.forward(x)
    net.backward(xp.ones((4, 1), dtype=xp.float32))
    before = grads_copy(net)
    calls = record_backward_calls(net)
    net.forward(x)
    assert net.backward(xp.ones((4, 1), dtype=xp.float32), input_grad=False, param_grads=False) is None
    assert calls == [(i, False, False, True) for i in reversed(range(len(net.layers)))]
    assert_bitwise_equal(grads_copy(net), before)
    assert net.pending() == 0


def test_parameter_free_head_of_a_chain_is_skipped_in_nested_containers(xp, rng):
    """input_grad=False through nested Sequentials: the inner chain before the first parameters is asked for
    nothing (its layers only pop their saves)."""
    head = Sequential(Flatten(), LeakyReLU())
    tail = Sequential(LeakyReLU(), Dense(5, 1))
    net = Sequential(head, Dense(12, 5), tail)
    head_calls, tail_calls = record_backward_calls(head), record_backward_calls(tail)
    x = xp.asarray(rng.standard_normal((4, 3, 2, 2)), dtype=xp.float32)
    net.forward(x)
    assert net.backward(xp.ones((4, 1), dtype=xp.float32), input_grad=False) is None
    assert head_calls == [(1, False, False, True), (0, False, False, True)]
    assert net.pending() == 0
    assert tail_calls == [(1, True, True, False), (0, True, True, False)]
    assert all(float(abs(g).max()) > 0 for _, _, g in net.parameters())


def every_layer():
    """(layer, input shape, train mode) for each kind of layer."""
    return [
        (Dense(4, 3), (5, 4), True), (Dense(4, 1, bias=False), (5, 4), True),
        (Conv2d(2, 3, 3, 2, 1), (2, 2, 5, 5), True), (ConvTranspose2d(2, 3, 4, 2, 1), (2, 2, 3, 3), True),
        (BatchNorm1d(4), (6, 4), True), (BatchNorm1d(4), (6, 4), False),
        (BatchNorm2d(2), (3, 2, 2, 2), True), (BatchNorm2d(2), (3, 2, 2, 2), False),
        (LeakyReLU(0.2), (3, 4), True), (ReLU(), (3, 4), True), (Tanh(), (3, 4), True),
        (Sigmoid(), (3, 4), True), (Scale(2.0), (3, 4), True),
        (Flatten(), (3, 2, 2, 2), True), (Reshape(2, 2), (3, 4), True),
        (CategoricalCode(4, 0.5), (6, 3), True), (CodedDense(4, 3, 5, 0.5), (6, 3), True),
    ]


@pytest.mark.parametrize("index", range(len(every_layer())))
def test_every_layer_takes_input_grad_and_param_grads(index, xp, float64, rng):
    """For each layer: input_grad=False gives None and the full parameter gradients; param_grads=False
    gives the full dx and leaves grads alone; both False give None and leave grads alone (all bitwise).
    Each backward follows a forward of its own, on the same x (the same function: BatchNorm's train-mode
    output does not read the running statistics its forwards move); none leaves a save behind."""
    layer, shape, training = every_layer()[index]
    layer.astype("float64").train(training)
    x = xp.asarray(rng.standard_normal(shape))
    y = layer.forward(x)
    G = xp.asarray(rng.standard_normal(y.shape))
    dx_full = layer.backward(G)
    full = grads_copy(layer)
    layer.zero_grad()
    layer.forward(x)
    assert layer.backward(G, input_grad=False) is None
    assert_bitwise_equal(grads_copy(layer), full)
    layer.forward(x)
    assert bool((layer.backward(G, param_grads=False) == dx_full).all())
    layer.forward(x)
    assert layer.backward(G, input_grad=False, param_grads=False) is None
    assert_bitwise_equal(grads_copy(layer), full)
    assert layer.pending() == 0


def test_eval_mode_puts_back_every_modules_own_mode_after_an_exception(xp):
    """Mixed modes (a BatchNorm already in eval mode inside a training net, a training one inside an
    evaluating net) come back exactly, module by module, on a normal exit and after an exception."""
    G, D = small_net(), conv_net().eval()
    G[1].eval()
    D[1].train()

    def modes():
        return [m.training for net in (G, D) for m in net.modules()]
    before = modes()
    assert len(set(before)) == 2
    with eval_mode(G, D):
        assert not any(modes())
    assert modes() == before
    with pytest.raises(ZeroDivisionError), eval_mode(G, D):
        1 / 0
    assert modes() == before


def test_capabilities_are_class_attributes():
    assert Module.has_weight_matrix is False and Module.batch_dependent is False
    assert all(cls.has_weight_matrix for cls in (Dense, Conv2d, ConvTranspose2d, CodedDense))
    assert all(cls.batch_dependent for cls in (BatchNorm1d, BatchNorm2d))
    others = (Sequential, Tanh, LeakyReLU, ReLU, Sigmoid, Scale, Flatten, Reshape, CategoricalCode)
    assert not any(cls.has_weight_matrix or cls.batch_dependent for cls in others)
    assert not any(cls.batch_dependent for cls in (Dense, Conv2d, ConvTranspose2d))
