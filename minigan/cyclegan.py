"""CycleGAN (Zhu et al. 2017): translation between two image domains A and B learnt WITHOUT pairs.

Two generators, G: A -> B and F: B -> A, and two discriminators, D_A (real A or F's fake?) and D_B (real B
or G's fake?), each giving logits (a patch of them). With mse = the mean of squared differences over all
elements and l1 = the mean absolute difference, lambda = cycle_weight (10) and lambda_id =
identity_weight (5, half of lambda, as the authors' code has it):

    L_G  = mse(D_B(G(a)), 1) + mse(D_A(F(b)), 1)                      adversarial, least squares
         + lambda (l1(F(G(a)), a) + l1(G(F(b)), b))                   cycle: a -> B -> back to a
         + lambda_id (l1(G(b), b) + l1(F(a), a))                      identity: G leaves a B image alone
    L_DB = (mse(D_B(b), 1) + mse(D_B(fake_b), 0)) / 2,  L_DA likewise with a and fake_a.

One step, in the authors' order: fake_b = G(a) and fake_a = F(b) are computed once; G and F take their
Adam step on L_G (D's weights unchanged and its parameter gradients not kept); then D_A and D_B take
theirs on L_DA and L_DB with those same fakes, computed before G's update, through the image pools.

G runs three times before its backward (G(a), G(F(b)) in the cycle, G(b) for the identity) and F
likewise; each application's saves wait on the module's stack, so the backward takes them in the
reverse order: the identity's, the cycle's, then the first application's, whose output gradient is
the sum of what D_B sends back (adversarial) and what F's cycle backward sends back.

The pool (``ImagePool``, the authors' ``image_pool.py``): D judges, half of the time, a fake from up to
``pool_size`` earlier ones instead of the newest, which keeps D from chasing G's last step.

Derivatives of the two distances (n elements): d mse(x, t)/dx = 2 (x - t) / n, d l1(x, t)/dx = sign(x - t) / n.
"""
from __future__ import annotations

from . import backend
from .layers import eval_mode, no_grad
from .optim import Adam
from .updater import Updater


def mse(x, target: float):
    """(mean (x - target)^2, its gradient 2 (x - target) / n)."""
    diff = x - x.dtype.type(target)
    return float((diff * diff).mean()), diff * x.dtype.type(2 / diff.size)


def l1(x, target):
    """(mean |x - target|, its gradient sign(x - target) / n); the sign's 0 at x = target, as PyTorch's."""
    diff = x - target
    xp = backend.get_array_module(diff)
    return float(xp.abs(diff).mean()), xp.sign(diff) * diff.dtype.type(1 / diff.size)


class ImagePool:
    """Up to ``size`` earlier fakes (the authors' ImagePool). ``query(images, rng)``: while the pool is not
    full each image goes in and is returned; then each image is, with probability 1/2, swapped for a
    stored one chosen uniformly (the stored one returned, the new one kept), else returned as it is.
    size 0: the images come back unchanged."""

    def __init__(self, size: int):
        self.size, self.images = size, []

    def query(self, images, rng):
        if self.size == 0:
            return images
        out = []
        for image in images:
            if len(self.images) < self.size:
                self.images.append(image.copy())
                out.append(image)
            elif rng.random() < 0.5:
                k = int(rng.integers(0, self.size))
                out.append(self.images[k])
                self.images[k] = image.copy()
            else:
                out.append(image)
        return backend.get_array_module(images).stack(out)


class CycleGAN(Updater):
    """G: (N, C, H, W) of A -> B, F: B -> A, D_A and D_B: (N, C, H, W) -> logits (N, ...), as the module says.

    ``train_step(real_a, real_b)`` returns loss_g (L_G), loss_d_a, loss_d_b, adv_g, adv_f (the two
    adversarial terms of L_G), cycle_a, cycle_b (the two l1 cycle errors), identity_a, identity_b
    (l1(F(a), a) and l1(G(b), b)). ``translate(x, reverse=False)``: G(x), or F(x) reversed, as NumPy.

    The learning rate, the authors' schedule in steps: ``lr`` until step total_steps - decay_steps, then
    falling linearly, lr (1 - k / decay_steps) for the k-th step of the decay (k = 0 .. decay_steps - 1),
    so the last step still moves; decay_steps 0 (the default): constant. A function of the step alone,
    so a resumed run takes the same steps.
    """

    def __init__(self, G, F, D_A, D_B, cycle_weight: float = 10.0, identity_weight: float = 5.0,
                 pool_size: int = 50, lr: float = 2e-4, betas=(0.5, 0.999), seed: int = 0,
                 clip: float | None = None, total_steps: int = 0, decay_steps: int = 0):
        if cycle_weight < 0 or identity_weight < 0 or pool_size < 0:
            raise ValueError(f"cycle_weight, identity_weight and pool_size must be >= 0, got {cycle_weight}, "
                             f"{identity_weight}, {pool_size}")
        if decay_steps < 0 or decay_steps > total_steps:
            raise ValueError(f"decay_steps must be in 0..total_steps, got {decay_steps} of {total_steps}")
        self.lr, self.total_steps, self.decay_steps = lr, total_steps, decay_steps
        self.G, self.F, self.D_A, self.D_B = G, F, D_A, D_B
        self.cycle_weight, self.identity_weight = cycle_weight, identity_weight
        self.pools = {"a": ImagePool(pool_size), "b": ImagePool(pool_size)}
        models = {"G": G, "F": F, "D_A": D_A, "D_B": D_B}
        super().__init__(models, {name: Adam(m, lr=lr, betas=betas) for name, m in models.items()}, seed, clip)

    def train_step(self, real_a, real_b) -> dict:
        G, F, D_A, D_B = self.G, self.F, self.D_A, self.D_B
        lam, lam_id = self.cycle_weight, self.identity_weight
        for model in self.models.values():
            model.zero_grad()
        for optimizer in self.optimizers.values():
            optimizer.lr = self.learning_rate()
        # (1) G and F on L_G. Forward: each generator three times, in this order.
        fake_b, fake_a = G(real_a), F(real_b)
        rec_a, rec_b = F(fake_b), G(fake_a)
        idt_b, idt_a = G(real_b), F(real_a)
        adv_g, grad_logits_b = mse(D_B(fake_b), 1.0)
        adv_f, grad_logits_a = mse(D_A(fake_a), 1.0)
        cycle_a, grad_rec_a = l1(rec_a, real_a)
        cycle_b, grad_rec_b = l1(rec_b, real_b)
        identity_b, grad_idt_b = l1(idt_b, real_b)
        identity_a, grad_idt_a = l1(idt_a, real_a)
        loss_g = adv_g + adv_f + lam * (cycle_a + cycle_b) + lam_id * (identity_a + identity_b)
        self.check_finite("the generators' loss", loss_g)
        # Backward: each generator's applications in reverse order (identity, cycle, first).
        G.backward(grad_idt_b * grad_idt_b.dtype.type(lam_id), input_grad=False)
        F.backward(grad_idt_a * grad_idt_a.dtype.type(lam_id), input_grad=False)
        grad_fake_a = G.backward(grad_rec_b * grad_rec_b.dtype.type(lam))      # through G(F(b)) into F(b)
        grad_fake_b = F.backward(grad_rec_a * grad_rec_a.dtype.type(lam))      # through F(G(a)) into G(a)
        grad_fake_b += D_B.backward(grad_logits_b, param_grads=False)          # D's own gradients not kept
        grad_fake_a += D_A.backward(grad_logits_a, param_grads=False)
        G.backward(grad_fake_b, input_grad=False)
        F.backward(grad_fake_a, input_grad=False)
        figures = {"grad_norm_g": self.finish_gradients("G"), "grad_norm_f": self.finish_gradients("F")}
        self.optimizers["G"].step()
        self.optimizers["F"].step()
        # (2) D_A and D_B on the same fakes (made before G's update), through the pools.
        loss_d = {}
        for name, D, real, fake in (("b", D_B, real_b, fake_b), ("a", D_A, real_a, fake_a)):
            loss_real, grad_real = mse(D(real), 1.0)
            D.backward(grad_real * grad_real.dtype.type(0.5), input_grad=False)
            loss_fake, grad_fake = mse(D(self.pools[name].query(fake, self.rng)), 0.0)
            D.backward(grad_fake * grad_fake.dtype.type(0.5), input_grad=False)
            loss_d[name] = (loss_real + loss_fake) / 2
            self.check_finite(f"D_{name.upper()}'s loss", loss_d[name])
            figures[f"grad_norm_d_{name}"] = self.finish_gradients(f"D_{name.upper()}")
            self.optimizers[f"D_{name.upper()}"].step()
        self.step += 1
        return {"loss_g": loss_g, "loss_d_a": loss_d["a"], "loss_d_b": loss_d["b"], "adv_g": adv_g,
                "adv_f": adv_f, "cycle_a": cycle_a, "cycle_b": cycle_b, "identity_a": identity_a,
                "identity_b": identity_b, **figures}

    def learning_rate(self) -> float:
        """The learning rate of the coming step (``self.step``), as the class docstring says."""
        into_decay = self.step - (self.total_steps - self.decay_steps)
        if self.decay_steps == 0 or into_decay < 0:
            return self.lr
        return self.lr * max(1 - into_decay / self.decay_steps, 0.0)

    def translate(self, x, reverse: bool = False, batch_size: int = 256):
        """G(x) (A -> B), or F(x) with ``reverse`` (B -> A), in evaluation mode: float32 NumPy, x's shape."""
        net = self.F if reverse else self.G
        with eval_mode(net), no_grad():
            parts = [net(backend.asarray(x[i:i + batch_size], dtype=net.dtype)) for i in range(0, len(x), batch_size)]
        return backend.to_numpy(backend.get_array_module(parts[0]).concatenate(parts)).astype("float32")

    # -- saving: the pools too, so that a resumed run draws what an unbroken one would --------------
    def state_dict(self) -> dict:
        state = super().state_dict()
        for name, pool in self.pools.items():
            if pool.images:
                state[f"pool_{name}"] = backend.get_array_module(pool.images[0]).stack(pool.images)
        return state

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        for name, pool in self.pools.items():
            stored = state.get(f"pool_{name}")
            pool.images = [] if stored is None else [backend.asarray(image) for image in stored]
