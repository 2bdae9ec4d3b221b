"""Conv2d and ConvTranspose2d, both on the im2col + GEMM operations of conv_ops."""
from __future__ import annotations

from .base import Module
from .conv_ops import conv2d_backward_input, conv2d_backward_weight, conv2d_forward, conv2d_from_cols, im2col
from .init import fan_in_uniform


def _pair_check(name, kernel_size, stride, padding):
    if kernel_size < 1 or stride < 1 or padding < 0:
        raise ValueError(f"{name}: need kernel_size >= 1, stride >= 1, padding >= 0; "
                         f"got kernel_size={kernel_size}, stride={stride}, padding={padding}")


class Conv2d(Module):
    """2-D convolution (cross-correlation, as PyTorch), square kernel.

    Shapes: x (N, in_ch, H, W) -> y (N, out_ch, Ho, Wo), Ho = (H + 2p - k) // s + 1;
    W (out_ch, in_ch, k, k), b (out_ch,).
    Forward: y[n,o] = b[o] + sum_c W[o,c] (*) x_pad[n,c], sampled every s pixels.
    Backward, with G = dL/dy:
      dL/dx = ConvTranspose(G) with the same W   (conv_ops.conv2d_backward_input)
      dL/dW = G @ im2col(x)^T                    (conv_ops.conv2d_backward_weight)
      dL/db = sum of G over n, y, x
    """

    has_weight_matrix = True
    weight_out_axis = 0  # W (out, in, k, k)

    def __init__(self, in_ch: int, out_ch: int, kernel_size: int, stride: int = 1, padding: int = 0,
                 bias: bool = True):
        super().__init__()
        _pair_check("Conv2d", kernel_size, stride, padding)
        self.in_ch, self.out_ch, self.k, self.stride, self.padding = in_ch, out_ch, kernel_size, stride, padding
        fan_in = in_ch * kernel_size * kernel_size
        self.add_param("W", fan_in_uniform((out_ch, in_ch, kernel_size, kernel_size), fan_in))
        if bias:
            self.add_param("b", fan_in_uniform((out_ch,), fan_in))

    def forward(self, x):
        self.check_input(x, 4, {1: self.in_ch})
        if min(x.shape[2:]) + 2 * self.padding < self.k:
            raise ValueError(f"{self!r}: input {tuple(x.shape)} is smaller than the kernel "
                             f"({self.k}) even with padding {self.padding}")
        y, cols = conv2d_forward(x, self.params["W"], self.stride, self.padding)
        self.save_for_backward(cols, x.shape)  # im2col(x) for dL/dW, the shape for dL/dx
        if "b" in self.params:
            y += self.params["b"].reshape(1, -1, 1, 1)
        return y

    def backward(self, grad_out, input_grad=True, param_grads=True):
        cols, x_shape = self.saved()
        if param_grads:
            self.grads["W"] += conv2d_backward_weight(grad_out, cols)
            if "b" in self.params:
                self.grads["b"] += grad_out.sum(axis=(0, 2, 3))
        if not input_grad:
            return None
        return conv2d_backward_input(grad_out, self.params["W"], x_shape, self.stride, self.padding)

    def __repr__(self) -> str:
        return (f"Conv2d({self.in_ch}, {self.out_ch}, kernel_size={self.k}, stride={self.stride}, "
                f"padding={self.padding}, bias={'b' in self.params})")


class ConvTranspose2d(Module):
    """Transposed convolution: the adjoint (and so the input gradient) of Conv2d with the same W.

    Shapes: x (N, in_ch, H, W) -> y (N, out_ch, Ho, Wo), Ho = (H - 1) * s - 2p + k + output_padding;
    W (in_ch, out_ch, k, k) as in PyTorch, b (out_ch,).
    output_padding (< s, as in PyTorch) adds rows/columns at the bottom/right: a Conv2d
    whose (H + 2p - k) is not a multiple of s maps several sizes H to one Ho, and
    output_padding = (H + 2p - k) % s picks H back.
    Forward:  y = C_W^T(x) + b, where C_W is the Conv2d from out_ch to in_ch channels
              with kernel W; each input pixel paints a k x k patch of W, scaled by
              its value, at stride s (overlaps add up).
    Backward, with G = dL/dy:
      dL/dx = C_W(G), an ordinary convolution       (conv_ops.conv2d_forward)
      dL/dW = x @ im2col(G)^T, since <G, C_W^T x> = <C_W G, x>
      dL/db = sum of G over n, y, x
    """

    has_weight_matrix = True
    weight_out_axis = 1  # W (in, out, k, k)

    def __init__(self, in_ch: int, out_ch: int, kernel_size: int, stride: int = 1, padding: int = 0,
                 output_padding: int = 0, bias: bool = True):
        super().__init__()
        _pair_check("ConvTranspose2d", kernel_size, stride, padding)
        if not 0 <= output_padding < stride:
            raise ValueError(f"ConvTranspose2d: output_padding must be in [0, stride), got {output_padding} "
                             f"with stride {stride}")
        self.in_ch, self.out_ch, self.k, self.stride, self.padding = in_ch, out_ch, kernel_size, stride, padding
        self.output_padding = output_padding
        fan_in = out_ch * kernel_size * kernel_size  # PyTorch's choice for ConvTranspose
        self.add_param("W", fan_in_uniform((in_ch, out_ch, kernel_size, kernel_size), fan_in))
        if bias:
            self.add_param("b", fan_in_uniform((out_ch,), fan_in))

    def output_size(self, size: int) -> int:
        return (size - 1) * self.stride - 2 * self.padding + self.k + self.output_padding

    def forward(self, x):
        self.check_input(x, 4, {1: self.in_ch})
        N, _, H, W = x.shape
        Ho, Wo = self.output_size(H), self.output_size(W)
        if Ho < 1 or Wo < 1:
            raise ValueError(f"{self!r}: input {tuple(x.shape)} gives an empty output ({Ho} x {Wo})")
        self.save_for_backward(x)  # dL/dW needs x
        y = conv2d_backward_input(x, self.params["W"], (N, self.out_ch, Ho, Wo), self.stride, self.padding)
        if "b" in self.params:
            y += self.params["b"].reshape(1, -1, 1, 1)
        return y

    def backward(self, grad_out, input_grad=True, param_grads=True):
        x, = self.saved()
        if not (input_grad or param_grads):
            return None
        cols = im2col(grad_out, self.k, self.k, self.stride, self.padding)  # read by both products
        if param_grads:
            self.grads["W"] += conv2d_backward_weight(x, cols)
            if "b" in self.params:
                self.grads["b"] += grad_out.sum(axis=(0, 2, 3))
        if not input_grad:
            return None
        return conv2d_from_cols(cols, self.params["W"])

    def __repr__(self) -> str:
        return (f"ConvTranspose2d({self.in_ch}, {self.out_ch}, kernel_size={self.k}, stride={self.stride}, "
                f"padding={self.padding}, output_padding={self.output_padding}, bias={'b' in self.params})")
