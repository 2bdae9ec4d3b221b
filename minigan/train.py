"""The GAN trainer: one step reads like PyTorch's DCGAN example.

    (1) Update D: maximise log D(x) + log(1 - D(G(z)))
        on a real batch, then on a fake batch; gradients accumulate; Adam step.
    (2) Update G: minimise the generator loss of D(G(z)) for the same fakes,
        back-propagated THROUGH D (D's input gradient) INTO G; Adam step.

No work whose result is thrown away: each backward call says what it needs.
(1) asks D for no input gradient (the fakes are constants there): D.backward(g, input_grad=False);
(2) asks D for no parameter gradients (G's step needs dL/dx from D, not dL/dW):
D.backward(g, param_grads=False); and G never returns one (z is not learned):
G.backward(g, input_grad=False). Sequential passes that on, layer by layer, so no layer
computes a gradient that nobody reads.
"""
from __future__ import annotations

import contextlib
import copy

from . import backend, losses
from .augment import Policy
from .layers import eval_mode, no_grad, sigmoid
from .optim import Adam
from .penalties import check_sample_wise, r1_penalty
from .updater import TrainingDiverged, Updater

__all__ = ["GAN", "G_NOISE", "LR_SCHEDULES", "TrainingDiverged", "generate", "noise"]

LR_SCHEDULES = ("constant", "linear")  # see GAN._set_learning_rates
G_NOISE = ("reuse", "fresh")           # the generator step's fakes: see GAN.train_step


class GAN(Updater):
    """A generator G, a discriminator D, their Adam optimisers and the loss kinds.

    G: (N, z_dim) -> (N, *data_shape);  D: (N/pack, pack*C, ...) -> (N/pack, 1) logits.
    loss: "nonsaturating" (default), "minimax", or another kind of ``minigan.losses``;
    d_steps: discriminator steps per generator step; pack: PacGAN packing degree
    (D judges ``pack`` samples at once); clip: global gradient-norm clip (None = off);
    lr_schedule: "constant", or "linear" (both learning rates fall linearly to 0 at step
    ``total_steps``: the late, small steps let G settle precisely on the modes);
    ema: None, or a decay such as 0.999 to keep an exponential moving average of G's weights,
    G_ema = ema * G_ema + (1 - ema) * G after every G step (Yazici et al. 2019, "The unusual
    effectiveness of averaging in GAN training"): the average moves less than G, which keeps
    circling the optimum, and often gives cleaner samples. ``sample`` then uses G_ema.
    num_classes: K >= 2 for a conditional GAN (Mirza & Osindero 2014): the noise G gets is [z, one-hot
    label] (N, z_dim + K), in training the labels of the real batch beside (``_labels_of``), in sampling
    the labels asked for (or uniform draws); G then outputs its image with the label as K more
    channels (``layers.LabelPlanes``), (N, C + K, H, W), the form the caller's real batches take too
    (``datasource.data_source``), so D judges every image with its label. ``sample`` drops those channels.
    r1: weight gamma of the R1 penalty gamma/2 * mean ||dD/dx||^2 on the real (packed) batch, added
    to D's loss in every D step (``minigan.penalties``; 0 = off; D must not use BatchNorm).
    augment: None, or a differentiable augmentation policy such as "translation,cutout,brightness"
    (``minigan.augment``; Zhao et al. 2020): D sees T(x) and T(G(z)), each batch with its own random T,
    in its step and G's, and G's gradient flows back through T (R1 then acts on the augmented reals,
    and d_real, d_fake_* are D's outputs on augmented images).
    Noise, the augmentations' parameters and any data sampling the caller does through ``self.rng``
    come from one seeded host generator, saved with the state: same seed, same backend, same result.
    """

    def __init__(self, G, D, z_dim: int, loss: str = "nonsaturating", lr_g: float = 2e-4, lr_d: float = 2e-4,
                 betas=(0.5, 0.999), d_steps: int = 1, pack: int = 1, clip: float | None = None, seed: int = 0,
                 lr_schedule: str = "constant", total_steps: int | None = None, ema: float | None = None,
                 r1: float = 0.0, g_noise: str = "reuse", augment: str | None = None, num_classes: int = 0):
        if d_steps < 1 or pack < 1:
            raise ValueError(f"d_steps and pack must be >= 1, got d_steps={d_steps}, pack={pack}")
        if lr_schedule not in LR_SCHEDULES or (lr_schedule == "linear" and not total_steps):
            raise ValueError(f"lr_schedule must be 'constant' or 'linear' (the latter with total_steps), "
                             f"got {lr_schedule!r} with total_steps={total_steps}")
        if ema is not None and not 0 < ema < 1:
            raise ValueError(f"ema must be a decay in (0, 1), e.g. 0.999, got {ema}")
        if g_noise not in G_NOISE:
            raise ValueError(f"g_noise must be 'reuse' (G's step judges the D step's fakes again) or 'fresh', "
                             f"got {g_noise!r}")
        if r1 < 0:
            raise ValueError(f"r1 must be a penalty weight >= 0 (0 = off), got {r1}")
        if r1:
            check_sample_wise(D)
        self.ema, self.r1, self.g_noise = ema, r1, g_noise
        self.augment = Policy(augment) if augment else None   # ValueError naming the accepted transforms
        self.G_ema = copy.deepcopy(G) if ema else None
        self.base_lr = (lr_g, lr_d)
        self.lr_schedule, self.total_steps = lr_schedule, total_steps
        if num_classes == 1 or num_classes < 0:
            raise ValueError(f"num_classes must be 0 (unconditional) or >= 2, got {num_classes}")
        self.G, self.D, self.z_dim, self.num_classes = G, D, z_dim, num_classes
        self.loss, self.d_steps, self.pack = loss, d_steps, pack
        self.g_opt = Adam(G, lr=lr_g, betas=betas)
        self.d_opt = Adam(D, lr=lr_d, betas=betas)
        models = {"G": G, "D": D, **({"G_ema": self.G_ema} if ema else {})}
        super().__init__(models, {"G": self.g_opt, "D": self.d_opt}, seed=seed, clip=clip)

    # -- helpers ------------------------------------------------------------
    def noise(self, n: int, rng=None, labels=None):
        """G's input: z ~ N(0, I), (n, z_dim) in G's dtype on the active backend; for a conditional GAN
        [z, one-hot(labels)], (n, z_dim + K), the labels drawn uniformly from the same generator unless given."""
        return noise(self.z_dim, n, rng or self.rng, self.G.dtype, self.num_classes, labels)

    def _packed(self, x):
        """(N, C, ...) -> (N/pack, pack*C, ...): consecutive samples side by side (PacGAN)."""
        if x.shape[0] % self.pack:
            raise ValueError(f"batch size {x.shape[0]} is not a multiple of pack={self.pack}")
        return x.reshape((x.shape[0] // self.pack, self.pack * x.shape[1]) + tuple(x.shape[2:]))

    def _augmented(self, x):
        """(T(x), T's parameters) with T's parameters drawn from ``self.rng``; (x, None) without augment."""
        return self.augment(x, self.rng) if self.augment else (x, None)

    @staticmethod
    def _mean_prob(logits) -> float:
        return float(sigmoid(logits).mean())

    def _set_learning_rates(self) -> None:
        """Learning rates for the coming step: a function of the step only, so resuming is exact."""
        factor = 1.0
        if self.lr_schedule == "linear":
            factor = max(1.0 - self.step / self.total_steps, 1e-3)
        self.g_opt.lr, self.d_opt.lr = self.base_lr[0] * factor, self.base_lr[1] * factor

    def _update_ema(self) -> None:
        """G_ema <- ema * G_ema + (1 - ema) * G for the weights; BatchNorm statistics copied from G."""
        for (_, avg, _), (_, p, _) in zip(self.G_ema.parameters(), self.G.parameters()):
            avg -= p                 # avg = p + ema * (avg - p), in place
            avg *= self.ema
            avg += p
        for avg_module, module in zip(self.G_ema.modules(), self.G.modules()):
            for k, v in module.buffers.items():
                avg_module.buffers[k][...] = v

    def _labels_of(self, real):
        """A conditional GAN's fakes take the labels of the real batch they are judged beside (None otherwise):
        its last K channels are the one-hot planes. Were the fakes' labels drawn another way, the two batches
        would differ in how often each class comes, which D's BatchNorm lets it see (on data with unequal
        classes D then wins from the first steps, whatever the images look like)."""
        if not self.num_classes:
            return None
        return real[:, -self.num_classes:].reshape(real.shape[0], self.num_classes, -1)[:, :, 0].argmax(axis=1)

    def _check_finite(self, name: str, value: float):
        self.check_finite(name, value, "try a lower learning rate, gradient clipping, or another loss")

    # -- one iteration -------------------------------------------------------
    def train_step(self, real_batch) -> dict:
        """One generator step after ``d_steps`` discriminator steps.

        real_batch: (B, *data_shape) array on the active backend, or a list of ``d_steps`` such arrays
        (one per D step; a single array is reused). Returns the step's figures as floats:
        loss_d (with the R1 term when it is on), loss_g, d_real = mean D(x), d_fake_before /
        d_fake_after = mean D(G(z)) before / after the D step (on G's step's fakes: the same ones unless
        g_noise is "fresh"), grad_norm_d, grad_norm_g (before clipping).
        """
        G, D = self.G, self.D
        reals = real_batch if isinstance(real_batch, (list, tuple)) else [real_batch] * self.d_steps
        if len(reals) != self.d_steps:
            raise ValueError(f"expected {self.d_steps} real batches (one per D step), got {len(reals)}")

        self._set_learning_rates()
        # (1) Update D on a real and a fake batch.
        for i, real in enumerate(reals):
            D.zero_grad()
            packed_real = self._packed(self._augmented(real)[0])
            real_logits = D(packed_real)
            loss_real, grad = losses.discriminator_loss_real(real_logits, self.loss)
            D.backward(grad, input_grad=False)

            # G's step back-propagates through the last D step's fakes ("reuse"), never through the others
            kept = self.g_noise == "reuse" and i == len(reals) - 1
            with contextlib.nullcontext() if kept else no_grad():
                fake = G(self.noise(real.shape[0], labels=self._labels_of(real)))
            fake_logits = D(self._packed(self._augmented(fake)[0]))
            loss_fake, grad = losses.discriminator_loss_fake(fake_logits, self.loss)
            D.backward(grad, input_grad=False)

            loss_d = loss_real + loss_fake
            if self.r1:
                loss_d += r1_penalty(D, packed_real, self.r1)
            self._check_finite("the discriminator loss", loss_d)
            grad_norm_d = self.finish_gradients("D")
            self.d_opt.step()

        # (2) Update G: fakes judged by the updated D, gradient through D into G. By default the
        # D step's last fakes (G still holds the activations that made them); "fresh" makes new ones.
        G.zero_grad()
        if self.g_noise == "fresh":
            fake = G(self.noise(fake.shape[0], labels=self._labels_of(real)))
        seen, draws = self._augmented(fake)             # a new T, as D's every look at the fakes gets
        after_logits = D(self._packed(seen))
        loss_g, grad = losses.generator_loss(after_logits, self.loss)
        self._check_finite("the generator loss", loss_g)
        grad_fake = D.backward(grad, param_grads=False).reshape(fake.shape)
        if self.augment:                                # dL/dG(z) = T'(dL/dT(G(z))): back through T
            grad_fake = self.augment.backward(grad_fake, draws)
        G.backward(grad_fake, input_grad=False)
        grad_norm_g = self.finish_gradients("G")
        self.g_opt.step()
        if self.G_ema is not None:
            self._update_ema()
        self.step += 1
        return {"loss_d": loss_d, "loss_g": loss_g, "d_real": self._mean_prob(real_logits),
                "d_fake_before": self._mean_prob(fake_logits), "d_fake_after": self._mean_prob(after_logits),
                "grad_norm_d": grad_norm_d, "grad_norm_g": grad_norm_g}

    def draw_batch(self, sample_real, batch_size: int) -> tuple:
        """The arguments of one ``train_step``: ``d_steps`` real batches, drawn with ``self.rng``."""
        return ([sample_real(self.rng, batch_size) for _ in range(self.d_steps)],)

    # -- using G -------------------------------------------------------------
    def sample(self, n: int, seed: int = 0, batch_size: int = 1000, labels=None):
        """n samples from G (G_ema when averaging) in evaluation mode, float32 NumPy (n, *data_shape).
        Conditional: ``labels`` an int or (n,) ints (None: drawn uniformly); the label channels dropped."""
        return generate(self.G_ema or self.G, self.z_dim, n, seed, batch_size, self.num_classes, labels)


def noise(z_dim: int, n: int, rng, dtype, num_classes: int = 0, labels=None):
    """z ~ N(0, I) (n, z_dim) from ``rng``, on the active backend; with num_classes K >= 2,
    [z, one-hot(labels)] (n, z_dim + K), the labels (an int or (n,) ints) drawn uniformly after z when None."""
    xp = backend.xp
    z = backend.asarray(rng.standard_normal((n, z_dim)), dtype=dtype)
    if not num_classes:
        return z
    labels = _labels(num_classes, n, rng, labels)
    return xp.concatenate([z, xp.eye(num_classes, dtype=z.dtype)[labels]], axis=1)


def _labels(num_classes: int, n: int, rng, labels=None):
    """(n,) labels on the active backend: ``labels`` (an int or n ints) checked, or drawn uniformly by rng."""
    if labels is None:
        return backend.asarray(rng.integers(0, num_classes, n))
    labels = backend.xp.broadcast_to(backend.asarray(labels), (n,))
    if bool(((labels < 0) | (labels >= num_classes)).any()):
        raise ValueError(f"labels must lie in 0..{num_classes - 1}")
    return labels


def generate(G, z_dim: int, n: int, seed: int = 0, batch_size: int = 1000, num_classes: int = 0, labels=None):
    """n >= 1 samples of G in evaluation mode, noise seeded with ``seed``: float32 NumPy (n, *data_shape);
    for a conditional G (num_classes K >= 2), of ``labels`` (an int or (n,) ints; None: uniform draws),
    without the K label channels G appends."""
    if n < 1:
        raise ValueError(f"number of samples must be >= 1, got {n}")
    rng = backend.rng(seed)
    if num_classes:  # the labels first, for the whole n, so that batch_size never changes which are drawn
        labels = _labels(num_classes, n, rng, labels)
    with eval_mode(G), no_grad():
        parts = [G(noise(z_dim, min(batch_size, n - start), rng, G.dtype, num_classes,
                         None if labels is None else labels[start:start + batch_size]))
                 for start in range(0, n, batch_size)]
    out = backend.to_numpy(backend.get_array_module(parts[0]).concatenate(parts)).astype("float32")
    return out[:, :-num_classes] if num_classes else out
