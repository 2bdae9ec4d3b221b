"""GAN losses on the discriminator's logits, each returning its value and its gradient.

Conventions, for every function here:
  logits   shape (N,) or (N, 1); x denotes one logit, D(x) = sigmoid(x)
  value    a Python float, the loss averaged over the batch (N samples)
  gradient dL/dlogits, same shape and dtype as the logits (float32 stays float32)
Because each loss is a mean over the batch, every gradient carries a factor 1/N.

Stability: log D(x) = -softplus(-x) and log(1 - D(x)) = -softplus(x), with
    softplus(x) = log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|))
so exp only ever sees values <= 0: nothing overflows, even for |x| = 1e4.
(exp(-1e4) underflows to 0, which is its correctly rounded value.)
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from . import backend
from .layers import sigmoid
from .registry import Registry

def _check_logits(x, where: str, name: str = "logits") -> None:
    """Raise ValueError unless x is a floating-point array of shape (N,) or (N, 1) with N >= 1."""
    shape = tuple(getattr(x, "shape", ()))
    if not (len(shape) in (1, 2) and shape[0] >= 1 and shape[1:] in ((), (1,))):
        raise ValueError(f"{where}: expected {name} of shape (N,) or (N, 1) with N >= 1, got {shape}")
    if x.dtype.kind != "f":
        raise ValueError(f"{where}: expected floating-point {name}, got {x.dtype}")


def bce_with_logits(logits, targets):
    """Binary cross-entropy of sigmoid(logits) against targets, averaged over the batch.

    Shapes: logits (N,) or (N, 1); targets a scalar or an array of the logits' shape.
    Returns (value, grad): value a float, grad of the logits' shape and dtype.

    Per sample, with t the target:
        l(x) = -t log sigmoid(x) - (1 - t) log(1 - sigmoid(x))
             = max(x, 0) - x t + log1p(exp(-|x|))         (the stable form used)
    Derivative: dl/dx = sigmoid(x) - t, so dL/dx_n = (sigmoid(x_n) - t_n) / N.
    """
    _check_logits(logits, "bce_with_logits")
    xp = backend.get_array_module(logits)
    t = xp.asarray(targets, dtype=logits.dtype)
    if t.ndim and t.shape != logits.shape:
        raise ValueError(f"bce_with_logits: expected targets as a scalar or of shape {tuple(logits.shape)} "
                         f"(the logits' shape), got {tuple(t.shape)}")
    n = logits.shape[0]
    # (max(x, 0) - x t) is exact for t in {0, 1}, so the small log1p term is added without cancellation.
    value = xp.maximum(logits, 0) - logits * t + xp.log1p(xp.exp(-xp.abs(logits)))
    return float(value.mean()), (sigmoid(logits) - t) / n


def _squared_error(x, target: float):
    """0.5 mean (x - target)^2 and its gradient (x - target) / N."""
    d = x - target
    return float(0.5 * (d * d).mean()), d / x.shape[0]


def _hinge(x, sign: int):
    """mean relu(1 + sign*x) and its gradient sign * [1 + sign*x > 0] / N (0 at the kink, as relu')."""
    margin = 1 + sign * x
    active = margin > 0
    return float((margin * active).mean()), active.astype(x.dtype) * (sign / x.shape[0])


def _mean(x, sign: int):
    """mean(sign*x) and its gradient sign / N for every sample."""
    xp = backend.get_array_module(x)
    return float(sign * x.mean()), xp.full_like(x, sign / x.shape[0])


def discriminator_loss(real_logits, fake_logits, kind: str = "bce"):
    """The discriminator's loss on a real and a fake batch; D minimises it.

    Shapes: real_logits (N_r,) or (N_r, 1), fake_logits (N_f,) or (N_f, 1), both with the same
    number of dims. Returns (loss, grad_real, grad_fake); each gradient has its input's shape and dtype.
    With r a real logit and f a fake one:
      "bce" (alias "minimax", "nonsaturating"):
          L = mean softplus(-r) + mean softplus(f)      = bce(r, 1) + bce(f, 0), the SUM of two means
          dL/dr = (sigmoid(r) - 1) / N_r                dL/df = sigmoid(f) / N_f
      "lsgan" (Mao et al., on the raw outputs):
          L = 0.5 mean (r - 1)^2 + 0.5 mean f^2
          dL/dr = (r - 1) / N_r                         dL/df = f / N_f
      "hinge":
          L = mean relu(1 - r) + mean relu(1 + f)
          dL/dr = -[r < 1] / N_r                        dL/df = [f > -1] / N_f
      "wasserstein" (the critic's loss):
          L = mean f - mean r
          dL/dr = -1 / N_r                              dL/df = 1 / N_f
    """
    where = "discriminator_loss"
    _check_logits(real_logits, where, "real_logits")
    _check_logits(fake_logits, where, "fake_logits")
    if real_logits.ndim != fake_logits.ndim:
        raise ValueError(f"{where}: real_logits has shape {tuple(real_logits.shape)} but fake_logits has shape "
                         f"{tuple(fake_logits.shape)}; expected both (N,) or both (N, 1)")
    real_value, grad_real = discriminator_loss_real(real_logits, kind)
    fake_value, grad_fake = discriminator_loss_fake(fake_logits, kind)
    return real_value + fake_value, grad_real, grad_fake


# Every discriminator loss is a real-batch term plus a fake-batch term. A trainer that runs D on
# the real batch, back-propagates, then runs D on the fake batch (as PyTorch's DCGAN example does,
# so BatchNorm sees each batch alone) uses the two halves below.
def discriminator_loss_real(real_logits, kind: str = "bce"):
    """The real-batch term of ``discriminator_loss``: (value, dL/dreal_logits). See its table."""
    term = _kind(kind, "discriminator_loss", DISCRIMINATOR_ALIASES).real
    _check_logits(real_logits, "discriminator_loss", "real_logits")
    return term(real_logits)


def discriminator_loss_fake(fake_logits, kind: str = "bce"):
    """The fake-batch term of ``discriminator_loss``: (value, dL/dfake_logits). See its table."""
    term = _kind(kind, "discriminator_loss", DISCRIMINATOR_ALIASES).fake
    _check_logits(fake_logits, "discriminator_loss", "fake_logits")
    return term(fake_logits)


def generator_loss(fake_logits, kind: str = "nonsaturating"):
    """The generator's loss on D's logits for a fake batch; G minimises it.

    Shapes: fake_logits (N,) or (N, 1). Returns (loss, grad_fake), the gradient with the input's
    shape and dtype (G's backward starts from it, through D). With x a fake logit, D = sigmoid(x):
      "minimax" (the original paper's saturating loss):
          L = mean log(1 - D(x)) = -mean softplus(x)    dL/dx = -sigmoid(x) / N
      "nonsaturating" (the paper's practical alternative):
          L = -mean log D(x) = mean softplus(-x)        dL/dx = (sigmoid(x) - 1) / N
      "lsgan":        L = 0.5 mean (x - 1)^2           dL/dx = (x - 1) / N
      "hinge", "wasserstein":  L = -mean x             dL/dx = -1 / N

    Why minimax saturates: early in training D confidently rejects fakes, x << 0, so
    sigmoid(x) ~ exp(x) and the minimax gradient -sigmoid(x)/N vanishes (at x = -10 it is
    -4.5e-5/N): G gets almost no signal exactly when it is worst. The non-saturating gradient
    (sigmoid(x) - 1)/N is near -1/N there. Both losses push each D(G(z)) the same way and share
    their fixed points; per sample only the gradient's size differs (by the factor (1 - D)/D), so
    over a batch of different D(G(z_i)) the two gradients weigh the samples differently and point
    in different directions (lesson 08 measures it).
    """
    _check_logits(fake_logits, "generator_loss", "fake_logits")
    return _kind(kind, "generator_loss").generator(fake_logits)


# -- the table of loss kinds ---------------------------------------------------------------------
@dataclass(frozen=True)
class LossKind:
    """One loss kind: D's real-batch term, D's fake-batch term and G's loss, each a function
    logits -> (value, dL/dlogits) with the conventions of this module."""
    real: Callable
    fake: Callable
    generator: Callable
    description: str = ""


def _bce_real(x):
    return bce_with_logits(x, 1.0)  # softplus(-r) = -log D(r)


def _bce_fake(x):
    return bce_with_logits(x, 0.0)  # softplus(f) = -log(1 - D(f))


def _minimax_generator(x):
    value, grad = bce_with_logits(x, 0.0)  # bce(x, 0) = softplus(x) = -log(1 - D(x))
    return -value, -grad


LOSSES = Registry("loss kind")
LOSSES.update({
    "nonsaturating": LossKind(_bce_real, _bce_fake, _bce_real, "G minimises -log D(G(z))"),
    "minimax": LossKind(_bce_real, _bce_fake, _minimax_generator, "G minimises log(1 - D(G(z)))"),
    "lsgan": LossKind(lambda x: _squared_error(x, 1.0), lambda x: _squared_error(x, 0.0),
                      lambda x: _squared_error(x, 1.0), "least squares on D's raw output (Mao et al.)"),
    "hinge": LossKind(lambda x: _hinge(x, -1), lambda x: _hinge(x, +1), lambda x: _mean(x, -1),
                      "D: hinge margins of 1; G: -mean D(G(z))"),
    "wasserstein": LossKind(lambda x: _mean(x, -1), lambda x: _mean(x, +1), lambda x: _mean(x, -1),
                            "critic: mean f - mean r; G: -mean f"),
})
# The discriminator's loss is the same BCE for both original generator losses, so D also accepts "bce".
DISCRIMINATOR_ALIASES = {"bce": "nonsaturating"}
GENERATOR_KINDS = tuple(LOSSES)  # the kinds defined here (``register_loss`` adds more)
DISCRIMINATOR_KINDS = tuple(DISCRIMINATOR_ALIASES) + GENERATOR_KINDS


def register_loss(name: str, kind: LossKind, replace: bool = False) -> LossKind:
    """Add a loss kind to the table; ``minigan train --loss NAME`` then offers it."""
    return LOSSES.add(name, kind, replace)


def unregister_loss(name: str) -> None:
    LOSSES.remove(name)


def _kind(kind: str, where: str, aliases: dict | None = None) -> LossKind:
    name = (aliases or {}).get(kind, kind)
    if name not in LOSSES:
        raise ValueError(f"{where}: unknown loss kind {kind!r}; expected one of "
                         f"{tuple(aliases or ()) + tuple(LOSSES)}")
    return LOSSES[name]
