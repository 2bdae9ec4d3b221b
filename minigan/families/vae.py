"""The VAE family: an MLP encoder and decoder trained on the negative ELBO (``minigan.vae``). It samples and
is evaluated as a GAN is: decoder(z), z ~ N(0, I)."""
from __future__ import annotations

from .. import backend
from ..datasource import data_shape, data_source
from ..vae import VAE
from . import Family, register
from .gan import fixed_noise_seed


def build(config: dict, arguments: dict, arch_options: dict) -> VAE:
    """The encoder, the decoder and their optimisers, initialised from config['seed']; ``arguments``
    are VAE's keywords (``minigan.options``; no architecture options)."""
    with backend.seeded(config["seed"]):
        return VAE(data_shape(config), **arguments)


def frame(vae: VAE, config: dict):
    from ..viz import image_grid

    return image_grid(vae.sample(64, seed=fixed_noise_seed(config)))


def finish(vae: VAE, config: dict, run_dir) -> dict:
    from ..viz import save_image_grid

    save_image_grid(vae.sample(64, seed=fixed_noise_seed(config)), run_dir / "samples.png",
                    f"{config['dataset']} / vae, step {vae.step}")
    return {"step": vae.step}


register(Family(
    "vae", build=build, batches=data_source, frame=frame, finish=finish,
    fields=("loss", "reconstruction", "kl", "grad_norm_encoder", "grad_norm_decoder"),
    shown={"loss": "loss", "rec": "reconstruction", "KL": "kl"},
    # the VAE's Adam settings as lesson 20 measured them on the digits
    defaults=dict(steps=8000, batch_size=64, lr=1e-3, beta1=0.9, log_every=20, checkpoint_every=1000),
    description="a variational autoencoder (an MLP encoder and decoder, the negative ELBO)"))
