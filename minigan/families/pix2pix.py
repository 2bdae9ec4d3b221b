"""The pix2pix family: a U-Net G maps an input image to a target image, a patch D judges (input, output)
pairs (``minigan.pix2pix``). ``--task inpaint`` hides the pixels of ``--mask`` (G's input: the damaged image
and the mask on the channels); ``--task superres`` gives G the image averaged over 2x2 blocks and enlarged
back by nearest neighbour; ``--task translate --to B`` gives G image i of --dataset and asks for image i of
B (sets whose images correspond, as the two emoji sets do; the same --holdout rows of both are held out).
Any image data set whose sides are multiples of 4 (two stride-2 stages)."""
from __future__ import annotations

from .. import backend
from ..datasource import data_shape, data_source, first_training_images, target_config, training_images
from ..pix2pix import (Pix2Pix, inpainting_inputs, patch_discriminator, super_resolution_inputs, translate,
                       unet_generator)
from . import Family, register

TASKS = ("inpaint", "superres", "translate")
FRAME_IMAGES = 16  # the fixed training images whose restorations make the frames


def task_mask(config: dict):
    """The inpainting mask of the run (float32 NumPy (1, 1, H, W), 1 = visible)."""
    from ..inpaint import named_mask

    return named_mask(config["mask"], data_shape(config))


def task_inputs(config: dict, images, mask=None):
    """G's input for the run's task from clean images (N, C, H, W) on the active backend (translate: the
    images of --dataset themselves); inpaint hides what ``mask`` hides (1 visible; default the run's --mask)."""
    if config["task"] == "translate":
        return images
    if config["task"] == "superres":
        return super_resolution_inputs(images)
    mask = task_mask(config) if mask is None else mask
    return inpainting_inputs(images, backend.asarray(mask, dtype=images.dtype))


def input_channels(config: dict) -> int:
    channels = data_shape(config)[0]
    return 2 * channels if config["task"] == "inpaint" else channels


def build(config: dict, arguments: dict, arch_options: dict) -> Pix2Pix:
    """The U-Net and the patch D for the run's images and task, initialised from config['seed'];
    ``arguments`` are Pix2Pix's keywords (``minigan.options``; no architecture options)."""
    channels, c_in = data_shape(config)[0], input_channels(config)
    with backend.seeded(config["seed"]):
        G = unet_generator(c_in, channels, config["width"])
        D = patch_discriminator(c_in + channels, config["width"])
    return Pix2Pix(G, D, **arguments)


def batches(config: dict, log=print):
    """sample_real(rng, n) -> (G's inputs, the clean images): n training images drawn by ``rng``; translate:
    (images of --dataset, the same rows of --to)."""
    if config["task"] == "translate":
        sources, targets = (backend.asarray(training_images(c, log)[0], dtype=backend.default_dtype())
                            for c in (config, target_config(config)))

        def sample_pairs(rng, n):
            idx = backend.asarray(rng.choice(len(sources), n, replace=False))
            return sources[idx], targets[idx]
        return sample_pairs
    sample_images = data_source(config, log)
    mask = backend.asarray(task_mask(config)) if config["task"] == "inpaint" else None  # made once, not per step

    def sample(rng, n):
        images = sample_images(rng, n)
        return task_inputs(config, images, mask), images
    return sample


def frame_pairs(config: dict):
    """(the fixed training images G is shown, the images it should give): the first FRAME_IMAGES training
    images, twice, or for translate those of --dataset and of --to."""
    sets = (config, target_config(config)) if config["task"] == "translate" else (config,)
    images = [first_training_images(which, FRAME_IMAGES) for which in sets]
    return images[0], images[-1]


def side_by_side(config: dict, trainer: Pix2Pix, images, targets=None):
    """[what G sees | its output | the target] per image, (N, C, H, 3W + 2) with white bars between; images
    (N, C, H, W) NumPy, targets those images (default) or their counterparts (translate). Inpaint: the
    hidden pixels shown grey (0); superres: the enlarged 2x2 means; translate: the input."""
    import numpy as np

    from ..viz import side_by_side as columns

    if config["task"] == "inpaint":
        seen = np.where(task_mask(config) > 0, images, 0.0).astype(np.float32)
    elif config["task"] == "superres":
        seen = backend.to_numpy(super_resolution_inputs(backend.asarray(images, dtype=trainer.G.dtype)))
    else:
        seen = images
    return columns(seen, restore(trainer, config, images), images if targets is None else targets)


def restore(trainer, config: dict, images, mask=None):
    """G's restoration of images (N, C, H, W) in [-1, 1] (NumPy): float32 NumPy of the same shape.

    inpaint: G sees the images with ``mask``'s hidden pixels (1 visible, 0 hidden; default the run's
    --mask) and the mask, and the visible pixels are pasted back; superres: G sees the 2x2 block means
    enlarged back, and its output is the answer; translate: G sees the images, its output is the answer."""
    import numpy as np

    out = translate(trainer.G, task_inputs(config, backend.asarray(images, dtype=trainer.G.dtype), mask))
    if config["task"] != "inpaint":
        return out
    mask = task_mask(config) if mask is None else mask
    return np.where(mask > 0, images, out).astype(np.float32)


def frame(trainer: Pix2Pix, config: dict):
    from ..viz import image_grid

    return image_grid(side_by_side(config, trainer, *frame_pairs(config)), nrow=4)


def finish(trainer: Pix2Pix, config: dict, run_dir) -> dict:
    from ..viz import save_image_grid

    what = f"{config['dataset']} -> {config['to']}" if config["task"] == "translate" else config["dataset"]
    save_image_grid(side_by_side(config, trainer, *frame_pairs(config)), run_dir / "samples.png",
                    f"{what} / pix2pix {config['task']}, step {trainer.step}: input | output | true")
    return {"step": trainer.step}


register(Family(
    "pix2pix", build=build, batches=batches, frame=frame, finish=finish,
    fields=("loss_d", "loss_g", "loss_adv", "l1", "d_real", "d_fake_before", "d_fake_after", "grad_norm_d",
            "grad_norm_g"),
    shown={"loss_d": "loss_d", "loss_g": "loss_g", "L1": "l1"},
    # pix2pix's Adam settings; the steps and width of the recipe measured on the digits
    # (benchmarks/pix2pix_digits.py)
    defaults=dict(steps=3000, batch_size=64, width=32, lr_g=2e-4, lr_d=2e-4, beta1=0.5, log_every=20,
                  checkpoint_every=1000),
    description="a conditional U-Net G and a patch D restoring or translating images (--task inpaint|superres|translate)"))
