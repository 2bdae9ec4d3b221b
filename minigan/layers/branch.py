"""Identity, Residual and Concat: layers whose input takes more than one path.

A fork sends one x down several paths; in the backward each path hands back its own dL/dx and
the fork ADDS them (the multivariate chain rule: x influences L through every path). That one
rule gives both containers their backward:

    Residual(f):      y = x + f(x)                 dL/dx = dL/dy + J_f^T dL/dy
    Concat(f, g):     y = [f(x), g(x)] on axis     dL/dx = J_f^T dL/dy_f + J_g^T dL/dy_g,
                                                   dL/dy_f, dL/dy_g the two slices of dL/dy

``Concat(Identity(), inner)`` is a U-Net skip connection: the block's output carries its input
beside what ``inner`` made of it, so a decoder sees the encoder's fine detail directly.
"""
from __future__ import annotations

from .. import backend
from .base import Module


class Identity(Module):
    """y = x, any shape.    Backward: dL/dx = dL/dy."""

    def forward(self, x):
        self.save_for_backward()  # nothing to keep, but a backward must still match a forward
        return x

    def backward(self, grad_out, input_grad=True, param_grads=True):
        self.saved()
        return grad_out if input_grad else None


class Residual(Module):
    """y = x + block(x); block must keep the shape (N, ...) -> (N, ...).

    Backward: dL/dx = dL/dy + block.backward(dL/dy) (the skip path's Jacobian is I).
    Parameters are the block's, named "block.<name>".
    """

    def __init__(self, block: Module):
        super().__init__()
        self.block = block

    def children(self):
        return iter((("block", self.block),))

    def forward(self, x):
        y = self.block.forward(x)
        if y.shape != x.shape:
            raise ValueError(f"{self!r}: the block must keep its input's shape {tuple(x.shape)}, "
                             f"it gave {tuple(y.shape)}")
        return x + y

    def backward(self, grad_out, input_grad=True, param_grads=True):
        if not (input_grad or (param_grads and self.block.has_params())):
            # nobody reads dL/dx and the block has no parameter gradient to add: it only pops its saves
            self.block.backward(None, input_grad=False, param_grads=False)
            return None
        grad_block = self.block.backward(grad_out, input_grad=input_grad, param_grads=param_grads)
        return grad_out + grad_block if input_grad else None

    def __repr__(self) -> str:
        return f"Residual({self.block!r})"


class Concat(Module):
    """y = concatenate([b(x) for b in branches], axis); every branch sees the same x.

    Shapes: the branches' outputs must agree on every axis but ``axis`` (default 1, the channels
    of (N, C, H, W) or the features of (N, F)); y's size there is the sum of theirs.
    Backward: split dL/dy along ``axis`` into the branches' slices, send each slice back through
    its branch (the last branch first), and add the input gradients they return.
    Parameters are the branches', named "<index>.<name>" as in Sequential.
    """

    def __init__(self, *branches: Module, axis: int = 1):
        super().__init__()
        if not branches:
            raise ValueError("Concat(): expected at least one branch, got none")
        if axis == 0:
            raise ValueError("Concat(): axis 0 is the batch; expected axis >= 1")
        self.branches = list(branches)
        self.axis = axis

    def children(self):
        return ((str(i), b) for i, b in enumerate(self.branches))

    def set_child(self, name: str, module: Module) -> None:
        if name not in dict(self.children()):
            raise ValueError(f"Concat has no sub-module {name!r}")
        self.branches[int(name)] = module

    def __getitem__(self, i):
        return self.branches[i]

    def forward(self, x):
        outs = [b.forward(x) for b in self.branches]
        first = outs[0]
        axis = self.axis % first.ndim
        for i, out in enumerate(outs[1:], start=1):
            if out.ndim != first.ndim or any(out.shape[a] != first.shape[a]
                                              for a in range(first.ndim) if a != axis):
                raise ValueError(f"{self!r}: branch {i} gave {tuple(out.shape)}, expected "
                                 f"{tuple(first.shape)} on every axis but {self.axis}")
        self.save_for_backward([out.shape[axis] for out in outs])  # where dL/dy splits
        return backend.get_array_module(first).concatenate(outs, axis=axis)

    def backward(self, grad_out, input_grad=True, param_grads=True):
        sizes, = self.saved()
        grads = [None] * len(self.branches)
        # Last branch first: a module sitting in two branches then pops its saves in reverse order.
        for i in reversed(range(len(self.branches))):
            branch = self.branches[i]
            if not (input_grad or (param_grads and branch.has_params())):
                branch.backward(None, input_grad=False, param_grads=False)  # nobody reads its gradients
                continue
            index = [slice(None)] * grad_out.ndim
            index[self.axis % grad_out.ndim] = slice(sum(sizes[:i]), sum(sizes[:i + 1]))
            part = backend.get_array_module(grad_out).ascontiguousarray(grad_out[tuple(index)])
            grads[i] = branch.backward(part, input_grad=input_grad, param_grads=param_grads)
        if not input_grad:
            return None
        grad_in = grads[0]
        for g in grads[1:]:  # added in branch order
            grad_in = grad_in + g
        return grad_in

    def __repr__(self) -> str:
        inner = ", ".join(repr(b) for b in self.branches)
        return f"Concat({inner}, axis={self.axis})"
