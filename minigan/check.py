"""``minigan check``: does this install compute what the library says it does?

Run it first after installing, above all on a GPU (``minigan check --backend cupy``): a wrong CuPy build,
a broken BLAS or a layer edited without its backward shows up here as a ✗ row, before a long training run
silently goes wrong. Each row is an item, its figure and ✓ (passed) or ✗ (failed); the last line says how
many passed. ``run_check`` returns 0 when every item passed, 1 otherwise. An item that raises counts as
failed (its row shows the exception); the run goes on with the next item.

The items, in order, and what each proves:

1. ``grad <layer>``: every layer's hand-written backward against central differences
   (``minigan.gradcheck.check_layer``), in float64, on tiny inputs: the input gradient and every parameter
   gradient. Figure: the worst relative error (``rel_error``) of them; pass below 1e-7, the documented
   tolerance (a correct float64 layer scores about 1e-10, a backward 1 % off about 5e-3). The
   layers are ``LAYER_CASES`` below, one case or more for each layer ``minigan.layers`` exports (a test
   keeps it complete). Inputs are kept away from the points where a derivative jumps: ReLU's and
   LeakyReLU's kink at 0, and CategoricalCode's bin edges (its code is a step function of z[:, 0]).
2. ``loss <name>``: ``bce_with_logits`` and every kind of ``discriminator_loss`` and ``generator_loss``
   in the loss table (``losses.LOSSES``, registered kinds included): the returned gradient against
   central differences of the returned value, float64, logits kept away from the hinge kinks at +-1.
   Pass below 1e-7.
3. ``adam closed form``: a few ``Adam`` steps on one parameter with fixed, known gradients, against
   the bias-corrected update written out here independently of minigan.optim:
       m_t = b1 m + (1 - b1) g,  v_t = b2 v + (1 - b2) g^2,  m_hat = m_t / (1 - b1^t),
       v_hat = v_t / (1 - b2^t), p -= lr m_hat / (sqrt(v_hat) + eps).
   Figure: the worst relative error of the parameter's displacement p_t - p_0 over the steps (the
   displacement, not p itself, so a wrong step is not hidden behind p's size); pass below 1e-12 in
   float64 (the two only differ by rounding, ~1e-16).
4. ``cupy = numpy <layer>`` (backend "cupy" only): every case of ``LAYER_CASES`` run on the GPU and on
   NumPy in float32 with the same parameters (NumPy's, copied by ``state_dict``/``load_state_dict``),
   the same input and the same output gradient: the forward output, the state after the forward
   (BatchNorm's running statistics), the input gradient and every parameter gradient. Figure: the worst
   relative error; pass below ``FLOAT32_TOL`` = 1e-4 (float32 rounding is ~1e-7 relative; a wrong
   kernel gives ~1). It proves that the GPU computes what the CPU computes; items 1-3 and 5 run on the
   GPU too, so its float64 gradients and its training are checked directly as well.
5. ``train``: 100 ``GAN.train_step`` calls of the mlp2d pair (``minigan.models.build``, width 32) on a
   fixed batch of 64 ring8 points (``minigan.data.sample_toy``), in float32 on the chosen backend, must
   lower D's loss (``discriminator_loss`` of D on the fixed real batch and on G's fakes from fixed
   noise). Figure: "before -> after"; pass if after < before. It proves that the pieces work together
   (losses, both backward passes through D and G, Adam, the trainer): D learns.

The figure column holds the measured value and the bound it is held to ("2.4e-10 < 1e-7"); after the
mark, a failed row names its worst array ("worst: W") or the exception it raised. On NumPy the whole
run takes about half a second on two CPU cores.

On backend "cupy" without CuPy or a GPU, ``minigan.backend.use`` raises its RuntimeError (saying how to
install CuPy); ``run_check`` lets it propagate unchanged, before printing any row (the command line turns
it into one line and exit status 2).

Global state is restored afterwards: the active backend, the default dtype and the global initialisation
generator (each item that builds layers draws from one seeded with 0, ``backend.seeded``, in its place).
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from statistics import NormalDist
from typing import Callable

import numpy as np

from . import backend, losses
from .gradcheck import check_layer, numerical_gradient, rel_error
from .layers import (BatchNorm1d, BatchNorm2d, CategoricalCode, Concat, CodedDense, Conv2d, ConvTranspose2d, Dense,
                     Flatten, Identity, InstanceNorm2d, LabelPlanes, LeakyReLU, Module, ReflectionPad2d, ReLU,
                     Reshape, Residual, Scale, Sequential, Sigmoid, SpectralNorm, Tanh, no_grad)
from .optim import Adam

GRAD_TOL = 1e-7       # float64 central differences: a correct derivative scores ~1e-10 (gradcheck.py)
ADAM_TOL = 1e-12      # float64, the same formula computed in another order: rounding only
FLOAT32_TOL = 1e-4    # float32 CuPy vs NumPy: rounding ~1e-7 relative, accumulated over short sums
TRAIN_STEPS = 100
PASS, FAIL = "✓", "✗"
FIGURE_WIDTH = 18     # "2.4e-10 < 1e-7", "1.388 -> 0.584"


# -- input constraints -----------------------------------------------------------------------------
def _away_from_zero(x: np.ndarray) -> np.ndarray:
    """Move every entry 0.1 further from 0: the central difference (h = 1e-6) never straddles the kink."""
    return x + 0.1 * np.where(x >= 0, 1.0, -1.0)


def _z0_in_bin_middles(categories: int):
    """Put z[:, 0] at the middle (in probability) of a bin of CategoricalCode(categories), cycling through
    the bins: its output is a step function of z0, flat there, with a jump at each bin edge."""
    middles = [NormalDist().inv_cdf((k + 0.5) / categories) for k in range(categories)]

    def constrain(z: np.ndarray) -> np.ndarray:
        z = z.copy()
        z[:, 0] = [middles[i % categories] for i in range(z.shape[0])]
        return z
    return constrain


@dataclass(frozen=True)
class LayerCase:
    """One layer to check: ``make()`` builds it (in the default dtype, on the active backend), its input
    has ``shape``, drawn N(0, 1) on the host and passed through ``constrain`` (host NumPy float64 -> same)."""
    name: str
    make: Callable[[], Module]
    shape: tuple
    constrain: Callable[[np.ndarray], np.ndarray] | None = None

    def input(self, seed: int = 1) -> np.ndarray:
        """The case's input, host NumPy float64 (the same numbers for every backend and dtype).

        Not seed 0: check_layer draws its output gradient G with seed 0, and an input equal to G makes
        BatchNorm's input gradient vanish (G then lies in the span of 1 and x_hat, which BN projects
        out), leaving a relative error of rounding noise over ~0."""
        x = backend.rng(seed).standard_normal(self.shape)
        return self.constrain(x) if self.constrain else x


# Every layer minigan.layers exports, on inputs small enough that the whole table checks in a tenth of a second
# on a CPU (central differences cost two forward passes per input and parameter entry).
# tests/test_check.py fails when an exported layer has no case here.
LAYER_CASES = (
    LayerCase("Dense", lambda: Dense(5, 3), (4, 5)),
    LayerCase("Dense no bias", lambda: Dense(6, 2, bias=False), (3, 6)),
    LayerCase("Dense 1 output", lambda: Dense(4, 1), (3, 4)),   # backward's outer-product branch
    LayerCase("Conv2d k3 s2 p1", lambda: Conv2d(2, 3, 3, stride=2, padding=1), (2, 2, 5, 5)),
    LayerCase("ConvTranspose2d k4 s2 p1", lambda: ConvTranspose2d(2, 3, 4, stride=2, padding=1), (2, 2, 3, 3)),
    LayerCase("BatchNorm1d train", lambda: BatchNorm1d(3).train(), (5, 3)),
    LayerCase("BatchNorm2d train", lambda: BatchNorm2d(2).train(), (3, 2, 2, 2)),
    LayerCase("LeakyReLU", lambda: LeakyReLU(0.2), (4, 5), _away_from_zero),
    LayerCase("ReLU", lambda: ReLU(), (4, 5), _away_from_zero),
    LayerCase("Tanh", lambda: Tanh(), (4, 5)),
    LayerCase("Sigmoid", lambda: Sigmoid(), (4, 5)),
    LayerCase("Scale", lambda: Scale(-2.5), (4, 5)),
    LayerCase("Flatten", lambda: Flatten(), (2, 3, 2, 2)),
    LayerCase("Reshape", lambda: Reshape(3, 2, 2), (2, 12)),
    LayerCase("LabelPlanes", lambda: LabelPlanes(3, 2, 4), (3, 7)),
    LayerCase("InstanceNorm2d", lambda: InstanceNorm2d(2), (2, 2, 3, 3)),
    LayerCase("InstanceNorm2d affine", lambda: InstanceNorm2d(2, affine=True), (2, 2, 3, 4)),
    LayerCase("ReflectionPad2d (1, 2, 2, 0)", lambda: ReflectionPad2d((1, 2, 2, 0)), (2, 2, 3, 4)),
    LayerCase("CategoricalCode", lambda: CategoricalCode(5, noise_scale=0.3), (6, 4), _z0_in_bin_middles(5)),
    LayerCase("CodedDense", lambda: CodedDense(5, 4, 3, noise_scale=0.3), (6, 4), _z0_in_bin_middles(5)),
    # Eval mode: u stays fixed and sigma = ||Wm^T u||, whose gradient is exactly the backward's u v^T. In train
    # mode each forward would move u (a fresh u is far from converged), so central differences would see a
    # different function at every call (tests/test_spectral_norm.py checks train mode with u held fixed).
    LayerCase("SpectralNorm(Dense) eval", lambda: SpectralNorm(Dense(5, 3)).eval(), (4, 5)),
    LayerCase("SpectralNorm(Conv2d) eval", lambda: SpectralNorm(Conv2d(2, 3, 3, stride=2, padding=1)).eval(),
              (2, 2, 5, 5)),
    LayerCase("SpectralNorm(ConvTranspose2d) eval",
              lambda: SpectralNorm(ConvTranspose2d(2, 3, 4, stride=2, padding=1)).eval(), (2, 2, 3, 3)),
    LayerCase("Identity", lambda: Identity(), (3, 4)),
    LayerCase("Residual(Dense)", lambda: Residual(Dense(4, 4)), (3, 4)),   # (no Tanh: its own row must be alone)
    # a U-Net level: the skip (a fork: its backward adds the two paths' input gradients) beside down-up convs
    LayerCase("Concat(Identity, conv-convT) U-Net skip",
              lambda: Concat(Identity(), Sequential(Conv2d(2, 3, 4, 2, 1), LeakyReLU(0.2),
                                                    ConvTranspose2d(3, 2, 4, 2, 1))), (2, 2, 4, 4)),
    # The chain rule through a container. No conv bias before BatchNorm: BN removes per-channel
    # constants, so that bias's true gradient is exactly 0 and its relative error meaningless.
    LayerCase("Sequential conv-BN-LReLU-Dense",
              lambda: Sequential(Conv2d(1, 2, 4, 2, 1, bias=False), BatchNorm2d(2), LeakyReLU(0.2), Flatten(),
                                 Dense(8, 1)), (3, 1, 4, 4)),
)


# -- the items -------------------------------------------------------------------------------------
# Each item is (row name, function returning (figure, passed, note)); names are known before anything runs,
# so the table's columns are sized up front and each row prints as soon as its item is done.

def _tol(tol: float) -> str:
    return f"{tol:.0e}".replace("e-0", "e-")  # 1e-7, not 1e-07


def _verdict(err: float, tol: float, where: str = "") -> tuple:
    """(figure, passed, note): the figure "2.4e-10 < 1e-7"; on a failure the note names the worst array."""
    ok = err < tol  # a NaN error fails
    return f"{err:.1e} {'<' if ok else '>='} {_tol(tol)}", ok, (f"worst: {where}" if where and not ok else "")


def _verdict_worst(errors: dict, tol: float) -> tuple:
    """The verdict on the largest of several named errors (NaN counts as the largest)."""
    key = max(errors, key=lambda k: math.inf if math.isnan(errors[k]) else errors[k])
    return _verdict(errors[key], tol, key)


def _grad_item(case: LayerCase):
    def run():
        with backend.seeded(0):
            errors = check_layer(case.make(), backend.asarray(case.input(), dtype="float64"))
        return _verdict_worst(errors, GRAD_TOL)
    return run


def _logits(rng, n: int):
    """(n, 1) float64 logits N(0, 2^2), each kept 0.05 away from the hinge kinks at +-1."""
    x = 2.0 * rng.standard_normal((n, 1))
    near = abs(abs(x) - 1) < 0.05
    x[near] += 0.2 * np.sign(x[near])
    return backend.asarray(x, dtype="float64")


def _bce_item():
    def run():
        rng = backend.rng(1)
        x, soft = _logits(rng, 5), backend.asarray(rng.uniform(0, 1, (5, 1)), dtype="float64")
        errors = {}
        for label, t in (("soft targets", soft), ("target 1", 1.0), ("target 0", 0.0)):
            _, grad = losses.bce_with_logits(x, t)
            errors[label] = rel_error(grad, numerical_gradient(lambda: losses.bce_with_logits(x, t)[0], x))
        return _verdict_worst(errors, GRAD_TOL)
    return run


def _discriminator_item(kind: str):
    def run():
        rng = backend.rng(2)
        real, fake = _logits(rng, 5), _logits(rng, 3)  # different N: each mean has its own 1/N
        _, grad_real, grad_fake = losses.discriminator_loss(real, fake, kind)

        def value():
            return losses.discriminator_loss(real, fake, kind)[0]
        errors = {"real": rel_error(grad_real, numerical_gradient(value, real)),
                  "fake": rel_error(grad_fake, numerical_gradient(value, fake))}
        return _verdict_worst(errors, GRAD_TOL)
    return run


def _generator_item(kind: str):
    def run():
        fake = _logits(backend.rng(3), 5)
        _, grad = losses.generator_loss(fake, kind)
        err = rel_error(grad, numerical_gradient(lambda: losses.generator_loss(fake, kind)[0], fake))
        return _verdict(err, GRAD_TOL)
    return run


def _adam_item():
    def run():
        lr, b1, b2, eps, steps = 1e-2, 0.5, 0.99, 1e-8, 6
        rng = backend.rng(4)
        p0 = rng.standard_normal((3, 4))
        # fixed gradients of both signs over four orders of magnitude, a few exactly 0
        grads = rng.standard_normal((steps, 3, 4)) * 10.0 ** rng.integers(-3, 2, (steps, 3, 4))
        grads[:, 0, 0] = 0.0
        holder = Module()
        holder.add_param("p", backend.asarray(p0.copy(), dtype="float64"))  # NumPy's asarray would share p0
        opt = Adam(holder, lr=lr, betas=(b1, b2), eps=eps)
        p_ref, m, v = p0.copy(), np.zeros_like(p0), np.zeros_like(p0)
        worst = 0.0
        for t in range(1, steps + 1):
            g = grads[t - 1]
            holder.grads["p"][...] = backend.asarray(g, dtype="float64")
            opt.step()
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g * g
            m_hat, v_hat = m / (1 - b1 ** t), v / (1 - b2 ** t)
            p_ref = p_ref - lr * m_hat / (np.sqrt(v_hat) + eps)
            p = backend.to_numpy(holder.params["p"])
            worst = max(worst, rel_error(p - p0, p_ref - p0), 0.0 if np.isfinite(p).all() else math.inf)
        return _verdict(worst, ADAM_TOL)
    return run


def _backend_item(case: LayerCase, reference: str = "numpy", other: str = "cupy"):
    """``other`` against ``reference``, float32: same parameters, input and output gradient. (The tests run
    it as numpy against numpy, where every figure must be 0: the comparison itself is then checked on a CPU.)"""
    def run():
        x_host = case.input().astype(np.float32)
        results, state = {}, None
        for name in (reference, other):
            with backend.using(name), backend.seeded(0):
                layer = case.make()
                if state is None:
                    state = {k: backend.to_numpy(v).copy() for k, v in layer.state_dict().items()}
                else:
                    layer.load_state_dict(state)  # the reference's parameters and buffers, copied over
                y = layer(backend.asarray(x_host))
                g = backend.asarray(backend.rng(5).standard_normal(y.shape), dtype="float32")
                layer.zero_grad()
                out = {"forward": y, "x": layer.backward(g)}
                # after the forward: BatchNorm's running statistics (the parameters are unchanged)
                out.update({f"state {k}": v for k, v in layer.state_dict().items()})
                out.update({k: grad for k, _, grad in layer.parameters()})
                results[name] = {k: backend.to_numpy(v) for k, v in out.items()}
        errors = {k: rel_error(results[reference][k], results[other][k]) for k in results[reference]}
        return _verdict_worst(errors, FLOAT32_TOL)
    return run


def _training_item():
    def run():
        from .data import sample_toy
        from .models import build
        from .train import GAN

        z_dim = 8
        # Width 32 and batch 64 keep every GEMM below OpenBLAS's threading threshold: at width 64, batch 128
        # the 100 steps took 0.3 s on an idle 2-core machine but 25 s with one core busy elsewhere.
        with backend.seeded(0):
            G, D = build("mlp2d", (2,), z_dim, pack=1, width=32)
        # D learns 10x faster than G, so D's loss on the fixed batch falls clearly in 100 steps (30 seeds:
        # 1.386 -> 0.46..1.23). With equal rates G can keep up, and D's loss rose on 3 seeds of 10.
        gan = GAN(G, D, z_dim, lr_g=1e-4, lr_d=1e-3, betas=(0.5, 0.999), seed=0)
        real = backend.asarray(sample_toy("ring8", 64, backend.rng(6)))
        z = gan.noise(64, backend.rng(7))

        def d_loss():
            with no_grad():  # a measurement: never back-propagated
                return losses.discriminator_loss(D(real), D(G(z)), "nonsaturating")[0]

        before = d_loss()
        for _ in range(TRAIN_STEPS):
            gan.train_step(real)
        after = d_loss()
        return f"{before:.3f} -> {after:.3f}", bool(after < before), ""  # a NaN fails
    return run


def _items(backend_name: str):
    items = [(f"grad {case.name}", _grad_item(case)) for case in LAYER_CASES]
    items.append(("loss bce_with_logits", _bce_item()))
    # read at call time, so that kinds added with losses.register_loss are checked too
    d_kinds = tuple(losses.DISCRIMINATOR_ALIASES) + tuple(losses.LOSSES)
    items += [(f"loss discriminator_loss {kind}", _discriminator_item(kind)) for kind in d_kinds]
    items += [(f"loss generator_loss {kind}", _generator_item(kind)) for kind in losses.LOSSES]
    items.append(("adam closed form", _adam_item()))
    float32 = []
    if backend_name == "cupy":
        float32 += [(f"cupy = numpy {case.name}", _backend_item(case)) for case in LAYER_CASES]
    float32.append((f"train {TRAIN_STEPS} steps, D loss falls", _training_item()))
    return items, float32


def _describe_backend(backend_name: str) -> str:
    if backend_name == "numpy":
        return f"numpy {np.__version__}"
    xp = backend.xp
    text = f"cupy {xp.__version__}, numpy {np.__version__}"
    try:
        props = xp.cuda.runtime.getDeviceProperties(xp.cuda.Device().id)
        text += f", {props['name'].decode() if isinstance(props['name'], bytes) else props['name']}"
    except Exception:  # a description only: never fail the check over it
        pass
    return text


def run_check(backend_name: str = "numpy", out=print) -> int:
    """Run every check on ``backend_name`` ("numpy" or "cupy"), print the table through ``out`` (one call
    per line) and return 0 if every item passed, 1 if any failed.

    Raises ValueError for an unknown backend name, and on "cupy" without CuPy or a GPU the RuntimeError of
    ``minigan.backend.use`` (with its install hint), unchanged, before any row is printed. The active backend
    and the default dtype are restored afterwards. See the module docstring for the items and tolerances
    (gradients 1e-7 and Adam 1e-12 in float64; CuPy against NumPy 1e-4 in float32).
    """
    started = time.perf_counter()
    with backend.using(backend_name):  # may raise: let the caller report it
        float64_items, float32_items = _items(backend_name)
        width = max(len(name) for name, _ in float64_items + float32_items)
        out(f"minigan check on {backend_name} ({_describe_backend(backend_name)})")
        out(f"{'item':<{width}}  {'figure':<{FIGURE_WIDTH}}  ok")
        passed = total = 0
        for dtype, items in (("float64", float64_items), ("float32", float32_items)):
            for name, run in items:
                try:
                    # each item in its own scope: one cannot leave another backend or dtype to the next
                    with backend.using(backend_name), backend.using_dtype(dtype):
                        figure, ok, note = run()
                except Exception as exc:  # a crashing item is a failed item; the others still run
                    figure, ok, note = "error", False, f"{type(exc).__name__}: {exc}"
                total += 1
                passed += ok
                # details after the mark, so the marks stay aligned whatever the note's length
                row = f"{name:<{width}}  {figure:<{FIGURE_WIDTH}}  {PASS if ok else FAIL}"
                out(row + f"  {note}" if note else row)
        out(f"{passed} of {total} checks passed ({time.perf_counter() - started:.1f} s)")
        return 0 if passed == total else 1
