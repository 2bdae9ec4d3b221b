"""--holdout F: the last round(F * N) images never reach training, and `minigan evaluate` scores against them
with the memorisation check (distance to the nearest training image) beside the held-out images' own."""
import json

import numpy as np
import pytest

from minigan import backend, options
from minigan.cli import main
from minigan.data import load_digits
from minigan.metrics import nearest_distance
from minigan.datasource import data_source, split_holdout


def test_the_last_images_of_the_canonical_order_are_held_out():
    images, labels = load_digits()
    config = options.validate(options.make_config({"holdout": 0.3}))
    (train, train_labels), (held, held_labels) = split_holdout(config, images, labels)
    assert len(held) == round(0.3 * 1797) == 539 and len(train) == 1797 - 539
    np.testing.assert_array_equal(held, images[-539:])
    np.testing.assert_array_equal(train_labels, labels[:-539])

    sample_real = data_source(config, log=lambda *a: None)
    rng = backend.rng(0)
    drawn = np.concatenate([backend.to_numpy(sample_real(rng, 64)) for _ in range(200)]).reshape(-1, 64)
    held_rows = {row.tobytes() for row in held.reshape(len(held), -1)}
    train_rows = {row.tobytes() for row in train.reshape(len(train), -1)}
    drawn_rows = {row.tobytes() for row in drawn}
    assert drawn_rows <= train_rows
    assert not drawn_rows & (held_rows - train_rows)  # (a few digits occur in both halves pixel for pixel)
    assert len(drawn_rows) > 0.9 * len(train_rows)  # 12,800 draws reach nearly every training image


def test_holdout_zero_keeps_every_image():
    images, labels = load_digits()
    config = options.validate(options.make_config({}))
    (train, _), (held, _) = split_holdout(config, images, labels)
    assert len(train) == 1797 and len(held) == 0


def test_nearest_distance_is_zero_for_copies_and_exact_otherwise():
    rng = np.random.default_rng(0)
    references = rng.standard_normal((50, 1, 4, 4))
    assert nearest_distance(references[[3, 7, 7]], references) == pytest.approx(0, abs=1e-6)
    queries = rng.standard_normal((9, 1, 4, 4))
    brute = np.mean([min(np.linalg.norm(q - r) for r in references) for q in queries])
    assert nearest_distance(queries, references) == pytest.approx(brute, rel=1e-9)
    with pytest.raises(ValueError, match="equal sample size"):
        nearest_distance(queries, references.reshape(50, 16)[:, :8])


def test_evaluate_a_holdout_run_reports_memorisation(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MINIGAN_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "run"
    assert main(["train", "--dataset", "digits", "--width", "8", "--z-dim", "8", "--batch-size", "16",
                 "--steps", "10", "--frames", "0", "--holdout", "0.3", "--out", str(out)]) == 0
    assert json.loads((out / "config.json").read_text())["holdout"] == 0.3
    assert main(["evaluate", str(out)]) == 0
    table = capsys.readouterr().out
    assert "distance to nearest training image" in table
    figures = json.loads((out / "metrics.json").read_text())["images"]
    assert figures["holdout"] == 0.3
    assert figures["num_samples"] == figures["num_real_eval"] == 539 and figures["num_reference"] == 1258
    real, generated = figures["real"]["nearest_train_distance"], figures["generated"]["nearest_train_distance"]
    assert 0 < real < 10 and generated > 0
    # the memorisation figure of the held-out images, recomputed independently
    images, _ = load_digits()
    d = np.sqrt(((images[-539:, None].reshape(539, 1, 64) - images[None, :1258].reshape(1, 1258, 64)) ** 2)
                .sum(-1)).min(axis=1)
    assert real == pytest.approx(d.mean(), rel=1e-6)
