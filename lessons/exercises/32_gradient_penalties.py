"""Exercise for lesson 32: the Hessian-vector product behind R1 and WGAN-GP.

Write the function below, then run
    python lessons/32_gradient_penalties.py --exercise
and every check of the lesson uses it: R1's parameter gradient against central
differences of the penalty and against minigan's r1_penalty, and WGAN-GP's gradient
against central differences.

D is a minigan Module: D(x) runs a forward pass (and saves what its backward needs);
D.backward(grad_out, input_grad=False) runs the backward and ADDS into D's
parameter gradients. Use the array module of x (backend.get_array_module(x)) so that
it runs on NumPy and CuPy alike.
"""


def hessian_vector_product(D, x, v, h):
    """Add d/dtheta of sum_i v_i . dD(x_i)/dx_i into D's parameter gradients.

    Shapes: x and v are (N, ...) arrays of the same shape and dtype (v is held
    fixed: the lesson passes phi'(g_i)); h is a float, the finite-difference step;
    D maps (N, ...) -> (N, 1). Return nothing: the result is what this adds into
    D's parameter gradients (the lesson zeroes them before and reads them after).
    Use two ordinary passes only: one forward, one backward.

    Hint: v_i . dD(x_i)/dx_i is a directional derivative of D at x_i. Write it as a
    central difference of D at two points, and ask which upstream gradient makes
    D.backward return the parameter gradient of that difference quotient. Both
    points fit in one batch of 2N rows.
    """
    raise NotImplementedError("TODO: the derivative in theta of a directional slope")
