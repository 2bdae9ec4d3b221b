"""``minigan inpaint RUN_DIR --images IN.npy --mask M --out OUT.npy|OUT.png``: restore hidden pixels with a run.

A gan run restores by optimising z (``minigan.inpaint.restore``, Yeh et al. 2017); a pix2pix inpaint run in
one forward pass of its U-Net (``minigan.families.pix2pix.restore``). Either way the visible pixels are kept.
"""
from __future__ import annotations

from ..inpaint import PRIOR_WEIGHT, STEPS, Restoration, check_images, load_array, mask_option, restore


def _warn(line: str) -> None:
    import sys

    print(line, file=sys.stderr)


def inpaint_run(run_dir, images_path, mask_spec: str, out, steps: int = STEPS, seed: int = 0, warn=_warn,
                backend_name: str | None = None):
    """Restore the images in ``images_path`` with an image run: a gan run's G (and D, as the prior) by
    optimising z, or a pix2pix inpaint run's U-Net in one forward pass; write float32 (N, C, H, W) in
    [-1, 1] to OUT.npy, or the masked and the restored images side by side to OUT.png. Every argument
    is checked (ValueError / OSError, one line) before anything is written. A gan run whose D judges
    packs of samples (--pack > 1) restores without the prior: D cannot judge one image alone.
    Returns the ``Restoration`` (for a pix2pix run: its images, and None for what z search has)."""
    import numpy as np

    from ..datasource import data_shape, is_points
    from ..run import load_run
    from ..runfolder import check_output_file

    out = check_output_file(out)
    if steps < 1:
        raise ValueError(f"--steps {steps}: expected an integer >= 1")
    config, trainer = load_run(run_dir, backend_name)
    if is_points(config):
        raise ValueError(f"{run_dir} is a run on 2-D points ({config['dataset']}); expected a run on images")
    if config["model"] not in ("gan", "pix2pix") or (config["model"] == "pix2pix" and config["task"] != "inpaint"):
        what = config["model"] if config["model"] != "pix2pix" else f"pix2pix --task {config['task']}"
        raise ValueError(f"{run_dir} is a {what} run; expected a gan run or a pix2pix --task inpaint run")
    images = load_array(images_path, "--images")
    check_images(images, data_shape(config), f"--images {images_path}")
    mask = mask_option(mask_spec, images.shape)
    if config["model"] == "pix2pix":
        from ..families.pix2pix import restore as pix2pix_restore

        restored = pix2pix_restore(trainer, config, images, mask)
        result = Restoration(restored, None, None, None, None, None)
    else:
        prior_weight = PRIOR_WEIGHT
        if config["pack"] > 1:
            warn(f"minigan inpaint: warning: D of {run_dir} judges packs of {config['pack']} images, not one: "
                 f"restoring without D's prior")
            prior_weight = 0.0
        result = restore(trainer.G_ema or trainer.G, trainer.D, images, mask, trainer.z_dim, steps=steps,
                         prior_weight=prior_weight, seed=seed)
    restored = result.images.astype(np.float32)
    if out.suffix == ".npy":
        from ..storage import atomic_write

        atomic_write(out, lambda f: np.save(f, restored))
    else:
        from ..viz import save_image_grid

        # each tile: the input with its hidden pixels at 0 (grey) | a white column | the restoration
        masked = np.where(mask > 0, images, 0).astype(np.float32)
        bar = np.ones(masked.shape[:3] + (1,), dtype=np.float32)
        save_image_grid(np.concatenate([masked, bar, restored], axis=3), out,
                        f"masked | restored ({len(images)} images, "
                        f"{'pix2pix' if config['model'] == 'pix2pix' else f'{steps} steps'})")
    return result
