"""Optimisers (Adam, SGD) and gradient-norm helpers, updating a Module's parameters in place.

An optimiser keeps references to the module's parameter and gradient arrays (as
torch.optim does): build it after the module has its final dtype and backend.
Every update works in place on those arrays and on state buffers allocated once,
so a step allocates nothing and float32 stays float32: scalars are Python floats,
which never promote an array's dtype.

state_dict() is a flat dict of NumPy arrays, ready for np.savez:
    "step"                      0-d int64, the number of steps taken
    hyper-parameters            0-d float64 each ("lr", "beta1", ... per optimiser)
    "<slot>.<parameter name>"   a copy of one state buffer, e.g. "m.0.W", "v.0.W", "buf.0.W"
"""
from __future__ import annotations

import math

from . import backend


def _require(ok: bool, name: str, expected: str, value) -> None:
    if not ok:
        raise ValueError(f"{name} must be {expected}, got {value!r}")


class Optimizer:
    """Shared bookkeeping: per-parameter state buffers, the step counter, state_dict round trips.

    Subclasses name their per-parameter buffers in ``slots`` and their hyper-parameters in
    ``hyper_names``, implement ``_set_hyper(values)`` (validate, then set) and ``step()``.
    """

    slots: tuple = ()
    hyper_names: tuple = ()

    def __init__(self, module):
        self.module = module
        self.step_count = 0
        # One row per parameter: (name, param, grad, {slot: buffer}, scratch). The scratch
        # buffer holds intermediate results, so that a step allocates no temporaries.
        self._rows = []
        for name, p, g in module.parameters():
            xp = backend.get_array_module(p)
            state = {slot: xp.zeros_like(p) for slot in self.slots}
            self._rows.append((name, p, g, state, xp.empty_like(p)))

    def _set_hyper(self, values: dict) -> None:
        raise NotImplementedError

    def _hyper(self) -> dict:
        raise NotImplementedError

    def step(self) -> None:
        raise NotImplementedError

    def zero_grad(self) -> None:
        """Zero the module's gradients (module.zero_grad())."""
        self.module.zero_grad()

    def state_dict(self) -> dict:
        """Flat dict of NumPy arrays (copies): "step", the hyper-parameters, "<slot>.<param name>"."""
        out = {"step": backend.to_numpy(self.step_count).astype("int64")}
        out.update({k: backend.to_numpy(float(v)) for k, v in self._hyper().items()})
        out.update({k: backend.to_numpy(buf).copy() for k, buf in self._buffers().items()})
        return out

    def load_state_dict(self, state) -> None:
        """Restore step, hyper-parameters and buffers from a dict (or an opened .npz file).

        Checks everything first and changes nothing on failure: names must match exactly,
        every buffer must have its parameter's shape, the scalars must be 0-d and the
        hyper-parameters valid. Buffers are copied onto the parameters' backend and dtype.
        """
        where = f"{type(self).__name__}.load_state_dict"
        expected = {"step": (), **{k: () for k in self.hyper_names},
                    **{k: tuple(buf.shape) for k, buf in self._buffers().items()}}
        keys = set(state.keys())
        missing, unexpected = sorted(set(expected) - keys), sorted(keys - set(expected))
        problems = [f"missing keys {missing}"] * bool(missing) + [f"unexpected keys {unexpected}"] * bool(unexpected)
        if not problems:
            values = {k: state[k] for k in expected}  # read each entry once (an .npz reads from disk)
            shapes = {k: tuple(getattr(v, "shape", ())) for k, v in values.items()}
            problems = [f"{k}: expected shape {shape}, got {shapes[k]}"
                        for k, shape in expected.items() if shapes[k] != shape]
        if problems:
            raise ValueError(f"{where}: " + "; ".join(problems))
        step = float(values["step"])
        _require(step >= 0 and step.is_integer(), f"{where}: step", "a non-negative integer", step)
        buffers = {k: backend.get_array_module(buf).asarray(values[k], dtype=buf.dtype)
                   for k, buf in self._buffers().items()}
        self._set_hyper({k: float(values[k]) for k in self.hyper_names})  # validates all before setting any
        self.step_count = int(step)
        for k, buf in self._buffers().items():
            buf[...] = buffers[k]

    def _buffers(self) -> dict:
        """Every state buffer by its state_dict name, "<slot>.<parameter name>"."""
        return {f"{slot}.{name}": buf for name, _, _, state, _ in self._rows for slot, buf in state.items()}


class Adam(Optimizer):
    """Adam with bias correction, step for step as torch.optim.Adam (weight_decay is L2, not AdamW).

    With t the step count (1 after the first step) and, for each parameter p with gradient grad:
        g     = grad + weight_decay * p
        m     = beta1 * m + (1 - beta1) * g
        v     = beta2 * v + (1 - beta2) * g * g
        p    -= lr * (m / (1 - beta1^t)) / (sqrt(v / (1 - beta2^t)) + eps)
    m and v start at zero. The gradient arrays are read, never changed.
    """

    slots = ("m", "v")
    hyper_names = ("lr", "beta1", "beta2", "eps", "weight_decay")

    def __init__(self, module, lr: float = 2e-4, betas=(0.5, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0):
        _require(hasattr(betas, "__len__") and len(betas) == 2, "betas", "a pair (beta1, beta2)", betas)
        self._set_hyper({"lr": lr, "beta1": betas[0], "beta2": betas[1], "eps": eps, "weight_decay": weight_decay})
        super().__init__(module)

    def _set_hyper(self, values: dict) -> None:
        lr, b1, b2, eps, wd = (float(values[k]) for k in self.hyper_names)
        _require(math.isfinite(lr) and lr > 0, "lr", "a finite number > 0", lr)
        _require(0 <= b1 < 1, "beta1", "in [0, 1)", b1)
        _require(0 <= b2 < 1, "beta2", "in [0, 1)", b2)
        _require(math.isfinite(eps) and eps >= 0, "eps", "a finite number >= 0", eps)
        _require(math.isfinite(wd) and wd >= 0, "weight_decay", "a finite number >= 0", wd)
        self.lr, self.betas, self.eps, self.weight_decay = lr, (b1, b2), eps, wd

    def _hyper(self) -> dict:
        return {"lr": self.lr, "beta1": self.betas[0], "beta2": self.betas[1], "eps": self.eps,
                "weight_decay": self.weight_decay}

    def step(self) -> None:
        """One Adam update of every parameter, in place."""
        self.step_count += 1
        b1, b2 = self.betas
        step_size = self.lr / (1 - b1 ** self.step_count)
        sqrt_bc2 = math.sqrt(1 - b2 ** self.step_count)
        eps, wd = self.eps, self.weight_decay
        for _, p, grad, state, s in self._rows:
            xp = backend.get_array_module(p)
            m, v = state["m"], state["v"]
            g = grad
            if wd:
                xp.multiply(p, wd, out=s)       # g = grad + wd * p, in the scratch buffer
                s += grad
                g = s
            m -= g                              # m = b1 m + (1 - b1) g, written as g + b1 (m - g):
            m *= b1                             # the same value (up to rounding), no temporary array
            m += g
            v *= b2                             # v = b2 v + (1 - b2) g^2
            xp.multiply(g, g, out=s)            # (g may live in s: m no longer needs it)
            s *= 1 - b2
            v += s
            xp.sqrt(v, out=s)                   # s = sqrt(v / (1 - b2^t)) + eps
            s /= sqrt_bc2
            s += eps
            xp.divide(m, s, out=s)              # p -= lr / (1 - b1^t) * m / s
            s *= step_size
            p -= s


class SGD(Optimizer):
    """Stochastic gradient descent with momentum, as torch.optim.SGD (no dampening, no Nesterov):
        buf = momentum * buf + grad        (buf starts at zero, so the first buf is grad)
        p  -= lr * buf
    With momentum = 0 this is plain p -= lr * grad.
    """

    slots = ("buf",)
    hyper_names = ("lr", "momentum")

    def __init__(self, module, lr: float, momentum: float = 0.0):
        self._set_hyper({"lr": lr, "momentum": momentum})
        super().__init__(module)

    def _set_hyper(self, values: dict) -> None:
        lr, momentum = float(values["lr"]), float(values["momentum"])
        _require(math.isfinite(lr) and lr > 0, "lr", "a finite number > 0", lr)
        _require(0 <= momentum < 1, "momentum", "in [0, 1)", momentum)
        self.lr, self.momentum = lr, momentum

    def _hyper(self) -> dict:
        return {"lr": self.lr, "momentum": self.momentum}

    def step(self) -> None:
        """One SGD update of every parameter, in place."""
        self.step_count += 1
        for _, p, grad, state, s in self._rows:
            xp = backend.get_array_module(p)
            buf = state["buf"]
            buf *= self.momentum
            buf += grad
            xp.multiply(buf, self.lr, out=s)
            p -= s


def grad_norm(module) -> float:
    """Global L2 norm of all gradients: sqrt(sum over every gradient entry of g^2), a Python float.

    Summed on the arrays' device, so a GPU is synchronised once, not once per parameter.
    """
    total = 0.0
    for _, _, g in module.parameters():
        flat = g.ravel()
        total = total + backend.get_array_module(g).vdot(flat, flat)
    return math.sqrt(float(total))


def clip_grad_norm(module, max_norm: float) -> float:
    """Scale all gradients in place so their global norm is at most max_norm; return the norm before.

    As torch.nn.utils.clip_grad_norm_: when norm > max_norm, every g *= max_norm / (norm + 1e-6).
    A non-finite norm (a NaN or inf gradient) is returned unchanged and nothing is scaled:
    scaling cannot repair it, and the caller decides what to do.
    """
    _require(max_norm > 0, "max_norm", "> 0", max_norm)
    norm = grad_norm(module)
    if math.isfinite(norm) and norm > max_norm:
        scale = max_norm / (norm + 1e-6)
        for _, _, g in module.parameters():
            g *= scale
    return norm
