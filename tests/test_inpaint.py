"""Restoration by optimising z (minigan.inpaint, minigan inpaint) on a real, briefly trained run."""
import numpy as np
import pytest

from minigan import losses
from minigan.cli import main
from minigan.gradcheck import numerical_gradient, rel_error
from minigan.inpaint import MASKS, STEPS, _forward, check_mask, named_mask, restoration_loss, restore
from minigan.run import load_run

TINY = ["--dataset", "digits", "--steps", "30", "--width", "8", "--z-dim", "8", "--batch-size", "16",
        "--frames", "0"]
SHAPE = (1, 8, 8)


def train(folder, *args):
    assert main(["train", "--out", str(folder), *TINY, *args]) == 0
    return folder


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return train(tmp_path_factory.mktemp("inpaint") / "run")


@pytest.fixture(scope="module")
def gan(run):
    return load_run(run)[1]


def noise_images(n, seed=0, shape=SHAPE):
    """float32 images whose values are not round numbers (a copy error cannot hide behind 0 or 1)."""
    return np.random.default_rng(seed).uniform(-0.999, 0.999, (n, *shape)).astype(np.float32)


def inpaint(tmp_path, run, images, mask, out="out.npy", *extra):
    src = tmp_path / "in.npy"
    np.save(src, images)
    code = main(["inpaint", str(run), "--images", str(src), "--mask", str(mask), "--out", str(tmp_path / out),
                 "--steps", "20", *extra])
    return code, tmp_path / out


# -- masks ----------------------------------------------------------------------------------------------
HIDDEN = {  # (rows, columns) hidden on a 6 x 10 image, from each name's description
    "top": (range(0, 3), range(10)), "bottom": (range(3, 6), range(10)),
    "left": (range(6), range(0, 5)), "right": (range(6), range(5, 10)),
    "center": (range(1, 4), range(2, 7)),
}


@pytest.mark.parametrize("name", MASKS)
def test_each_named_mask_hides_what_it_says(name):
    mask = named_mask(name, (3, 6, 10))
    rows, cols = HIDDEN[name]
    expected = np.ones((6, 10), dtype=np.float32)
    expected[np.ix_(list(rows), list(cols))] = 0
    assert mask.shape == (1, 1, 6, 10) and mask.dtype == np.float32
    assert np.array_equal(mask[0, 0], expected)


def test_bottom_hides_the_lower_half_of_a_digit():
    mask = named_mask("bottom", SHAPE)[0, 0]
    assert (mask[:4] == 1).all() and (mask[4:] == 0).all()


@pytest.mark.parametrize("shape", [(8, 8), (1, 8, 8), (5, 1, 8, 8), (1, 1, 8, 8)])
def test_mask_shapes_broadcast_to_the_images(shape):
    raw = np.random.default_rng(0).integers(0, 2, shape).astype(bool)
    mask = check_mask(raw, (5, 1, 8, 8))
    assert mask.shape == (5, 1, 8, 8) and mask.dtype == np.float32
    assert np.array_equal(mask, np.broadcast_to(raw, (5, 1, 8, 8)))


# -- the loss and its gradient --------------------------------------------------------------------------
@pytest.mark.parametrize("prior_weight", [0.0, 0.3])
def test_gradient_wrt_z_matches_central_differences_in_float64(run, prior_weight):
    _, gan64 = load_run(run)
    G, D = gan64.G.astype("float64").eval(), gan64.D.astype("float64").eval()
    rng = np.random.default_rng(1)
    z = rng.standard_normal((3, gan64.z_dim))
    x = rng.uniform(-1, 1, (3, *SHAPE))
    mask = check_mask(rng.integers(0, 2, (3, *SHAPE)), x.shape).astype(np.float64)
    loss, grad = restoration_loss(G, D, z, x, mask, prior_weight)
    numeric = numerical_gradient(lambda: float(restoration_loss(G, D, z, x, mask, prior_weight)[0].sum()), z)
    assert loss.shape == (3,) and grad.shape == z.shape and np.abs(grad).max() > 1e-3
    assert rel_error(grad, numeric) < 1e-7   # central differences in float64: ~1e-9 when right


def test_the_prior_is_the_nonsaturating_generator_loss_per_image(gan):
    G, D = gan.G.eval(), gan.D.eval()
    z = np.random.default_rng(2).standard_normal((6, gan.z_dim)).astype(np.float32)
    x = noise_images(6)
    ones = np.ones_like(x)
    with_prior = _forward(G, D, z, x, ones, 1.0)[0]
    context = _forward(G, D, z, x, ones, 0.0)[0]
    expected, _ = losses.generator_loss(D(G(z)), "nonsaturating")
    assert np.isclose(float((with_prior - context).mean()), expected, rtol=1e-5)
    assert np.allclose(context, ((G(z) - x) ** 2).mean(axis=(1, 2, 3)), rtol=1e-5)


# -- restore ---------------------------------------------------------------------------------------------
def test_restarts_keep_the_lowest_final_loss(gan):
    x = noise_images(5)
    mask = named_mask("bottom", SHAPE)
    result = restore(gan.G, gan.D, x, mask, gan.z_dim, steps=15, restarts=4, seed=3)
    assert result.losses.shape == (4, 5)
    assert np.array_equal(result.loss, result.losses.min(axis=0))
    assert (result.losses.max(axis=0) > result.losses.min(axis=0)).all()   # the starts did differ
    # the chosen z, recomputed independently, gives the fill and the loss reported
    gan.G.eval(), gan.D.eval()
    loss, fill, _ = _forward(gan.G, gan.D, result.z, x, check_mask(mask, x.shape), 0.01)
    assert np.allclose(fill, result.fill, atol=1e-6) and np.allclose(loss, result.loss, rtol=1e-5)
    assert result.history[-1] < result.history[0]   # Adam on z lowered the loss


def test_restore_leaves_the_models_as_they_were(gan):
    before = {k: v.copy() for k, v in {**gan.G.state_dict(), **gan.D.state_dict()}.items()}
    grads = [g.copy() for model in (gan.G, gan.D) for _, _, g in model.parameters()]
    gan.G.train(), gan.D.train()
    restore(gan.G, gan.D, noise_images(3), named_mask("center", SHAPE), gan.z_dim, steps=3, restarts=2)
    assert gan.G.training and gan.D.training
    after = {**gan.G.state_dict(), **gan.D.state_dict()}
    assert all(np.array_equal(before[k], after[k]) for k in before)
    assert all(np.array_equal(a, g) for a, (_, _, g) in
               zip(grads, [t for model in (gan.G, gan.D) for t in model.parameters()]))


def test_chunks_do_not_change_the_result(gan):
    x = noise_images(7)
    mask = named_mask("left", SHAPE)
    whole = restore(gan.G, gan.D, x, mask, gan.z_dim, steps=5, restarts=2, seed=4)
    parts = restore(gan.G, gan.D, x, mask, gan.z_dim, steps=5, restarts=2, seed=4, batch_size=3)
    assert np.allclose(whole.images, parts.images, atol=1e-5) and np.allclose(whole.z, parts.z, atol=1e-5)


# -- the command ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", MASKS)
def test_inpaint_keeps_visible_pixels_to_the_bit_and_fills_the_hidden(tmp_path, run, name):
    x = noise_images(6)
    code, out = inpaint(tmp_path, run, x, name)
    assert code == 0
    y = np.load(out, allow_pickle=False)
    assert y.shape == x.shape and y.dtype == np.float32 and -1 <= y.min() <= y.max() <= 1
    visible = np.broadcast_to(named_mask(name, SHAPE), x.shape) == 1
    assert np.array_equal(y[visible], x[visible])          # bit for bit
    assert (y[~visible] != x[~visible]).mean() > 0.99      # G's pixels, not the input's noise


@pytest.mark.parametrize("shape", [(8, 8), (1, 8, 8), (4, 1, 8, 8)])
def test_a_file_mask(tmp_path, run, shape):
    x = noise_images(4)
    raw = np.random.default_rng(5).integers(0, 2, shape).astype(np.uint8)
    np.save(tmp_path / "mask.npy", raw)
    code, out = inpaint(tmp_path, run, x, tmp_path / "mask.npy")
    assert code == 0
    y = np.load(out, allow_pickle=False)
    visible = np.broadcast_to(raw, x.shape) == 1
    assert np.array_equal(y[visible], x[visible]) and (y[~visible] != x[~visible]).mean() > 0.99


def test_float64_images_keep_their_float32_values(tmp_path, run):
    x = noise_images(3).astype(np.float64) + 1e-12     # not float32 numbers: kept as float32 rounds them
    code, out = inpaint(tmp_path, run, x, "top")
    y = np.load(out, allow_pickle=False)
    visible = np.broadcast_to(named_mask("top", SHAPE), x.shape) == 1
    assert code == 0 and y.dtype == np.float32 and np.array_equal(y[visible], x.astype(np.float32)[visible])


def test_same_seed_same_output(tmp_path, run):
    x = noise_images(4)
    outs = []
    for i, seed in enumerate(("1", "1", "2")):
        folder = tmp_path / str(i)
        folder.mkdir()
        code, out = inpaint(folder, run, x, "bottom", "out.npy", "--seed", seed)
        assert code == 0
        outs.append(np.load(out, allow_pickle=False))
    assert np.array_equal(outs[0], outs[1]) and not np.array_equal(outs[0], outs[2])


def test_png_shows_masked_and_restored(tmp_path, run, capsys):
    code, out = inpaint(tmp_path, run, noise_images(5), "center", "grid.png")
    assert code == 0 and out.read_bytes()[:4] == b"\x89PNG"
    assert f"wrote {out}" in capsys.readouterr().out


def test_default_steps_are_documented(capsys):
    assert main(["inpaint", "--help"]) == 0
    assert f"(default {STEPS})" in capsys.readouterr().out


def test_a_packed_run_restores_without_the_prior(tmp_path, capsys):
    packed = train(tmp_path / "packed", "--pack", "2")
    code, out = inpaint(tmp_path, packed, noise_images(3), "bottom")
    assert code == 0 and out.is_file()
    assert "without D's prior" in capsys.readouterr().err


# -- refusals: exit 2, one line, no traceback, nothing written ----------------------------------------------
def corrupt_config(tmp_path, run):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "config.json").write_text("{not json")
    return bad


def truncated_checkpoint(tmp_path, run):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "config.json").write_text((run / "config.json").read_text())
    (bad / "checkpoint.npz").write_bytes((run / "checkpoint.npz").read_bytes()[:500])
    return bad


def points_run(tmp_path, run):
    folder = tmp_path / "ring"
    assert main(["train", "--out", str(folder), "--dataset", "ring8", "--steps", "2"]) == 0
    return folder


def save(tmp_path, name, array, allow_pickle=False):
    np.save(tmp_path / name, array, allow_pickle=allow_pickle)
    return tmp_path / name


def garbage(tmp_path, name):
    (tmp_path / name).write_bytes(b"this is not an array")
    return tmp_path / name


# each case: (what to change, a word the message must hold); a case returns (run, images, mask, out, steps)
CASES = {
    "missing run folder": (lambda t, r: (t / "nope", None, None, None, None), "no such folder"),
    "corrupt config.json": (lambda t, r: (corrupt_config(t, r), None, None, None, None), "not valid JSON"),
    "truncated checkpoint": (lambda t, r: (truncated_checkpoint(t, r), None, None, None, None), "checkpoint"),
    "2-D run": (lambda t, r: (points_run(t, r), None, None, None, None), "2-D points"),
    "integer images": (lambda t, r: (None, save(t, "i.npy", np.zeros((2, *SHAPE), np.int64)), None, None, None),
                       "floating-point"),
    "wrong image shape": (lambda t, r: (None, save(t, "i.npy", noise_images(2, shape=(1, 4, 4))), None, None,
                                        None), "(N, 1, 8, 8)"),
    "3-D images": (lambda t, r: (None, save(t, "i.npy", noise_images(2)[:, 0]), None, None, None), "shape"),
    "values above 1": (lambda t, r: (None, save(t, "i.npy", noise_images(2) * 2), None, None, None), "[-1, 1]"),
    "NaN": (lambda t, r: (None, save(t, "i.npy", np.full((2, *SHAPE), np.nan, np.float32)), None, None, None),
            "finite"),
    "pickled images": (lambda t, r: (None, save(t, "i.npy", np.array([{"a": 1}], dtype=object), True), None,
                                     None, None), "not a readable"),
    "garbage images": (lambda t, r: (None, garbage(t, "i.npy"), None, None, None), "not a readable"),
    "missing images": (lambda t, r: (None, t / "none.npy", None, None, None), "no such file"),
    "mask of the wrong shape": (lambda t, r: (None, None, save(t, "m.npy", np.ones((4, 4))), None, None), "fit"),
    "mask not 0/1": (lambda t, r: (None, None, save(t, "m.npy", np.full(SHAPE, 0.5)), None, None), "0 (hidden)"),
    "unknown mask name": (lambda t, r: (None, None, "middle", None, None), "center, left"),
    "steps 0": (lambda t, r: (None, None, None, None, "0"), "--steps"),
    "out suffix": (lambda t, r: (None, None, None, t / "out.txt", None), ".npy or .png"),
    "out folder missing": (lambda t, r: (None, None, None, t / "no" / "out.npy", None), "existing folder"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_refusals_are_one_line_exit_2_and_write_nothing(tmp_path, run, capsys, case):
    make, word = CASES[case]
    bad_run, images, mask, out, steps = make(tmp_path, run)
    if images is None:
        images = save(tmp_path, "good.npy", noise_images(2))
    out = out or tmp_path / "out.npy"
    capsys.readouterr()   # what training a 2-D run printed
    code = main(["inpaint", str(bad_run or run), "--images", str(images), "--mask", str(mask or "bottom"),
                 "--out", str(out), "--steps", steps or "5"])
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and word in err and "Traceback" not in err, err
    assert not [p.name for p in tmp_path.rglob("*out*")]   # no OUT file, no temporary one either
