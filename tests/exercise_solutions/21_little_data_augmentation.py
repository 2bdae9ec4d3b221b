"""Lesson 21's exercise solved with minigan's augmentation; near misses that fail."""
import numpy as np

from minigan import augment


def translation_backward(grad, shifts):
    return augment.translation_backward(grad, shifts)


def near_miss__translation_backward__shifted_forward(grad, shifts):
    """Shifts the gradient the same way as the images instead of back."""
    return augment.translation(grad, shifts)


def near_miss__translation_backward__wraps_around(grad, shifts):
    """np.roll: the pixels shifted out get the gradient of the other side instead of 0."""
    return np.stack([np.roll(g, (-s, -t), axis=(1, 2)) for g, (s, t) in zip(grad, shifts)])
