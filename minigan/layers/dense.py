"""Dense (fully connected) layer: y = x @ W + b."""
from __future__ import annotations

from .base import Module
from .init import fan_in_uniform


class Dense(Module):
    """y = x @ W + b.

    Shapes: x (N, in_features) -> y (N, out_features); W (in_features, out_features), b (out_features,).

    Backward, with G = dL/dy of shape (N, out):
      dL/dx = G @ W^T          (N, in)     since y_nj = sum_i x_ni W_ij + b_j
      dL/dW = x^T @ G          (in, out)   summed over the batch
      dL/db = sum_n G_n        (out,)
    backward(G, input_grad=False) skips dL/dx and returns None; param_grads=False skips dL/dW, dL/db.
    """

    has_weight_matrix = True
    weight_out_axis = 1  # W (in, out)

    def __init__(self, in_features: int, out_features: int, bias: bool = True):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.add_param("W", fan_in_uniform((in_features, out_features), in_features))
        if bias:
            self.add_param("b", fan_in_uniform((out_features,), in_features))

    def forward(self, x):
        self.check_input(x, 2, {1: self.in_features})
        self.save_for_backward(x)  # dL/dW needs x
        y = x @ self.params["W"]
        if "b" in self.params:
            y += self.params["b"]
        return y

    def backward(self, grad_out, input_grad=True, param_grads=True):
        x, = self.saved()
        W = self.params["W"]
        if param_grads:
            self.grads["W"] += x.T @ grad_out
            if "b" in self.params:
                self.grads["b"] += grad_out.sum(axis=0)
        if not input_grad:
            return None
        if self.out_features == 1:  # (N, 1) x (1, in): an outer product, by broadcasting
            return grad_out * W.reshape(1, -1)
        return grad_out @ W.T

    def __repr__(self) -> str:
        return f"Dense({self.in_features}, {self.out_features}, bias={'b' in self.params})"
