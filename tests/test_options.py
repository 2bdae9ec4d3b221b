"""Every option checked before anything is written: exit status 2, one line naming the option, the value and
what is expected, and no run folder created or changed."""
import json
import subprocess
import sys

import pytest

from minigan import backend, options
from minigan.cli import build_parser, main

SMALL_DIGITS = ["--dataset", "digits", "--width", "8", "--z-dim", "8", "--batch-size", "16", "--frames", "0"]


def files_under(path):
    return sorted(p.relative_to(path) for p in path.rglob("*")) if path.exists() else []


def refused(capsys, argv, *expected):
    """Run ``minigan argv``; assert exit 2 and ONE stderr line holding every expected fragment."""
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    for fragment in expected:
        assert fragment in lines[0], lines[0]
    return lines[0]


BAD_NEW_RUNS = [
    (["--dataset", "ring8", "--steps", "-5"], ["--steps -5", "integer >= 1"]),
    (["--steps", "0"], ["--steps 0", ">= 1"]),
    (["--batch-size", "0"], ["--batch-size 0", ">= 1"]),
    (["--d-steps", "0"], ["--d-steps 0"]),
    (["--pack", "0"], ["--pack 0"]),
    (["--z-dim", "0"], ["--z-dim 0"]),
    (["--log-every", "0"], ["--log-every 0"]),
    (["--checkpoint-every", "0"], ["--checkpoint-every 0"]),
    (["--frames", "-1"], ["--frames -1", ">= 0"]),
    (["--seed", "-1"], ["--seed -1", ">= 0"]),
    (["--lr-g", "-0.001"], ["--lr-g -0.001", "finite number > 0"]),
    (["--lr-g=-1e-3"], ["--lr-g -0.001", "finite number > 0"]),
    (["--lr-d", "nan"], ["--lr-d nan", "finite"]),
    (["--lr-d", "inf"], ["--lr-d inf", "finite"]),
    (["--beta1", "1"], ["--beta1 1.0", "[0, 1)"]),
    (["--ema", "1.5"], ["--ema 1.5", "(0, 1)"]),
    (["--r1", "-1"], ["--r1 -1.0", ">= 0"]),
    (["--clip", "0"], ["--clip 0.0", "> 0"]),
    (["--holdout", "1"], ["--holdout 1.0", "[0, 1)"]),
    (["--dataset", "ring8", "--holdout", "0.1"], ["--holdout 0.1", "not a fixed set of images"]),
    (["--dataset", "ring8", "--batch-size", "255"], ["--batch-size 255", "multiple of --pack (2)"]),
    (["--dataset", "cifar"], ["--dataset", "'cifar'", "ring8", "digits"]),
    (["--loss", "foo"], ["--loss", "'foo'", "nonsaturating", "wasserstein"]),
    (["--arch", "resnet"], ["--arch", "'resnet'", "dcgan28"]),
    (["--backend", "tpu"], ["--backend", "'tpu'", "numpy", "cupy"]),
    (["--steps", "many"], ["--steps", "'many'", "int"]),
    (["--arch", "mlp", "--width", "16"], ["--width 16", "arch 'mlp' does not take --width"]),
    (["--arch", "convd", "--width", "16"], ["--width 16", "arch 'convd' does not take --width"]),
    (["--output-scale", "2"], ["--output-scale 2.0", "arch 'dcgan' does not take", "mlp2d"]),
    (["--z-categories", "10"], ["--z-categories 10", "arch 'dcgan' does not take"]),
    (["--dataset", "ring8", "--z-categories", "1"], ["--z-categories 1", "0 (off) or an integer >= 2"]),
    (["--arch", "dcgan28"], ["--arch 'dcgan28'", "digits", "28x28"]),
    (["--arch", "mlp2d"], ["--arch 'mlp2d'", "2-D points"]),
    (["--dataset", "ring8", "--arch", "dcgan"], ["--arch 'dcgan'", "ring8", "images"]),
    (["--r1", "1"], ["R1 penalty", "BatchNorm2d"]),
    (["--batch-size", "5000"], ["--batch-size 5000", "at most the 1797 training images"]),
    (["--threads", "0"], ["--threads", "expected an integer >= 1"]),
    (["--dataset", "ring8", "--z-noise-scale", "0.5"], ["--z-noise-scale 0.5", "needs --z-categories"]),
    (["--batch-size", "1"], ["--batch-size 1", "at least 2", "BatchNorm"]),
    (["--holdout", "0.0001"], ["--holdout 0.0001", "keeps 0 of 1797", "at least 4"]),
    (["--out="], ["--out", "empty"]),
]


@pytest.mark.parametrize("argv, expected", BAD_NEW_RUNS, ids=[" ".join(a) for a, _ in BAD_NEW_RUNS])
def test_a_bad_value_is_refused_before_any_file_is_written(tmp_path, capsys, argv, expected):
    out = tmp_path / "runs" / "x"
    refused(capsys, ["train", "--out", str(out), *argv], *expected)
    assert files_under(tmp_path) == []


def test_cupy_missing_is_one_line(tmp_path, capsys):
    if backend.cupy_available():
        pytest.skip("CuPy and a GPU are present here")
    refused(capsys, ["train", "--backend", "cupy", "--out", str(tmp_path / "x")], "cupy", "pip install")
    assert files_under(tmp_path) == []


def test_a_run_folder_that_cannot_be_created(tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    refused(capsys, ["train", *SMALL_DIGITS, "--steps", "2", "--out", str(blocker / "run")],
            "cannot create the run folder", str(blocker / "run"))
    refused(capsys, ["train", *SMALL_DIGITS, "--steps", "2", "--out", str(blocker)],
            "cannot create the run folder")
    assert blocker.read_text() == "not a folder"


@pytest.fixture
def small_run(tmp_path):
    out = tmp_path / "run"
    assert main(["train", *SMALL_DIGITS, "--steps", "4", "--out", str(out)]) == 0
    return out


def snapshot(run):
    return {p.name: p.read_bytes() for p in run.iterdir()}


@pytest.mark.parametrize("argv, expected", [
    (["--width", "16"], ["--width 16", "expected 8", "cannot change on --resume"]),
    (["--z-dim", "4"], ["--z-dim 4", "expected 8"]),
    (["--dataset", "ring8"], ["--dataset 'ring8'", "expected 'digits'"]),
    (["--arch", "convd"], ["--arch 'convd'", "expected 'dcgan'"]),
    (["--pack", "2"], ["--pack 2", "expected 1"]),
    (["--ema", "0.9"], ["--ema 0.9", "expected None"]),
    (["--holdout", "0.5"], ["--holdout 0.5", "expected 0.0"]),
    (["--beta1", "0.9"], ["--beta1 0.9", "expected 0.5"]),
    (["--seed", "3"], ["--seed 3", "expected 0"]),
    (["--steps", "0"], ["--steps 0", ">= 1"]),
    (["--lr-d", "-1"], ["--lr-d -1.0"]),
    (["--steps", "3"], ["--steps 3", "expected at least 4"]),
])
def test_resume_refuses_a_change_of_shape_and_bad_values_leaving_the_run_untouched(small_run, capsys, argv,
                                                                                     expected):
    before = snapshot(small_run)
    refused(capsys, ["train", "--out", str(small_run), "--resume", *argv], *expected)
    assert snapshot(small_run) == before


def test_resume_reads_a_checked_config(small_run, capsys):
    config_path = small_run / "config.json"
    config = json.loads(config_path.read_text())

    config_path.write_text("{not json")
    refused(capsys, ["train", "--out", str(small_run), "--resume"], "config.json is not valid JSON")
    config_path.write_text("[1, 2]")
    refused(capsys, ["train", "--out", str(small_run), "--resume"], "expected a JSON object")
    config_path.write_text(json.dumps({**config, "steps": -3}))
    refused(capsys, ["train", "--out", str(small_run), "--resume"], "config.json: steps -3", ">= 1")
    config_path.write_text(json.dumps({**config, "colour": "red"}))
    refused(capsys, ["train", "--out", str(small_run), "--resume"], "unknown option 'colour'")
    config_path.write_text(json.dumps({**config, "lr_g": "fast"}))
    refused(capsys, ["train", "--out", str(small_run), "--resume"], "lr_g 'fast'", "expected a number")

    old = {k: v for k, v in config.items() if k not in ("holdout", "z_categories", "z_noise_scale")}
    config_path.write_text(json.dumps(old))  # a config.json from before those options existed still loads
    assert main(["train", "--out", str(small_run), "--resume", "--steps", "5"]) == 0


def test_resume_needs_a_run(tmp_path, capsys):
    refused(capsys, ["train", "--resume"], "--resume needs --out")
    refused(capsys, ["train", "--resume", "--out", str(tmp_path / "nothing")], "is not a run folder")
    (tmp_path / "empty").mkdir()
    refused(capsys, ["train", "--resume", "--out", str(tmp_path / "empty")], "is not a run folder",
            "config.json is missing")
    assert files_under(tmp_path) == [(tmp_path / "empty").relative_to(tmp_path)]


def test_a_data_set_default_that_cannot_apply_is_dropped(tmp_path):
    config = options.make_config({"dataset": "grid25", "z_categories": 0})
    assert config["z_noise_scale"] == 1.0 and options.validate(config)["z_categories"] == 0


def test_an_old_config_with_a_width_its_architecture_never_used_still_loads(small_run, tmp_path):
    out = tmp_path / "old"
    assert main(["train", "--dataset", "digits", "--arch", "mlp", "--steps", "2", "--frames", "0",
                 "--out", str(out)]) == 0
    config = json.loads((out / "config.json").read_text())
    (out / "config.json").write_text(json.dumps({**config, "width": 32}))  # as older versions recorded it
    assert main(["sample", str(out), "-n", "3", "--out", str(tmp_path / "s.npy")]) == 0


def test_sample_refuses_bad_requests_before_writing(small_run, tmp_path, capsys):
    refused(capsys, ["sample", str(small_run), "-n", "0", "--out", str(tmp_path / "s.npy")], "-n 0", ">= 1")
    refused(capsys, ["sample", str(small_run), "--out", str(tmp_path / "x.txt")], "--out", "x.txt", ".npy or .png")
    refused(capsys, ["sample", str(small_run), "--out", str(tmp_path / "no" / "s.npy")], "existing folder")
    refused(capsys, ["sample", str(tmp_path), "--out", str(tmp_path / "s.npy")], "is not a run folder")
    refused(capsys, ["sample", str(small_run), "--seed", "-1", "--out", str(tmp_path / "s.npy")], "--seed", ">= 0")
    assert not (tmp_path / "s.npy").exists() and not (tmp_path / "x.txt").exists()


def test_every_option_has_one_declaration_that_reaches_parser_config_and_gan():
    parser = build_parser()
    train = parser._subparsers._group_actions[0].choices["train"]
    flags = {s for a in train._actions for s in a.option_strings}
    assert {o.flag for o in options.OPTIONS} <= flags
    for o in options.OPTIONS:  # choices come from the declaration (and so from the registries)
        action = next(a for a in train._actions if o.flag in a.option_strings)
        assert (tuple(action.choices) if action.choices else None) == (o.choices() if o.choices else None)
    config = options.validate(options.make_config({}))
    assert set(config) == {o.name for o in options.OPTIONS}
    assert config["dataset"] == "digits" and config["arch"] == "dcgan" and config["width"] == 32
    # a data set's architecture option is dropped when another architecture is chosen
    assert options.make_config({"arch": "mlp"})["width"] is None
    gan = options.trainer_arguments(config)
    assert gan["betas"] == (config["beta1"], config["beta2"]) and gan["z_dim"] == config["z_dim"]
    assert "l1_weight" not in gan and "latent_dim" not in gan  # other families' keywords
    vae = options.trainer_arguments(options.validate(options.make_config({"model": "vae"})))
    assert vae["lr"] == 1e-3 and vae["betas"] == (0.9, 0.999) and "lr_g" not in vae and "z_dim" not in vae


def test_help_lists_defaults_and_choices():
    out = " ".join(subprocess.run([sys.executable, "-m", "minigan", "train", "--help"], capture_output=True,
                                  text=True, check=True).stdout.split())
    assert "ring8" in out and "dcgan28" in out and "--holdout" in out and "default 2000" in out
    assert "digits 8000" in out  # per-data-set defaults, from the data registry


@pytest.mark.parametrize("value, expected", [("foo", "unknown backend 'foo'"), ("cupy", "pip install")])
def test_a_bad_minigan_backend_variable_is_one_line(tmp_path, value, expected):
    if value == "cupy" and backend.cupy_available():
        pytest.skip("CuPy and a GPU are present here")
    env = {**__import__("os").environ, "MINIGAN_BACKEND": value}
    result = subprocess.run([sys.executable, "-m", "minigan", "train", "--out", str(tmp_path / "x")],
                            capture_output=True, text=True, env=env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and f"MINIGAN_BACKEND={value}" in lines[0] and expected in lines[0], result.stderr
    assert files_under(tmp_path) == []
    # a command that names its backend, or takes none, is not held up by the variable
    for argv in (["--version"], ["train", "--backend", "numpy", "--dataset", "ring8", "--steps", "2",
                                 "--out", str(tmp_path / "ok")]):
        result = subprocess.run([sys.executable, "-m", "minigan", *argv], capture_output=True, text=True, env=env)
        assert result.returncode == 0, result.stderr


def test_the_backend_default_is_the_active_backend():
    assert options.make_config({})["backend"] == backend.name
    assert options.make_config({"backend": "numpy"})["backend"] == "numpy"


def test_damaged_run_files_are_one_line(small_run, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("MINIGAN_CACHE", str(tmp_path / "cache"))
    refused(capsys, ["evaluate", str(small_run), "-n", "1"], "-n 1", "at least 4")
    (small_run / "metrics.json").write_text("[1, 2]")
    refused(capsys, ["evaluate", str(small_run), "-n", "8"], "metrics.json holds a list")
    history = small_run / "history.csv"
    history.write_text(history.read_text().replace("seconds", "secs"))
    before = snapshot(small_run)
    refused(capsys, ["train", "--out", str(small_run), "--resume", "--steps", "6"], "history.csv",
            "not a history.csv minigan wrote")
    assert snapshot(small_run) == before


def test_a_signal_is_not_a_failed_check(monkeypatch):
    from minigan import check
    from minigan.interrupts import Interrupted

    def interrupted():
        raise Interrupted(15, "stopped by SIGTERM")

    monkeypatch.setattr(check, "_adam_item", lambda: interrupted)
    with pytest.raises(Interrupted):
        check.run_check("numpy", out=lambda *a: None)
