"""The translation figures of several evaluated runs side by side, and a picture of held-out translations.

Each RUN is a run folder of ``minigan train --model cyclegan`` or ``--model pix2pix --task translate`` on
which ``minigan evaluate`` has run (its metrics.json holds "translation"). Prints one markdown table per
direction: each run's L1, PSNR, Fréchet distance to the target and target-classifier accuracy, with the
identity baseline (the input as output) and the target's own training images once. With ``--picture``,
writes the first ``--count`` held-out inputs of the first run's first direction, each run's output for
them, and (paired sets) the true counterparts, one image per row: input | run 1 | run 2 | ... | true.

    python benchmarks/translation_table.py runs/cg-emoji-s0 runs/p2p-emoji-s0 --picture docs/x.png
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

COLUMNS = (("l1", "L1", "{:.4f}"), ("psnr", "PSNR (dB)", "{:.2f}"), ("frechet_distance", "FD to target", "{:.1f}"),
           ("accuracy", "target classifier", "{:.3f}"))


def translation_figures(run: Path) -> dict:
    metrics = json.loads((run / "metrics.json").read_text())
    if "translation" not in metrics:
        raise SystemExit(f"{run}: no translation figures in metrics.json; run minigan evaluate {run} first")
    return metrics["translation"]


def tables(runs: list) -> str:
    """One markdown table per direction name found in the runs."""
    by_direction: dict = {}
    for run in runs:
        for direction in translation_figures(run)["directions"]:
            by_direction.setdefault(direction["name"], []).append((run, direction))
    out = []
    for name, entries in by_direction.items():
        rows = entries[0][1]["rows"]
        shown = [c for c in COLUMNS if any(c[0] in r for r in rows.values())]
        out += [f"{name}, {entries[0][1]['num_images']} held-out images", "",
                "| | " + " | ".join(label for _, label, _ in shown) + " |",
                "|---|" + "---|" * len(shown)]
        lines = [(f"{run.name}", direction["rows"][model]) for run, direction in entries
                 for model in direction["rows"] if model in ("cyclegan", "pix2pix")]
        lines += [(label, rows[label]) for label in ("identity (the input)", "target's training images")]
        out += ["| " + label + " | " + " | ".join(fmt.format(row[key]) if key in row else "-"
                                                  for key, _, fmt in shown) + " |" for label, row in lines]
        out.append("")
    return "\n".join(out)


def picture(runs: list, path: Path, count: int) -> None:
    from minigan.datasource import paired, real_images, split_holdout
    from minigan.evaluate import translation_directions
    from minigan.run import load_run
    from minigan.viz import save_image_grid, side_by_side

    columns, title = [], []
    for run in runs:
        config, trainer = load_run(run)
        name, source, target, translate = translation_directions(config, trainer)[0]
        (_, _), (held, _) = split_holdout(source, *real_images(source, log=lambda *a: None))
        if not columns:
            columns.append(held[:count])
            title.append("input")
        columns.append(translate(held[:count]))
        title.append(config["model"])
    if paired(config):
        (_, _), (held_t, _) = split_holdout(target, *real_images(target, log=lambda *a: None))
        columns.append(held_t[:count])
        title.append("true")
    save_image_grid(side_by_side(*columns), path, f"{name}, held out\n" + " | ".join(title), nrow=1)
    print(f"wrote {path}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", type=Path, nargs="+")
    parser.add_argument("--picture", type=Path, default=None, help="write the held-out translations here (.png)")
    parser.add_argument("--count", type=int, default=8, help="images in the picture (default 8)")
    args = parser.parse_args(argv)
    print(tables(args.runs))
    if args.picture:
        picture(args.runs, args.picture, args.count)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
