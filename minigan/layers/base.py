"""Module, the base of every layer, and Sequential, a chain of layers.

A Module owns three dicts of arrays:
  params   name -> parameter array (what the optimiser updates)
  grads    name -> gradient array, same shape; ``backward`` ADDS into it, so a
           real and a fake batch pushed through one discriminator accumulate,
           exactly as PyTorch's ``.grad`` does; ``zero_grad`` clears it
  buffers  name -> state that is saved but not trained (BatchNorm's running
           statistics)
Containers (Sequential) list their sub-modules in ``children()``; names are
dotted through them ("0.W", "3.running_mean"), as in PyTorch's state_dict.
"""
from __future__ import annotations

from .. import backend


class Module:
    """Base class: subclasses implement ``forward(x)`` and ``backward(grad_out) -> grad_in``."""

    def __init__(self):
        self.params: dict = {}
        self.grads: dict = {}
        self.buffers: dict = {}
        self.training = True
        # When False, backward skips parameter gradients and only returns the
        # input gradient (the generator step needs D's dL/dx, not D's dL/dW).
        self.param_grads = True
        # When False, backward only accumulates parameter gradients and returns None
        # (nobody needs dL/dz of G's input, nor D's dL/dx in the discriminator step).
        self.needs_input_grad = True

    # -- the two passes ---------------------------------------------------
    def forward(self, x):
        raise NotImplementedError

    def backward(self, grad_out):
        raise NotImplementedError

    def __call__(self, x):
        return self.forward(x)

    # -- parameters -------------------------------------------------------
    def add_param(self, name: str, value) -> None:
        """Register a parameter (an array of the active backend) and its zeroed gradient."""
        self.params[name] = value
        self.grads[name] = backend.xp.zeros_like(value)

    def children(self):
        """Yield ``(name, module)`` for each direct sub-module (none for a plain layer)."""
        return iter(())

    def modules(self):
        """Yield this module and every module below it, depth first."""
        yield self
        for _, child in self.children():
            yield from child.modules()

    def parameters(self, prefix: str = ""):
        """Yield ``(dotted_name, param, grad)`` for every parameter, this module's first."""
        for name, p in self.params.items():
            yield prefix + name, p, self.grads[name]
        for cname, child in self.children():
            yield from child.parameters(f"{prefix}{cname}.")

    def num_parameters(self) -> int:
        return sum(int(p.size) for _, p, _ in self.parameters())

    def zero_grad(self) -> None:
        """Set every gradient to zero in place (optimisers keep references to them)."""
        for _, _, g in self.parameters():
            g.fill(0)

    def requires_param_grads(self, flag: bool = True) -> "Module":
        """Switch the parameter gradients of this module and all below it on or off."""
        for m in self.modules():
            m.param_grads = flag
        return self

    def requires_input_grad(self, flag: bool = True) -> "Module":
        """Say whether the caller needs ``backward``'s return value (the input gradient); returns self.

        Layers with parameters skip that product when it is not needed; a container passes
        the flag to its first layer (the only one whose input gradient leaves the container).
        """
        self.needs_input_grad = flag
        return self

    # -- modes ------------------------------------------------------------
    def train(self, mode: bool = True) -> "Module":
        """Training mode (BatchNorm normalises with batch statistics); returns self."""
        for m in self.modules():
            m.training = mode
        return self

    def eval(self) -> "Module":
        """Evaluation mode (BatchNorm uses its running statistics); returns self."""
        return self.train(False)

    # -- dtype ------------------------------------------------------------
    @property
    def dtype(self):
        """The dtype of the first parameter or buffer (None for a module without any)."""
        for m in self.modules():
            for a in list(m.params.values()) + list(m.buffers.values()):
                return a.dtype
        return None

    def astype(self, dtype) -> "Module":
        """Convert every parameter, gradient and buffer to ``dtype`` in this module and below; returns self."""
        for m in self.modules():
            for d in (m.params, m.grads, m.buffers):
                for k in d:
                    d[k] = d[k].astype(dtype)
        return self

    # -- saving -----------------------------------------------------------
    def state_dict(self, prefix: str = "") -> dict:
        """Flat dict ``dotted_name -> array`` of parameters and buffers (the arrays themselves, not copies)."""
        out = {prefix + k: v for k, v in self.params.items()}
        out.update({prefix + k: v for k, v in self.buffers.items()})
        for cname, child in self.children():
            out.update(child.state_dict(f"{prefix}{cname}."))
        return out

    def load_state_dict(self, state: dict) -> None:
        """Copy arrays from ``state`` into this module's parameters and buffers.

        Checks first, changes nothing on failure: every expected name must be
        present, no unexpected name may be, and every shape must match.
        """
        own = self.state_dict()
        missing = sorted(set(own) - set(state))
        unexpected = sorted(set(state) - set(own))
        wrong = [f"{k}: expected {tuple(own[k].shape)}, got {tuple(state[k].shape)}"
                 for k in own if k in state and tuple(own[k].shape) != tuple(state[k].shape)]
        if missing or unexpected or wrong:
            parts = []
            if missing:
                parts.append(f"missing keys {missing}")
            if unexpected:
                parts.append(f"unexpected keys {unexpected}")
            if wrong:
                parts.append("shape mismatch: " + "; ".join(wrong))
            raise ValueError(f"{type(self).__name__}.load_state_dict: " + ", ".join(parts))
        for k, dst in own.items():
            xp = backend.get_array_module(dst)
            dst[...] = xp.asarray(state[k], dtype=dst.dtype)

    # -- checks -----------------------------------------------------------
    def check_input(self, x, ndim: int, fixed: dict) -> None:
        """Raise ValueError unless ``x`` has ``ndim`` dims, ``x.shape[axis] == size`` for each
        ``axis: size`` in ``fixed``, and (for a layer with parameters) the parameters' dtype."""
        shape = tuple(getattr(x, "shape", ()))
        ok = len(shape) == ndim and all(shape[a] == s for a, s in fixed.items())
        if not ok:
            expected = ["N"] + ["*"] * (ndim - 1)
            for a, s in fixed.items():
                expected[a] = str(s)
            raise ValueError(f"{self!r}: expected input of shape ({', '.join(expected)}), got {shape}")
        dtype = self.dtype
        if dtype is not None and x.dtype != dtype:
            raise ValueError(f"{self!r}: expected {dtype} input (the parameters' dtype), got {x.dtype}")

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Sequential(Module):
    """A chain of layers: ``forward`` runs them in order, ``backward`` in reverse.

    Shapes: whatever the first layer takes in, whatever the last gives out.
    Backward: the chain rule, dL/dx = J_1^T (J_2^T (... J_n^T dL/dy)).
    """

    def __init__(self, *layers: Module):
        super().__init__()
        self.layers = list(layers)

    def children(self):
        return ((str(i), layer) for i, layer in enumerate(self.layers))

    def __getitem__(self, i):
        return self.layers[i]

    def __len__(self):
        return len(self.layers)

    def forward(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def requires_input_grad(self, flag: bool = True) -> "Sequential":
        super().requires_input_grad(flag)
        self.layers[0].requires_input_grad(flag)
        return self

    def backward(self, grad_out):
        for layer in reversed(self.layers):
            grad_out = layer.backward(grad_out)
            if grad_out is None:  # the first layer's input gradient was not asked for
                break
        return grad_out

    def __repr__(self) -> str:
        inner = "\n".join(f"  ({i}): {layer!r}" for i, layer in enumerate(self.layers))
        return f"Sequential(\n{inner}\n)"
