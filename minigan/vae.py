"""A variational autoencoder (Kingma and Welling 2014) built from minigan's layers, every gradient by hand.

For an image x (D = C*H*W pixels in [-1, 1]) and a latent z (L numbers):

    encoder   x -> h = (mu, logvar), each (N, L): q(z|x) = N(mu, diag(exp(logvar)))
    sample    z = mu + sigma * eps, sigma = exp(logvar / 2), eps ~ N(0, I) (the reparameterisation)
    decoder   z -> x_hat in [-1, 1] (tanh): p(x|z) = N(x_hat, s^2 I), s = ``pixel_std``

The loss is the negative evidence lower bound, per image, averaged over the batch:

    -ELBO(x) = E_q[-log p(x|z)] + KL(q(z|x) || N(0, I))
             ~ ||x - x_hat||^2 / (2 s^2)  +  1/2 sum_l (mu_l^2 + exp(logvar_l) - 1 - logvar_l)
               (reconstruction, one draw of eps)   (KL, in closed form)

dropping the constant D/2 log(2 pi s^2) of the Gaussian's log-density, which no parameter changes.
The backward runs the chain in reverse: decoder.backward gives dL/dz, ``reparameterize_backward``
turns it into dL/dmu and dL/dlogvar, the KL's own gradient is added, and encoder.backward takes the
pair. eps is drawn from the VAE's seeded host generator: same seed, same result, on NumPy or CuPy.
"""
from __future__ import annotations

import math

from . import backend
from .layers import Dense, Flatten, ReLU, Reshape, Sequential, Tanh, no_grad
from .optim import Adam
from .train import generate
from .updater import Updater


def reparameterize(mu, logvar, eps):
    """z = mu + sigma * eps, sigma = exp(logvar / 2).    Shapes: mu, logvar, eps (N, L) -> z (N, L).

    With eps drawn outside (from N(0, I), independent of every parameter), z is a plain
    differentiable function of mu and logvar: the gradient passes through the "sampling".
    """
    return mu + backend.get_array_module(mu).exp(0.5 * logvar) * eps


def reparameterize_backward(grad_z, logvar, eps):
    """(dL/dmu, dL/dlogvar) from grad_z = dL/dz.    Shapes: all (N, L).

    dz/dmu = 1, so dL/dmu = dL/dz; dz/dlogvar = eps * d exp(logvar/2)/dlogvar = eps * sigma / 2,
    so dL/dlogvar = dL/dz * eps * sigma / 2 (entry by entry: z_l depends on mu_l, logvar_l only).
    """
    sigma = backend.get_array_module(logvar).exp(0.5 * logvar)
    return grad_z, grad_z * eps * sigma / 2


def kl_standard_normal(mu, logvar):
    """KL(N(mu, diag sigma^2) || N(0, I)) summed over the latent, averaged over the batch.

    Shapes: mu, logvar (N, L). Returns (value, dvalue/dmu (N, L), dvalue/dlogvar (N, L)):
        KL_n  = -1/2 sum_l (1 + logvar - mu^2 - exp(logvar)) = 1/2 sum_l (mu^2 + expm1(logvar) - logvar)
        value = mean_n KL_n;   d/dmu = mu / N,   d/dlogvar = (exp(logvar) - 1) / (2 N)
    Each term is >= 0 (e^t >= 1 + t), zero only at mu = 0, logvar = 0: exactly 0.0 there, and written
    with expm1 so that a tiny logvar is not lost to rounding (exp(t) - 1 - t cancels for small t).
    """
    xp = backend.get_array_module(mu)
    n = mu.shape[0]
    expm1 = xp.expm1(logvar)
    value = float(0.5 * (mu * mu + expm1 - logvar).sum()) / n
    return value, mu / n, expm1 / (2 * n)


def gaussian_reconstruction(x_hat, x, pixel_std: float):
    """-log N(x; x_hat, s^2 I) without its constant, summed over the pixels, averaged over the batch.

    Shapes: x_hat, x (N, ...). Returns (value, dvalue/dx_hat, same shape as x_hat):
        value = mean_n ||x_n - x_hat_n||^2 / (2 s^2);   d/dx_hat = (x_hat - x) / (s^2 N)
    A Gaussian on the pixels (mean squared error up to a scale) rather than a Bernoulli: the digits
    are grey levels, not binary, and a Gaussian takes any value in [-1, 1] as it is.
    """
    n = x_hat.shape[0]
    diff = x_hat - x
    value = float((diff * diff).sum()) / (2 * pixel_std ** 2 * n)
    return value, diff / (pixel_std ** 2 * n)


def mlp_encoder(data_shape, latent_dim: int, hidden: int):
    """(N, *data_shape) -> (N, 2 * latent_dim): Flatten -> Dense hidden -> ReLU -> Dense hidden -> ReLU
    -> Dense 2L, one head whose first L outputs are mu and last L are logvar."""
    d = math.prod(data_shape)
    return Sequential(Flatten(), Dense(d, hidden), ReLU(), Dense(hidden, hidden), ReLU(),
                      Dense(hidden, 2 * latent_dim))


def mlp_decoder(data_shape, latent_dim: int, hidden: int):
    """(N, latent_dim) -> (N, *data_shape) in [-1, 1]: Dense hidden -> ReLU -> Dense hidden -> ReLU
    -> Dense D -> tanh -> reshape."""
    d = math.prod(data_shape)
    return Sequential(Dense(latent_dim, hidden), ReLU(), Dense(hidden, hidden), ReLU(), Dense(hidden, d),
                      Tanh(), Reshape(*data_shape))


class VAE(Updater):
    """An encoder, a decoder, their Adam optimisers and a seeded generator for eps.

    data_shape (C, H, W); latent_dim L; hidden: the width of both MLPs; pixel_std: s of p(x|z)
    (smaller: reconstruction weighs more against the KL, sharper images and a less regular latent).
    The default 0.3 is the middle of the range measured on the digits (docs/experiments.md: from
    0.15 to 0.6 a larger s raised the samples' precision, and at 0.6 cost recall);
    lr, betas: Adam's; clip: the gradient-norm limit of both networks (None: off). Initial weights
    come from the global host generator (``backend.seed``), as every layer's do; eps and the batches
    from ``self.rng``, seeded with ``seed``.
    """

    def __init__(self, data_shape=(1, 8, 8), latent_dim: int = 8, hidden: int = 256, pixel_std: float = 0.3,
                 lr: float = 1e-3, betas=(0.9, 0.999), seed: int = 0, clip: float | None = None):
        if latent_dim < 1 or hidden < 1:
            raise ValueError(f"latent_dim and hidden must be >= 1, got latent_dim={latent_dim}, hidden={hidden}")
        if not (math.isfinite(pixel_std) and pixel_std > 0):
            raise ValueError(f"pixel_std must be a finite number > 0, got {pixel_std}")
        self.data_shape, self.latent_dim, self.pixel_std = tuple(data_shape), latent_dim, pixel_std
        self.encoder = mlp_encoder(self.data_shape, latent_dim, hidden)
        self.decoder = mlp_decoder(self.data_shape, latent_dim, hidden)
        self.enc_opt = Adam(self.encoder, lr=lr, betas=betas)
        self.dec_opt = Adam(self.decoder, lr=lr, betas=betas)
        super().__init__({"encoder": self.encoder, "decoder": self.decoder},
                         {"encoder": self.enc_opt, "decoder": self.dec_opt}, seed=seed, clip=clip)

    def encode(self, x):
        """(mu, logvar), each (N, L), of q(z|x) for x (N, *data_shape) on the active backend."""
        h = self.encoder(x)
        return h[:, :self.latent_dim], h[:, self.latent_dim:]

    def noise(self, n: int):
        """eps ~ N(0, I): (n, L) in the encoder's dtype on the active backend, from ``self.rng``."""
        return backend.asarray(self.rng.standard_normal((n, self.latent_dim)), dtype=self.encoder.dtype)

    def loss_and_grads(self, x, eps) -> dict:
        """-ELBO of the batch x (N, *data_shape) for the given eps (N, L), with its gradients.

        Zeroes both networks' gradients, then fills them with d(-ELBO)/dparameter (eps held fixed):
            g_xhat = d rec/d x_hat;  g_z = decoder.backward(g_xhat)
            g_mu = g_z + d KL/dmu;   g_logvar = g_z * eps * sigma / 2 + d KL/dlogvar
            encoder.backward([g_mu, g_logvar])   (the head's two halves side by side)
        Returns floats: loss = reconstruction + kl, reconstruction, kl (each a mean over the batch).
        """
        xp = backend.get_array_module(x)
        self.encoder.zero_grad()
        self.decoder.zero_grad()
        mu, logvar = self.encode(x)
        x_hat = self.decoder(reparameterize(mu, logvar, eps))
        rec, g_xhat = gaussian_reconstruction(x_hat, x, self.pixel_std)
        kl, kl_mu, kl_logvar = kl_standard_normal(mu, logvar)
        g_z = self.decoder.backward(g_xhat)
        g_mu, g_logvar = reparameterize_backward(g_z, logvar, eps)
        self.encoder.backward(xp.concatenate([g_mu + kl_mu, g_logvar + kl_logvar], axis=1), input_grad=False)
        return {"loss": rec + kl, "reconstruction": rec, "kl": kl}

    def train_step(self, x) -> dict:
        """One Adam step of both networks on the batch x (N, *data_shape), eps drawn from ``self.rng``.

        Returns the figures of ``loss_and_grads`` (before the step) and the two networks' gradient
        norms. Raises TrainingDiverged, and leaves the parameters as they were, if the loss is not finite.
        """
        figures = self.loss_and_grads(x, self.noise(x.shape[0]))
        self.check_finite("the VAE's loss", figures["loss"], "try a lower learning rate or a larger pixel_std")
        figures["grad_norm_encoder"] = self.finish_gradients("encoder")
        figures["grad_norm_decoder"] = self.finish_gradients("decoder")
        self.enc_opt.step()
        self.dec_opt.step()
        self.step += 1
        return figures

    def reconstruct(self, x, batch_size: int = 1000):
        """decoder(mu(x)): the posterior mean's image, for x (N, *data_shape) (NumPy or backend array).

        Returns float32 NumPy (N, *data_shape) in [-1, 1]; no eps is drawn (the mean, not a sample).
        """
        if len(x) < 1:
            raise ValueError(f"reconstruct: expected at least one image, got {len(x)}")
        with no_grad():
            parts = [self.decoder(self.encode(backend.asarray(x[i:i + batch_size], dtype=self.encoder.dtype))[0])
                     for i in range(0, len(x), batch_size)]
        return backend.to_numpy(backend.get_array_module(parts[0]).concatenate(parts)).astype("float32")

    def sample(self, n: int, seed: int = 0, batch_size: int = 1000):
        """n new images: decoder(z), z ~ N(0, I) seeded with ``seed``: float32 NumPy (n, *data_shape) in [-1, 1]."""
        return generate(self.decoder, self.latent_dim, n, seed, batch_size)
