"""Exercise for lesson 18: the context loss of restoration by optimising z, and its
gradient.

Write the function below, then run
    python lessons/18_restoration_by_optimising_z.py --exercise
and the gradient checks of section 1 run on your function instead of the lesson's.
"""


def context_loss_and_grad(fake, images, mask):
    """Each image's context loss and its gradient with respect to G's output.

    Shapes: fake = G(z), images and mask are arrays (N, C, H, W) of one backend (NumPy
    or CuPy: get the module with minigan.backend.get_array_module(fake)); mask is 1 on
    a visible pixel and 0 on a hidden one. Returns (loss, grad): loss (N,), one number
    per image, and grad (N, C, H, W), the gradient of loss[i] w.r.t. fake[i].

    loss[i] = (1 / n_i) * sum over the pixels j of mask_ij * (fake_ij - images_ij)^2,
    where n_i is the number of visible pixels of image i (at least 1, so that an image
    with nothing visible does not divide by 0).

    Hint: differentiate loss[i] with respect to one pixel fake_ij: which terms of the
    sum contain it, what does the mask do to a hidden pixel, and what divides? Keep n_i
    of shape (N, 1, 1, 1) where it divides a (N, C, H, W) array.
    """
    raise NotImplementedError("TODO: each image's context loss (N,) and its gradient "
                              "(N, C, H, W)")
