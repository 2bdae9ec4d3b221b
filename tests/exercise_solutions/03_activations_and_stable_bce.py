"""Lesson 03's exercise solved with minigan.losses; near misses that fail."""
import numpy as np

from minigan import backend, losses


def bce_with_logits(logits, targets):
    t = targets if np.ndim(targets) == 0 else backend.asarray(targets)
    value, grad = losses.bce_with_logits(backend.asarray(logits), t)
    return value, backend.to_numpy(grad)


def _stable_sigmoid(x):
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def near_miss__bce_with_logits__naive_log_sigmoid(logits, targets):
    """s = 1/(1 + exp(-x)), then -t log s - (1 - t) log(1 - s): inf, nan for large x."""
    x = np.asarray(logits)
    t = np.asarray(targets, dtype=x.dtype)
    s = 1 / (1 + np.exp(-x))
    loss = -t * np.log(s) - (1 - t) * np.log(1 - s)
    return float(loss.mean()), (s - t) / len(x)


def near_miss__bce_with_logits__gradient_without_1_over_n(logits, targets):
    """The stable loss, but dl/dx = s(x) - t for the MEAN loss: the 1/N is missing."""
    x = np.asarray(logits)
    t = np.asarray(targets, dtype=x.dtype)
    loss = np.maximum(x, 0) - x * t + np.log1p(np.exp(-np.abs(x)))
    return float(loss.mean()), (_stable_sigmoid(x) - t).astype(x.dtype)


def near_miss__bce_with_logits__log_not_log1p(logits, targets):
    """log(1 + exp(-|x|)) instead of log1p: 1 + 4e-18 rounds to 1, so l(-40, 0) = 0."""
    x = np.asarray(logits)
    t = np.asarray(targets, dtype=x.dtype)
    loss = np.maximum(x, 0) - x * t + np.log(1 + np.exp(-np.abs(x)))
    return float(loss.mean()), ((_stable_sigmoid(x) - t) / len(x)).astype(x.dtype)
