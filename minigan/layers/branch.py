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
        return x

    def backward(self, grad_out, input_grad=True, param_grads=True):
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
            return None  # nobody reads dL/dx and the block has no parameter gradient to add
        grad_block = self.block.backward(grad_out, input_grad=input_grad, param_grads=param_grads)
        return grad_out + grad_block if input_grad else None

    def __repr__(self) -> str:
        return f"Residual({self.block!r})"


class Concat(Module):
    """y = concatenate([b(x) for b in branches], axis); every branch sees the same x.

    Shapes: the branches' outputs must agree on every axis but ``axis`` (default 1, the channels
    of (N, C, H, W) or the features of (N, F)); y's size there is the sum of theirs.
    Backward: split dL/dy along ``axis`` into the branches' slices, send each slice back through
    its branch, and add the input gradients they return.
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
        self._sizes = None

    def children(self):
        return ((str(i), b) for i, b in enumerate(self.branches))

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
        self._sizes = [out.shape[axis] for out in outs]
        return backend.get_array_module(first).concatenate(outs, axis=axis)

    def backward(self, grad_out, input_grad=True, param_grads=True):
        xp = backend.get_array_module(grad_out)
        axis = self.axis % grad_out.ndim
        grad_in = None
        start = 0
        for branch, size in zip(self.branches, self._sizes):
            index = [slice(None)] * grad_out.ndim
            index[axis] = slice(start, start + size)
            start += size
            if not (input_grad or (param_grads and branch.has_params())):
                continue  # nobody reads this branch's gradients
            g = branch.backward(xp.ascontiguousarray(grad_out[tuple(index)]), input_grad=input_grad, param_grads=param_grads)
            if input_grad:
                grad_in = g if grad_in is None else grad_in + g
        return grad_in

    def __repr__(self) -> str:
        inner = ", ".join(repr(b) for b in self.branches)
        return f"Concat({inner}, axis={self.axis})"
