"""Lesson 18's exercise solved with minigan.inpaint (G = the identity: the loss of G's output
is the loss of z); near misses that fail."""
from minigan import backend
from minigan.inpaint import restoration_loss
from minigan.layers import Identity


def context_loss_and_grad(fake, images, mask):
    return restoration_loss(Identity(), None, fake, images, mask, 0.0)


def _parts(fake, images, mask):
    xp = backend.get_array_module(fake)
    visible = xp.maximum(mask.sum(axis=(1, 2, 3)), 1)[:, None, None, None]
    diff = mask * (fake - images)
    return diff, visible, (diff * diff / visible).sum(axis=(1, 2, 3))


def near_miss__context_loss_and_grad__no_factor_two(fake, images, mask):
    """The derivative of the square without its 2."""
    diff, visible, loss = _parts(fake, images, mask)
    return loss, diff / visible


def near_miss__context_loss_and_grad__hidden_pixels_pull(fake, images, mask):
    """The gradient forgets the mask: hidden pixels are pulled to the input's values."""
    diff, visible, loss = _parts(fake, images, mask)
    return loss, 2 * (fake - images) / visible


def near_miss__context_loss_and_grad__mean_over_all_pixels(fake, images, mask):
    """Divides by every pixel of the image instead of the visible ones."""
    diff, _, _ = _parts(fake, images, mask)
    n = fake[0].size
    return (diff * diff).sum(axis=(1, 2, 3)) / n, 2 * diff / n
