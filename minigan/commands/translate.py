"""``minigan translate RUN_DIR --images IN.npy --out OUT [--reverse]``: images through a run's generator.

A pix2pix run's task makes G's input from the images: ``inpaint`` hides the pixels of the run's mask (the
damaged image and the mask on the channels), ``superres`` averages 2x2 blocks and enlarges them back,
``translate`` takes them as they are (``minigan.families.pix2pix.restore``). A cyclegan run maps domain A to
B with G, or B to A with F under ``--reverse``. One forward pass per batch, in evaluation mode.
"""
from __future__ import annotations

from ..errors import OptionError


def translate_run(run_dir, images_path, out, reverse: bool = False, backend_name: str | None = None):
    """Write the run's translation of the images in ``images_path`` to OUT.npy (float32) or OUT.png (input |
    output side by side); every argument checked before anything is written. Returns the outputs."""
    import numpy as np

    from ..datasource import data_shape
    from ..families.pix2pix import restore
    from ..inpaint import check_images, load_array
    from ..run import load_run
    from ..runfolder import check_output_file

    out = check_output_file(out)
    config, trainer = load_run(run_dir, backend_name)
    if config["model"] not in ("pix2pix", "cyclegan"):
        raise OptionError(f"{run_dir} is a {config['model']} run; expected a run that translates "
                          f"(--model pix2pix or cyclegan)")
    if reverse and config["model"] != "cyclegan":
        raise OptionError(f"--reverse: a pix2pix run maps one way only (its task's input to the image); "
                          f"expected a cyclegan run")
    images = load_array(images_path, "--images")
    check_images(images, data_shape(config), f"--images {images_path}")
    if config["model"] == "cyclegan":
        outputs = trainer.translate(images, reverse=reverse)
        what = f"cyclegan {config['to']} -> {config['dataset']}" if reverse else \
            f"cyclegan {config['dataset']} -> {config['to']}"
    else:
        outputs, what = restore(trainer, config, images), f"pix2pix {config['task']}"
    if out.suffix == ".npy":
        from ..storage import atomic_write

        atomic_write(out, lambda f: np.save(f, outputs))
    else:
        from ..viz import save_image_grid

        bar = np.ones(images.shape[:3] + (1,), dtype=np.float32)
        save_image_grid(np.concatenate([images.astype(np.float32), bar, outputs], axis=3), out,
                        f"input | output ({len(images)} images, {what})")
    return outputs
