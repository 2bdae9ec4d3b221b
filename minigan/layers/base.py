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

Each backward call says what its caller needs, so that no layer computes what nobody reads:
    backward(grad_out, input_grad=True, param_grads=True) -> dL/dx, or None when input_grad is False
  input_grad=False   the caller will not read dL/dx (the discriminator step's D: the fakes are
                     constants; G always: z is not learned): return None and skip that product
  param_grads=False  add no parameter gradient here or anywhere below (the generator step's D:
                     G needs D's dL/dx, not D's dL/dW)
A container works out from these what each sub-module must return (``grads_needed``).

What a backward needs from its forward (the input, a mask, the normalised values) the forward saves with
``self.save_for_backward(...)`` and the backward takes back with ``self.saved()``. The saves are a stack
per module, not one slot: a module may run several times before its backward (a CycleGAN generator runs on
the real images and again inside the cycle, y = G(x1) + G(G(x2))). Reverse mode calls the backwards in
the reverse order of the forwards, so each backward pops the most recent save and every application gets
the gradient of its own forward. A backward that has nothing to compute, (None, input_grad=False,
param_grads=False), still pops: a container hands it to the sub-modules it would otherwise skip, so no
save is left behind. Forwards that will never be back-propagated (sampling, evaluation, the numerical
side of a gradient check) run under ``no_grad()`` and save nothing; ``pending()`` counts what waits.
"""
from __future__ import annotations

from contextlib import contextmanager

from .. import backend

_recording = True  # False inside no_grad(): forwards save nothing


@contextmanager
def no_grad():
    """Forwards inside the block save nothing for a backward (and so keep no arrays alive).

    For forwards that are never back-propagated: sampling, evaluation, the numerical side of a gradient
    check. A backward of such a forward raises RuntimeError. Nests; the previous setting comes back on
    exit, also after an exception.
    """
    global _recording
    previous, _recording = _recording, False
    try:
        yield
    finally:
        _recording = previous


@contextmanager
def eval_mode(*modules):
    """Put ``modules`` in evaluation mode for the block; on exit every module and sub-module gets back
    the ``training`` flag it had (mixed modes included), also after an exception."""
    previous = [(m, m.training) for module in modules for m in module.modules()]
    for module in modules:
        module.eval()
    try:
        yield
    finally:
        for m, training in previous:
            m.training = training


class Module:
    """Base class: subclasses implement ``forward(x)`` and
    ``backward(grad_out, input_grad=True, param_grads=True) -> grad_in`` (or None).

    Capabilities, as class attributes, so that code asks the layer instead of listing classes:
      has_weight_matrix  params["W"] is the weight of a linear map, its axis ``weight_out_axis`` indexing
                         the output features (Dense, Conv2d, ConvTranspose2d): SpectralNorm can wrap it
      batch_dependent    in training mode one sample's output depends on the rest of the batch
                         (BatchNorm): a per-sample penalty (R1) cannot use it, a batch of one cannot feed it
    """

    has_weight_matrix: bool = False
    batch_dependent: bool = False

    def __init__(self):
        self.params: dict = {}
        self.grads: dict = {}
        self.buffers: dict = {}
        self.training = True
        self._saved: list = []  # one tuple per recorded forward still waiting for its backward

    # -- the two passes ---------------------------------------------------
    def forward(self, x):
        raise NotImplementedError

    def backward(self, grad_out, input_grad: bool = True, param_grads: bool = True):
        """dL/dx from grad_out = dL/dy of the most recent forward not yet back-propagated (its save is
        popped); ADDS dL/dparam into ``grads``.

        input_grad: False when the caller does not read the result: return None, skip computing it.
        param_grads: False to accumulate no parameter gradient in this module or below it.
        Both False (grad_out may then be None): compute nothing, only pop the save, here and below.
        """
        raise NotImplementedError

    def __call__(self, x):
        return self.forward(x)

    # -- what the backward needs from its forward ------------------------------
    def save_for_backward(self, *values) -> None:
        """Push what this forward's backward will need (arrays or plain values); nothing under no_grad()."""
        if _recording:
            self._saved.append(values)

    def saved(self) -> tuple:
        """Pop the values the most recent recorded forward saved (the backwards come in reverse order)."""
        if not self._saved:
            raise RuntimeError(f"backward called without a forward to match: {self!r} has no saved forward "
                               "(one backward per forward; a forward under no_grad() saves nothing)")
        return self._saved.pop()

    def pending(self) -> int:
        """How many applications of this module and of the modules below it still wait for their backward."""
        return sum(len(m._saved) for m in self.modules())

    # -- parameters -------------------------------------------------------
    def add_param(self, name: str, value) -> None:
        """Register a parameter (an array of the active backend) and its zeroed gradient."""
        self.params[name] = value
        self.grads[name] = backend.xp.zeros_like(value)

    def children(self):
        """Yield ``(name, module)`` for each direct sub-module (none for a plain layer)."""
        return iter(())

    def set_child(self, name: str, module: "Module") -> None:
        """Put ``module`` in the place of the direct sub-module ``name`` (as ``children()`` names it).

        This default sets the attribute of that name (Residual's "block"); a container keeping its
        sub-modules in a list overrides it.
        """
        children = dict(self.children())
        if name not in children or getattr(self, name, None) is not children[name]:
            raise ValueError(f"{type(self).__name__} has no sub-module attribute {name!r} (a container that keeps "
                             "its sub-modules elsewhere overrides set_child)")
        setattr(self, name, module)

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

    def has_params(self) -> bool:
        """Whether this module or any module below it owns a parameter."""
        return any(m.params for m in self.modules())

    def num_parameters(self) -> int:
        return sum(int(p.size) for _, p, _ in self.parameters())

    def zero_grad(self) -> None:
        """Set every gradient to zero in place (optimisers keep references to them)."""
        for _, _, g in self.parameters():
            g.fill(0)

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


def grads_needed(chain, input_grad: bool, param_grads: bool) -> list:
    """The rule by which a container asks no sub-module for what nobody reads.

    chain: sub-modules in the order data flows through them (x -> chain[0] -> ... -> chain[-1]).
    Returns ``needed``, len(chain) + 1 booleans: needed[i] says whether anybody reads dL/d(input of
    chain[i]), so it is the ``input_grad`` to pass to ``chain[i].backward``:

        needed[i] = input_grad  or  (param_grads and some chain[j], j < i, has parameters)

    (the container's caller reads dL/dx, or a module upstream needs dL/d(its output) for its own
    parameter gradients). needed[len(chain)] answers the same for the chain's output, so
    ``not needed[i + 1]`` means chain[i] and everything before it have nothing to compute: a
    reverse loop stops there. Sequential applies it to its layers; a container with branches
    applies it to each path from its input (a residual block y = x + f(x): ``grads_needed([f],
    ...)``, f's input being the block's input; a concatenation: each branch on its own).
    """
    needed = [bool(input_grad)]
    for module in chain:
        needed.append(needed[-1] or (param_grads and module.has_params()))
    return needed


class Sequential(Module):
    """A chain of layers: ``forward`` runs them in order, ``backward`` in reverse.

    Shapes: whatever the first layer takes in, whatever the last gives out.
    Backward: the chain rule, dL/dx = J_1^T (J_2^T (... J_n^T dL/dy)), each layer asked only for
    what is read (``grads_needed``): a layer returns its input gradient iff the caller asked for
    dL/dx, or param_grads is on and a layer before it has parameters; below the first layer (from the
    end) under which nothing needs anything, each layer only pops its save (backward(None, False, False)).
    """

    def __init__(self, *layers: Module):
        super().__init__()
        self.layers = list(layers)

    def children(self):
        return ((str(i), layer) for i, layer in enumerate(self.layers))

    def set_child(self, name: str, module: Module) -> None:
        if name not in dict(self.children()):
            raise ValueError(f"Sequential has no sub-module {name!r}")
        self.layers[int(name)] = module

    def __getitem__(self, i):
        return self.layers[i]

    def __len__(self):
        return len(self.layers)

    def forward(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, grad_out, input_grad: bool = True, param_grads: bool = True):
        needed = grads_needed(self.layers, input_grad, param_grads)
        for i in reversed(range(len(self.layers))):
            # not needed[i + 1]: layers 0..i have no parameter gradient to add and nobody reads dL/dx;
            # grad_out is then None and each of them only pops its save
            grad_out = self.layers[i].backward(grad_out, input_grad=needed[i],
                                               param_grads=param_grads and needed[i + 1])
        return grad_out if input_grad else None

    def __repr__(self) -> str:
        inner = "\n".join(f"  ({i}): {layer!r}" for i, layer in enumerate(self.layers))
        return f"Sequential(\n{inner}\n)"
