"""Exercises for lesson 34: fix a planted backward bug; write SiLU's two passes.

Write the functions below, then run
    python lessons/34_debugging_a_layer.py --exercise
and every check of the lesson uses them: check_layer (float64, rel err <= 1e-7) on the
layers built on your functions, and SiLU's forward against extended precision and at
x = +-1000 with NumPy's overflow warnings turned into errors.

Use the array module of x (backend.get_array_module(x)) so that they run on NumPy and
CuPy alike. minigan.layers.activations.sigmoid is a sigmoid that never overflows.
"""


def fixed_backward(x, W, b, grad_out):
    """The corrected backward of y = tanh(x W + b): return (dx, dW, db).

    The layer shipped with this backward, and check_layer fails on it:

        def buggy_backward(x, W, b, grad_out):
            y = xp.tanh(x @ W + b)
            dz = grad_out * (1 - y * y)
            return dz @ W.T, x.T @ grad_out, dz.sum(axis=0)

    Shapes: x (N, n_in), W (n_in, n_out), b (n_out,), grad_out = dL/dy (N, n_out);
    return dx (N, n_in), dW (n_in, n_out), db (n_out,). Return the gradients (do not
    add them anywhere: the layer does).

    Hint: run the lesson (without --exercise) and read which array check_layer says
    fails: the bug is in the one line that computes that array. Compare what that
    line multiplies with what the two correct lines multiply.
    """
    raise NotImplementedError("TODO: fix the one wrong line of the backward")


def silu_forward(x):
    """SiLU (Swish): y = x * sigmoid(x), with sigmoid(x) = 1 / (1 + exp(-x)).

    Shapes: x any shape (float64 in the checks) -> y of the same shape and dtype.
    Must not overflow anywhere, x = +-1000 included.

    Hint: the textbook formula takes exp of -x, which is huge for very negative x.
    Only ever exponentiate a number that is <= 0.
    """
    raise NotImplementedError("TODO: x sigmoid(x) without overflow")


def silu_backward(x, grad_out):
    """dL/dx of y = x * sigmoid(x), given x and grad_out = dL/dy.

    Shapes: x and grad_out of the same shape -> dL/dx of that shape.

    Hint: y is a product of two functions of x; differentiate both factors. The
    sigmoid's own derivative is easiest written in terms of the sigmoid itself.
    """
    raise NotImplementedError("TODO: the product rule, times grad_out")
