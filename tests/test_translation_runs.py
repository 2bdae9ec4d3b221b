"""Translation from the command line: ``--model cyclegan --dataset A --to B`` (the two sets drawn apart: no
pairing is read) and ``--model pix2pix --task translate`` (image i to image i); the refusals; a run trained,
translated both ways and evaluated; the translation figures on known inputs."""
import json

import numpy as np
import pytest

from minigan import data, families, options
from minigan.cli import main
from minigan.cyclegan_models import sizes_for
from minigan.data import DataSet, load_digits
from minigan.metrics.translation import l1_error, psnr
from minigan.run import load_run

DIGITS, LABELS = load_digits()
SMALL = ["--width", "4", "--blocks", "1", "--batch-size", "4", "--frames", "2", "--log-every", "2"]


def _loader(images):
    return lambda data_dir=None, download=False, log=print: (images.copy(), LABELS.copy())


@pytest.fixture
def digit_sets(tmp_path, monkeypatch):
    """Sets made of the embedded digits, registered for one test: 'digits-reversed' (the same images in
    the reverse order, its labels not matching: only its images are read here), and 'digits-paired' /
    'digits-negated' (image i and its negative -x, tagged as pairs)."""
    monkeypatch.setenv("MINIGAN_CACHE", str(tmp_path / "cache"))
    made = {"digits-reversed": dict(load=_loader(DIGITS[::-1])),
            "digits-paired": dict(load=_loader(DIGITS), pairs="negation"),
            "digits-negated": dict(load=_loader(-DIGITS), pairs="negation")}
    for name, how in made.items():
        data.register(DataSet(name, "images", (1, 8, 8), defaults=dict(arch="dcgan"), **how))
    yield made
    for name in made:
        data.unregister(name)


def config_of(**given):
    return options.validate(options.make_config({"batch_size": 16, **given}))


def draws(config, steps=6):
    sample = families.get(config["model"]).batches(config, log=lambda *a: None)
    rng = np.random.default_rng(0)
    return [sample(rng, config["batch_size"]) for _ in range(steps)]


def test_each_set_is_drawn_on_its_own_so_no_pairing_is_read(digit_sets):
    straight = draws(config_of(model="cyclegan", dataset="digits", to="digits"))
    a_permuted = draws(config_of(model="cyclegan", dataset="digits-reversed", to="digits"))
    b_permuted = draws(config_of(model="cyclegan", dataset="digits", to="digits-reversed"))
    for (a, b), (pa, pb), (qa, qb) in zip(straight, a_permuted, b_permuted):
        assert np.array_equal(b, pb), "permuting A's images changed the B batches drawn"
        assert np.array_equal(a, qa), "permuting B's images changed the A batches drawn"
    assert not all(np.array_equal(a, pa) for (a, _), (pa, _) in zip(straight, a_permuted))
    # the same set on both sides: row k of the A batch and row k of the B batch are the same image only by
    # chance (1 in 1,438 training digits per row)
    same = sum(np.array_equal(a[k], b[k]) for a, b in straight for k in range(len(a)))
    assert same <= 2, same


def test_pix2pix_translate_draws_image_i_with_its_counterpart(digit_sets):
    for inputs, targets in draws(config_of(model="pix2pix", task="translate", dataset="digits-paired",
                                           to="digits-negated", holdout=0.2)):
        assert np.array_equal(targets, -inputs)
        held = set(map(bytes, DIGITS[-359:]))  # --holdout 0.2: the last 359 of 1,797 are never drawn
        assert not any(bytes(x) in held for x in inputs)


@pytest.mark.parametrize("given, expected", [
    (["--model", "cyclegan"], "--model cyclegan: expected --to B, a second data set"),
    (["--model", "cyclegan", "--to", "mnist"], "of the shape (1, 8, 8)"),
    (["--model", "cyclegan", "--dataset", "ring8", "--to", "digits"], "takes images"),
    (["--model", "cyclegan", "--to", "digits", "--pool", "-1"], "an integer >= 0"),
    (["--model", "pix2pix", "--task", "translate", "--to", "mnist8"], "counterpart of image i"),
    (["--model", "pix2pix", "--task", "translate"], "translate: expected --to B"),
    (["--model", "pix2pix", "--to", "digits"], "--to is for --task translate"),
    (["--to", "digits"], "does not take --to"),
    (["--model", "vae", "--to-data-dir", "x"], "does not take --to-data-dir")])
def test_translation_options_are_checked_before_anything_is_written(tmp_path, capsys, given, expected):
    assert main(["train", *given, "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and expected in err[0], err
    assert not (tmp_path / "r").exists()


def test_a_cyclegan_run_translates_both_ways_and_is_scored_against_the_counterparts(digit_sets, tmp_path):
    run, images = tmp_path / "run", tmp_path / "in.npy"
    assert main(["train", "--model", "cyclegan", "--dataset", "digits-paired", "--to", "digits-negated", *SMALL,
                 "--steps", "6", "--holdout", "0.2", "--out", str(run)]) == 0
    np.save(images, DIGITS[:10])
    config, trainer = load_run(run)
    for reverse, net in ((False, trainer.G), (True, trainer.F)):
        out = tmp_path / f"out{reverse}.npy"
        assert main(["translate", str(run), "--images", str(images), "--out", str(out)] +
                    (["--reverse"] if reverse else [])) == 0
        assert np.array_equal(np.load(out), trainer.translate(DIGITS[:10], reverse=reverse))
    assert not np.array_equal(np.load(tmp_path / "outFalse.npy"), np.load(tmp_path / "outTrue.npy"))
    assert main(["translate", str(run), "--images", str(images), "--out", str(tmp_path / "o.png")]) == 0
    assert main(["evaluate", str(run)]) == 0
    figures = json.loads((run / "metrics.json").read_text())["translation"]
    assert [d["name"] for d in figures["directions"]] == ["digits-paired -> digits-negated",
                                                          "digits-negated -> digits-paired"]
    for direction in figures["directions"]:
        rows = direction["rows"]
        assert direction["paired"] and direction["num_images"] == 359
        # the input against its negative: |x - (-x)| / 2 = |x| on average, 10 log10(1 / mean x^2) per image
        held = DIGITS[-359:].astype(np.float64)
        assert rows["identity (the input)"]["l1"] == pytest.approx(np.abs(held).mean(), rel=1e-9)
        assert rows["identity (the input)"]["psnr"] == pytest.approx(
            np.mean(-10 * np.log10((held ** 2).reshape(359, -1).mean(1))), rel=1e-9)
        assert rows["cyclegan"]["l1"] > 0 and "accuracy" in rows["cyclegan"]
        assert rows["target's training images"]["frechet_distance"] < rows["cyclegan"]["frechet_distance"]
    assert (run / "translations.png").is_file()


def test_translate_refuses_reverse_for_pix2pix_and_a_gan_run(tmp_path, capsys):
    gan = tmp_path / "gan"
    assert main(["train", "--width", "4", "--z-dim", "4", "--steps", "2", "--frames", "0", "--out", str(gan)]) == 0
    np.save(tmp_path / "in.npy", DIGITS[:3])
    capsys.readouterr()
    assert main(["translate", str(gan), "--images", str(tmp_path / "in.npy"), "--out", str(tmp_path / "o.npy")]) == 2
    assert "expected a run that translates" in capsys.readouterr().err
    assert not (tmp_path / "o.npy").exists()


def test_l1_and_psnr_on_known_differences():
    x = np.zeros((2, 1, 4, 4), np.float32)
    y = x.copy()
    y[0] += 0.2  # 0.1 in [0, 1] units: mse 0.01, 20 dB
    y[1] += 0.02  # 0.01: mse 1e-4, 40 dB
    assert l1_error(x, y) == pytest.approx(0.055, rel=1e-6)
    assert psnr(x, y) == pytest.approx(30.0, rel=1e-6)
    assert psnr(x, x) == pytest.approx(100.0)  # an exact copy: the 1e-10 floor, not infinity


@pytest.mark.parametrize("side, logits", [(8, 2), (16, 6), (32, 6), (64, 6)])
def test_the_networks_fit_each_image_size(side, logits):
    from minigan import backend
    from minigan.cyclegan_models import patch_discriminator, resnet_generator

    sizes = sizes_for(side)
    x = backend.asarray(np.zeros((1, 3, side, side)), dtype=np.float32)
    G = resnet_generator(3, 4, sizes["downs"], 1)
    assert G(x).shape == x.shape
    assert patch_discriminator(3, 4, sizes["layers"])(x).shape == (1, 1, logits, logits)
