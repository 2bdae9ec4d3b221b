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

from . import backend
from .layers import sigmoid

GENERATOR_KINDS = ("minimax", "nonsaturating", "lsgan", "hinge", "wasserstein")
# The discriminator's loss is the same BCE whichever of the two original generator
# losses is used, so those names are accepted too: a trainer can pass one kind to both.
DISCRIMINATOR_KINDS = ("bce", "minimax", "nonsaturating", "lsgan", "hinge", "wasserstein")


def _check_logits(x, where: str, name: str = "logits") -> None:
    """Raise ValueError unless x is a floating-point array of shape (N,) or (N, 1) with N >= 1."""
    shape = tuple(getattr(x, "shape", ()))
    if not (len(shape) in (1, 2) and shape[0] >= 1 and shape[1:] in ((), (1,))):
        raise ValueError(f"{where}: expected {name} of shape (N,) or (N, 1) with N >= 1, got {shape}")
    if x.dtype.kind != "f":
        raise ValueError(f"{where}: expected floating-point {name}, got {x.dtype}")


def _check_kind(kind: str, allowed: tuple, where: str) -> None:
    if kind not in allowed:
        raise ValueError(f"{where}: unknown loss kind {kind!r}; expected one of {allowed}")


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
    return _discriminator_term(real_logits, kind, real=True)


def discriminator_loss_fake(fake_logits, kind: str = "bce"):
    """The fake-batch term of ``discriminator_loss``: (value, dL/dfake_logits). See its table."""
    return _discriminator_term(fake_logits, kind, real=False)


def _discriminator_term(logits, kind: str, real: bool):
    """One batch's term: D pushes real logits up (target 1, sign -1) and fake ones down (target 0, sign +1)."""
    _check_kind(kind, DISCRIMINATOR_KINDS, "discriminator_loss")
    _check_logits(logits, "discriminator_loss", "real_logits" if real else "fake_logits")
    target, sign = (1.0, -1) if real else (0.0, +1)
    if kind == "lsgan":
        return _squared_error(logits, target)
    if kind == "hinge":
        return _hinge(logits, sign)
    if kind == "wasserstein":
        return _mean(logits, sign)
    return bce_with_logits(logits, target)


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
    (sigmoid(x) - 1)/N is near -1/N there. Both losses push D(G(z)) the same way and share
    their fixed points; only the gradient's size differs.
    """
    where = "generator_loss"
    _check_kind(kind, GENERATOR_KINDS, where)
    _check_logits(fake_logits, where, "fake_logits")
    if kind == "minimax":
        value, grad = bce_with_logits(fake_logits, 0.0)  # bce(x, 0) = softplus(x) = -log(1 - D(x))
        return -value, -grad
    if kind == "nonsaturating":
        return bce_with_logits(fake_logits, 1.0)  # bce(x, 1) = softplus(-x) = -log D(x)
    if kind == "lsgan":
        return _squared_error(fake_logits, 1.0)
    return _mean(fake_logits, -1)  # hinge and wasserstein
