"""``minigan sample RUN_DIR -n N [--label K] --out FILE.npy|FILE.png``: samples of a gan or vae run
(``--label``: of one class, from a conditional run)."""
from __future__ import annotations


def sample_run(run_dir, n: int, seed: int, out, backend_name: str | None = None, label: int | None = None) -> None:
    """Write n samples of a run to ``out``: .npy (float32, data space) or .png (grid / scatter); ``label``:
    all of that class (a conditional run only)."""
    import numpy as np

    from .. import data
    from ..datasource import is_points
    from ..errors import OptionError
    from ..run import load_run, sampler
    from ..runfolder import check_output_file

    if n < 1:
        raise OptionError(f"-n {n}: expected a number of samples >= 1")
    out = check_output_file(out)
    config, trainer = load_run(run_dir, backend_name)
    draw = sampler(config, trainer)
    classes = getattr(trainer, "num_classes", 0)
    if label is not None and not classes:
        raise OptionError(f"--label {label}: expected a conditional run (minigan train --conditional); "
                          f"{run_dir} draws unlabelled samples")
    if label is not None and not 0 <= label < classes:
        raise OptionError(f"--label {label}: expected a class in 0..{classes - 1}")
    samples = draw(n, seed) if label is None else draw(n, seed, labels=label)
    if out.suffix == ".npy":
        from ..storage import atomic_write

        atomic_write(out, lambda f: np.save(f, samples))
    else:
        from ..viz import save_image_grid, save_scatter

        if is_points(config):
            save_scatter(samples, data.toy_means(config["dataset"]), out, f"{n} samples, seed {seed}")
        else:
            save_image_grid(samples, out, f"{n} samples, seed {seed}" + ("" if label is None else f", label {label}"))
