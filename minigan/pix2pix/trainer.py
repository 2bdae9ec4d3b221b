"""The pix2pix trainer: a conditional G learns input -> output, D judges (input, output) pairs.

Notation: x the input (N, C_in, H, W) (a damaged or coarse image), t its target (N, C_out, H, W),
G(x) the restoration, [x, y] the channel-wise concatenation (N, C_in + C_out, H, W), D's logits
(N, 1, h, w): one per patch, P = N h w in all, d = sigmoid(logit).

    (1) Update D: real pairs [x, t], fake pairs [x, G(x)] (G(x) a constant here):
            L_D = mean_P softplus(-D([x, t])) + mean_P softplus(D([x, G(x)]))
        back-propagated into D only: D.backward(g, input_grad=False); Adam step on D.
    (2) Update G: the same fakes, judged by the updated D, non-saturating, plus lambda * L1:
            L_G = mean_P softplus(-D([x, G(x)])) + lambda mean |G(x) - t|
        dL_G/dG(x) = (the C_out output channels of D's input gradient) + lambda sign(G(x) - t) / M,
        M = N C_out H W the number of output pixels; D.backward(g, param_grads=False), then
        G.backward(dL_G/dG(x), input_grad=False) (x is data, not learned); Adam step on G.

Why both terms: L1 alone is minimised by the per-pixel MEDIAN of the plausible targets, which
for an uncertain pixel is a blur; the patch D penalises patches that no real pair contains, so
it pushes G off the blur towards one sharp answer; the L1 term keeps that answer near the
target (lambda = 100 in pix2pix). No noise goes in: G's output is a function of x.
"""
from __future__ import annotations

import math

from .. import backend, losses
from ..layers import eval_mode, no_grad, sigmoid
from ..optim import Adam
from ..updater import Updater


def l1_loss(output, target):
    """Mean absolute error and its gradient.    Shapes: output, target (N, ...) alike.

    L = (1/M) sum_i |o_i - t_i| over the M = output.size entries;  dL/do_i = sign(o_i - t_i) / M
    (the subgradient 0 where o_i = t_i). Returns (value as a float, gradient of output's shape).
    """
    if output.shape != target.shape:
        raise ValueError(f"l1_loss: output {tuple(output.shape)} and target {tuple(target.shape)} differ")
    xp = backend.get_array_module(output)
    diff = output - target
    return float(xp.abs(diff).mean()), xp.sign(diff) / diff.size


def generator_output_grad(grad_pair, fake, targets, l1_weight: float):
    """dL_G/dG(x), L_G = (adversarial loss of D([x, G(x)])) + l1_weight * mean |G(x) - t|.

    Shapes: grad_pair (N, C_in + C_out, H, W), D's input gradient of the adversarial term for the
    pair [x, G(x)]; fake = G(x) and targets (N, C_out, H, W). The pair's LAST C_out channels are
    G(x)'s (its first C_in are x's, data, dropped), and the L1 term adds l1_weight sign(G(x) - t) / M
    (``l1_loss``, M = fake.size):
        dL_G/dG(x) = grad_pair[:, C_in:] + l1_weight * sign(G(x) - t) / M
    """
    return grad_pair[:, grad_pair.shape[1] - fake.shape[1]:] + l1_weight * l1_loss(fake, targets)[1]


def _pair(inputs, outputs):
    """[x, y] on the channels: (N, C_in, H, W), (N, C_out, H, W) -> (N, C_in + C_out, H, W)."""
    return backend.get_array_module(inputs).concatenate([inputs, outputs], axis=1)


def _patch_loss(term, logits):
    """A loss term of ``minigan.losses`` over every patch logit: logits (N, 1, h, w) are read as
    N h w judgements (each loss is a mean, so the gradient carries 1 / (N h w)).
    Returns (value, dL/dlogits of the logits' shape)."""
    value, grad = term(logits.reshape(-1))
    return value, grad.reshape(logits.shape)


class Pix2Pix(Updater):
    """A conditional G, a patch D, their Adam optimisers and the weight of the L1 term.

    G: (N, C_in, H, W) -> (N, C_out, H, W);  D: (N, C_in + C_out, H, W) -> (N, 1, h, w) logits.
    l1_weight: lambda in L_G (100 as in pix2pix); lr_g, lr_d, betas: Adam's (pix2pix's 2e-4 and
    (0.5, 0.999)); seed: the generator the batches are drawn with (saved with the state);
    clip: the gradient-norm limit of both models (None: off). Initial weights come from the global
    host generator (``backend.seed``) when G and D are built: same seeds, same backend, same result.
    """

    def __init__(self, G, D, l1_weight: float = 100.0, lr_g: float = 2e-4, lr_d: float = 2e-4,
                 betas=(0.5, 0.999), seed: int = 0, clip: float | None = None):
        if not (math.isfinite(l1_weight) and l1_weight >= 0):
            raise ValueError(f"l1_weight must be a finite number >= 0, got {l1_weight}")
        self.G, self.D, self.l1_weight = G, D, float(l1_weight)
        self.g_opt = Adam(G, lr=lr_g, betas=betas)
        self.d_opt = Adam(D, lr=lr_d, betas=betas)
        super().__init__({"G": G, "D": D}, {"G": self.g_opt, "D": self.d_opt}, seed=seed, clip=clip)

    def generator_backward(self, inputs, fake, targets) -> dict:
        """Phase (2) without the update: ADDS dL_G/dtheta_G into G's grads, returns L_G's parts.

        inputs (N, C_in, H, W); fake = G(inputs) from G's last forward (whose saves its backward takes);
        targets of fake's shape. D's parameter gradients are not computed.
        Returns floats: loss_g = loss_adv + l1_weight * l1, loss_adv, l1, d_fake_after (mean d).
        """
        logits = self.D(_pair(inputs, fake))
        loss_adv, grad = _patch_loss(lambda x: losses.generator_loss(x, "nonsaturating"), logits)
        grad_pair = self.D.backward(grad, param_grads=False)
        self.G.backward(generator_output_grad(grad_pair, fake, targets, self.l1_weight), input_grad=False)
        l1 = l1_loss(fake, targets)[0]
        return {"loss_g": loss_adv + self.l1_weight * l1, "loss_adv": loss_adv, "l1": l1,
                "d_fake_after": float(sigmoid(logits).mean())}

    def train_step(self, inputs, targets) -> dict:
        """One D step, then one G step, on a batch of pairs.

        inputs (B, C_in, H, W), targets (B, C_out, H, W), on the active backend in the models' dtype.
        Returns the step's figures as floats: loss_d, loss_g (adversarial + l1_weight * l1),
        loss_adv, l1 (mean |G(x) - t| of this batch, before G's update), d_real = mean d on the real
        pairs, d_fake_before / d_fake_after = mean d on the fake pairs before / after the D step,
        grad_norm_d, grad_norm_g.
        """
        if inputs.shape[0] != targets.shape[0]:
            raise ValueError(f"train_step: {inputs.shape[0]} inputs but {targets.shape[0]} targets")
        G, D = self.G, self.D
        # (1) Update D: the real pair, then the fake pair; gradients accumulate.
        D.zero_grad()
        real_logits = D(_pair(inputs, targets))
        loss_real, grad = _patch_loss(losses.discriminator_loss_real, real_logits)
        D.backward(grad, input_grad=False)
        fake = G(inputs)
        fake_logits = D(_pair(inputs, fake))
        loss_fake, grad = _patch_loss(losses.discriminator_loss_fake, fake_logits)
        D.backward(grad, input_grad=False)
        loss_d = loss_real + loss_fake
        self.check_finite("the discriminator loss", loss_d)
        grad_norm_d = self.finish_gradients("D")
        self.d_opt.step()

        # (2) Update G: the same fakes (G's saves of that forward wait for this backward), judged by the updated D.
        G.zero_grad()
        figures = self.generator_backward(inputs, fake, targets)
        self.check_finite("the generator loss", figures["loss_g"])
        grad_norm_g = self.finish_gradients("G")
        self.g_opt.step()
        self.step += 1
        figures.update(loss_d=loss_d, d_real=float(sigmoid(real_logits).mean()),
                       d_fake_before=float(sigmoid(fake_logits).mean()),
                       grad_norm_d=grad_norm_d, grad_norm_g=grad_norm_g)
        return figures


def pair_sampler(inputs, targets):
    """sample_real(rng, n) for ``Pix2Pix.fit``: n distinct rows drawn by ``rng`` of the aligned pairs
    inputs (N, C_in, H, W), targets (N, C_out, H, W) on the active backend -> (inputs, targets)."""
    if inputs.shape[0] != targets.shape[0]:
        raise ValueError(f"pair_sampler: {inputs.shape[0]} inputs but {targets.shape[0]} targets")

    def sample(rng, n):
        if not 1 <= n <= inputs.shape[0]:
            raise ValueError(f"batch size {n}: expected 1 <= n <= {inputs.shape[0]} (the number of pairs)")
        idx = backend.asarray(rng.choice(inputs.shape[0], n, replace=False))
        return inputs[idx], targets[idx]
    return sample


def translate(G, inputs, batch_size: int = 500):
    """G applied to ``inputs`` (N, C_in, H, W) in evaluation mode, in batches:
    float32 NumPy (N, C_out, H, W)."""
    with eval_mode(G), no_grad():
        parts = [G(inputs[start:start + batch_size]) for start in range(0, inputs.shape[0], batch_size)]
    return backend.to_numpy(backend.get_array_module(parts[0]).concatenate(parts)).astype("float32")
