"""The cyclegan family: translation between two image sets without pairs (``minigan.cyclegan``).
``--dataset A --to B``: G maps A to B and F maps B to A; each set is drawn on its own (a batch of A and a
batch of B, independent draws: no pairing is ever read), its own --holdout applied. The networks are the
authors' ResNet generator and PatchGAN discriminator (``minigan.cyclegan_models``), their stages by image
size (``sizes_for``) and their channels by --width."""
from __future__ import annotations

from .. import backend
from ..cyclegan import CycleGAN
from ..cyclegan_models import patch_discriminator, resnet_generator, sizes_for
from ..datasource import data_shape, first_training_images, target_config, training_images
from . import Family, register

FRAME_IMAGES = 8  # the fixed training images of each set whose translations make the frames


def build(config: dict, arguments: dict, arch_options: dict) -> CycleGAN:
    """G, F, D_A and D_B for the run's image shape, initialised from config['seed'] in that order;
    ``arguments`` are CycleGAN's keywords (``minigan.options``); the learning rate decays over the last
    --decay-steps (default: the second half, as the authors')."""
    channels, side = data_shape(config)[0], data_shape(config)[1]
    sizes = sizes_for(side)
    blocks = sizes["blocks"] if config.get("blocks") is None else config["blocks"]
    with backend.seeded(config["seed"]):
        G, F = (resnet_generator(channels, config["width"], sizes["downs"], blocks) for _ in range(2))
        D_A, D_B = (patch_discriminator(channels, config["width"], sizes["layers"]) for _ in range(2))
    decay = config["steps"] // 2 if config.get("decay_steps") is None else config["decay_steps"]
    return CycleGAN(G, F, D_A, D_B, total_steps=config["steps"], decay_steps=min(decay, config["steps"]), **arguments)


def batches(config: dict, log=print):
    """sample_real(rng, n) -> (n images of A, n images of B): two separate draws without replacement, A's
    first, from A's and from B's training images; the B indices never depend on A's images (nor on A's
    indices), so whatever order either set comes in, no pair is read."""
    sets = []
    for which in (config, target_config(config)):
        train, _ = training_images(which, log)
        if len(train) < config["batch_size"]:
            raise ValueError(f"--batch-size {config['batch_size']}: expected at most the {len(train)} training "
                             f"images of {which['dataset']}")
        sets.append(backend.asarray(train, dtype=backend.default_dtype()))
    images_a, images_b = sets

    def sample(rng, n):
        idx_a = rng.choice(len(images_a), n, replace=False)
        idx_b = rng.choice(len(images_b), n, replace=False)
        return images_a[backend.asarray(idx_a)], images_b[backend.asarray(idx_b)]
    return sample


def fixed_images(config: dict):
    """The first FRAME_IMAGES training images of A and of B (NumPy): the pictures the run is watched by."""
    return [first_training_images(which, FRAME_IMAGES) for which in (config, target_config(config))]


def translations(trainer: CycleGAN, config: dict):
    """Rows [a | G(a) | F(G(a))] for the fixed A images, then [b | F(b) | G(F(b))] for the fixed B images."""
    import numpy as np

    from ..viz import side_by_side

    a, b = fixed_images(config)
    fake_b, fake_a = trainer.translate(a), trainer.translate(b, reverse=True)
    return np.concatenate([side_by_side(a, fake_b, trainer.translate(fake_b, reverse=True)),
                           side_by_side(b, fake_a, trainer.translate(fake_a))])


def frame(trainer: CycleGAN, config: dict):
    from ..viz import image_grid

    return image_grid(translations(trainer, config), nrow=2)


def finish(trainer: CycleGAN, config: dict, run_dir) -> dict:
    from ..viz import save_image_grid

    save_image_grid(translations(trainer, config), run_dir / "samples.png",
                    f"{config['dataset']} <-> {config['to']}, step {trainer.step}\n"
                    f"a | G(a) | F(G(a)) above, b | F(b) | G(F(b)) below", nrow=2)
    return {"step": trainer.step}


register(Family(
    "cyclegan", build=build, batches=batches, frame=frame, finish=finish,
    fields=("loss_g", "loss_d_a", "loss_d_b", "adv_g", "adv_f", "cycle_a", "cycle_b", "identity_a", "identity_b",
            "grad_norm_g", "grad_norm_f", "grad_norm_d_a", "grad_norm_d_b"),
    shown={"loss_g": "loss_g", "D_A": "loss_d_a", "D_B": "loss_d_b", "cyc": "cycle_a"},
    # the authors' Adam settings (2e-4, beta1 0.5, batch 1); the steps and width measured on the emoji
    # and the digits (docs/experiments.md, "CycleGAN")
    defaults=dict(steps=6000, batch_size=1, width=32, lr=2e-4, beta1=0.5, log_every=20, checkpoint_every=500),
    description="two generators and two discriminators translating between --dataset and --to without pairs"))
