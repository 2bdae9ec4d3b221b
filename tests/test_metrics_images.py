"""The image evaluation toolkit: the classifier, its cache, and the figures built on it (on the 8x8 digits)."""
import json
import math

import numpy as np
import pytest

from minigan import backend
from minigan.data import load_digits
from minigan.gradcheck import numerical_gradient, rel_error
from minigan.metrics import classifier as clf_module
from minigan.metrics import images as images_module
from minigan.metrics.classifier import (default_cache_dir, load_or_train_classifier, make_classifier, softmax,
                                        softmax_cross_entropy, train_classifier)
from minigan.metrics.images import (FIGURES, class_coverage, classifier_score, evaluate_images, format_table,
                                    frechet_distance, precision_recall_knn)


def quiet(_message):
    pass


# -- softmax cross-entropy ------------------------------------------------------------------------

def test_softmax_cross_entropy_gradient_matches_central_differences(rng):
    logits = rng.standard_normal((6, 5)) * 3
    labels = np.array([0, 4, 2, 2, 1, 3])
    _, grad = softmax_cross_entropy(logits, labels)
    numeric = numerical_gradient(lambda: softmax_cross_entropy(logits, labels)[0], logits)
    assert rel_error(grad, numeric) < 1e-7


def test_softmax_cross_entropy_is_stable_and_exact_for_huge_logits():
    logits = np.array([[1e4, 0.0, -1e4], [0.0, 0.0, 0.0]])
    value, grad = softmax_cross_entropy(logits, np.array([1, 2]))
    # row 1: -log p = 1e4 exactly (up to exp(-1e4)); row 2: log 3
    assert value == pytest.approx((1e4 + math.log(3)) / 2, rel=1e-12)
    assert np.isfinite(grad).all()
    probs = softmax(logits)
    assert np.allclose(probs.sum(axis=1), 1) and probs[0, 0] == 1.0


def test_softmax_cross_entropy_refuses_out_of_range_labels():
    with pytest.raises(ValueError, match="labels must lie in 0..2"):
        softmax_cross_entropy(np.zeros((2, 3)), np.array([0, 3]))


# -- the classifier --------------------------------------------------------------------------------

@pytest.mark.parametrize("shape, features", [((1, 28, 28), 128), ((1, 8, 8), 64), ((3, 10, 12), 64)])
def test_classifier_shapes(shape, features):
    model = make_classifier(shape)
    x = np.zeros((3, *shape), dtype=np.float32)
    assert model.feature_dim == features
    assert model.features(x).shape == (3, features) and model.features(x).dtype == np.float64
    probs = model.predict_proba(x)
    assert probs.shape == (3, 10) and np.allclose(probs.sum(axis=1), 1)
    assert model.training  # the batched eval-mode pass restores the mode it found
    assert model.pending() == 0  # and, never back-propagated, it runs under no_grad


def test_classifier_architecture_for_28x28_is_the_documented_one():
    layers = [repr(layer) for layer in make_classifier((1, 28, 28)).layers]
    assert layers[0].startswith("Conv2d(1, 32, kernel_size=3, stride=1, padding=1")
    assert layers[2].startswith("Conv2d(32, 64, kernel_size=4, stride=2, padding=1")
    assert layers[5].startswith("Conv2d(64, 64, kernel_size=4, stride=2, padding=1")
    assert layers[8:] == ["Dense(3136, 128, bias=True)", "LeakyReLU(0.2)", "Dense(128, 10, bias=True)"]


@pytest.mark.parametrize("shape", [(1, 4, 4), (8, 8), (1, 28, 7), (0, 8, 8)])
def test_classifier_refuses_shapes_it_cannot_handle(shape):
    with pytest.raises(ValueError, match="image shape"):
        make_classifier(shape)


def test_classifier_refuses_images_of_another_shape():
    with pytest.raises(ValueError, match=r"expected images of shape \(N, 1, 8, 8\)"):
        make_classifier((1, 8, 8)).predict_proba(np.zeros((2, 1, 28, 28), dtype=np.float32))


@pytest.fixture(scope="module")
def digits():
    return load_digits()


@pytest.fixture(scope="module")
def trained(digits):
    """(model, accuracy, log lines): the digits classifier, trained once for the module (~2 s)."""
    lines = []
    model, accuracy = train_classifier(*digits, epochs=8, log=lines.append)
    return model, accuracy, lines


def test_digits_classifier_reaches_90_percent_held_out(trained):
    model, accuracy, lines = trained
    assert accuracy > 0.9
    assert model.accuracy == accuracy and not model.training
    assert 1 <= len(lines) <= 6 and "held-out accuracy" in lines[-1]


def test_training_is_reproducible_and_leaves_the_global_generator_alone(digits):
    images, labels = digits[0][:200], digits[1][:200]
    before = backend.host_rng().bit_generator.state
    first, _ = train_classifier(images, labels, epochs=1, batch_size=64, log=quiet)
    assert backend.host_rng().bit_generator.state == before
    second, _ = train_classifier(images, labels, epochs=1, batch_size=64, log=quiet)
    for name, value in first.state_dict().items():
        assert np.array_equal(value, second.state_dict()[name]), name


# -- the cache -------------------------------------------------------------------------------------

def test_cache_round_trip_skips_training_and_retrains_a_corrupt_file(digits, tmp_path, monkeypatch):
    images, labels = digits[0][:400], digits[1][:400]
    lines = []
    model, accuracy = load_or_train_classifier("digits", images, labels, cache_dir=tmp_path, epochs=2,
                                               log=lines.append)
    weights = list(tmp_path.glob("*.npz"))
    assert len(weights) == 1 and "digits-1x8x8-v1-" in weights[0].name
    meta = json.loads(weights[0].with_suffix(".json").read_text())
    assert meta["heldout_accuracy"] == accuracy and meta["dataset"] == "digits"

    def no_training(*args, **kwargs):
        raise AssertionError("the cached classifier should have been loaded")

    with monkeypatch.context() as m:
        m.setattr(clf_module, "train_classifier", no_training)
        cached, cached_accuracy = load_or_train_classifier("digits", images, labels, cache_dir=tmp_path,
                                                           epochs=2, log=quiet)
    assert cached_accuracy == accuracy == cached.accuracy
    assert np.array_equal(cached.predict_proba(images[:50]), model.predict_proba(images[:50]))

    weights[0].write_bytes(b"not an npz archive")
    lines.clear()
    retrained, retrained_accuracy = load_or_train_classifier("digits", images, labels, cache_dir=tmp_path,
                                                             epochs=2, log=lines.append)
    assert any("unusable" in line for line in lines)
    assert retrained_accuracy == accuracy  # same data, settings and seed: the same classifier again
    clf_module.load_arrays(weights[0])  # and the file was rewritten whole


def test_other_data_get_another_cache_file(digits, tmp_path):
    images, labels = digits[0][:200], digits[1][:200]
    load_or_train_classifier("digits", images, labels, cache_dir=tmp_path, epochs=1, log=quiet)
    changed = images.copy()
    changed[0, 0, 0, 0] += 0.5
    load_or_train_classifier("digits", changed, labels, cache_dir=tmp_path, epochs=1, log=quiet)
    assert len(list(tmp_path.glob("*.npz"))) == 2


def test_default_cache_folder_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("MINIGAN_CACHE", str(tmp_path / "a"))
    assert default_cache_dir() == tmp_path / "a"
    monkeypatch.delenv("MINIGAN_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "b"))
    assert default_cache_dir() == tmp_path / "b" / "minigan"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "c"))
    assert default_cache_dir() == tmp_path / "c" / ".cache" / "minigan"


# -- figures from probabilities --------------------------------------------------------------------

def one_hot(classes, k=10):
    return np.eye(k)[np.asarray(classes)]


def test_class_coverage_counts_classes_above_one_percent():
    # class 1 is predicted 10 times out of 1005 (0.995 %) and class 2 five times: both below 1 %
    probs = one_hot([0] * 990 + [1] * 10 + [2] * 5, k=4)
    covered, kl = class_coverage(probs)
    q = np.array([990, 10, 5]) / 1005
    assert covered == 1
    assert kl == pytest.approx(np.sum(q * np.log(q * 4)), rel=1e-12)
    assert class_coverage(one_hot(np.arange(1000) % 10)) == (10, pytest.approx(0.0, abs=1e-12))
    assert class_coverage(one_hot([3] * 50))[1] == pytest.approx(math.log(10))


def test_classifier_score_ranges_from_one_to_k():
    assert classifier_score(one_hot(np.arange(100) % 10)) == pytest.approx(10)
    assert classifier_score(one_hot([7] * 100)) == pytest.approx(1)
    assert classifier_score(np.full((100, 10), 0.1)) == pytest.approx(1)


# -- Fréchet distance ------------------------------------------------------------------------------

def axis_cloud(mean, scales):
    """2F points mean +- s_i e_i: sample mean exactly ``mean``, sample covariance diag(2 s_i^2 / (2F - 1))."""
    f = len(mean)
    offsets = np.concatenate([np.diag(scales), -np.diag(scales)])
    return np.asarray(mean) + offsets, 2 * np.asarray(scales) ** 2 / (2 * f - 1)


def test_frechet_distance_of_diagonal_covariances_has_the_closed_form():
    a, var_a = axis_cloud([0.0, 1.0, 2.0], [1.0, 2.0, 0.5])
    b, var_b = axis_cloud([1.0, 1.0, 0.0], [3.0, 0.1, 0.5])
    expected = 1 + 4 + np.sum((np.sqrt(var_a) - np.sqrt(var_b)) ** 2)
    assert frechet_distance(a, b) == pytest.approx(expected, rel=1e-12)
    assert frechet_distance(b, a) == pytest.approx(expected, rel=1e-12)


def test_frechet_distance_of_a_set_to_itself_and_to_its_translate(rng):
    x = rng.standard_normal((300, 16)) @ rng.standard_normal((16, 16))
    assert frechet_distance(x, x) == pytest.approx(0, abs=1e-9)
    shift = rng.standard_normal(16)
    assert frechet_distance(x, x + shift) == pytest.approx(np.sum(shift ** 2), rel=1e-9)


def test_frechet_distance_agrees_with_scipy_sqrtm(rng):
    linalg = pytest.importorskip("scipy.linalg")
    a = rng.standard_normal((200, 8)) @ rng.standard_normal((8, 8))
    b = rng.standard_normal((150, 8)) @ rng.standard_normal((8, 8)) + 0.5
    s_a, s_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    expected = (np.sum((a.mean(0) - b.mean(0)) ** 2)
                + np.trace(s_a + s_b - 2 * linalg.sqrtm(s_a @ s_b).real))
    assert frechet_distance(a, b) == pytest.approx(expected, rel=1e-9)


# -- k-NN precision and recall ---------------------------------------------------------------------

def test_precision_recall_on_a_line_where_the_balls_can_be_counted():
    real = np.arange(10.0)[:, None]  # k=3 radii: 3 at the ends (0, 9), 2 inside -> manifold [-3, 12]
    fake = np.array([0, 0.5, 1, 1.5, 2, 2.5, 12, 13, 14, 15])[:, None]
    # fake radii: 1.5 at 0 and 2.5, 1 for 0.5..2, 3 at 12 and 15, 2 at 13 and 14 -> [-1.5, 4] and [9, 18]
    precision, recall = precision_recall_knn(real, fake, k=3)
    assert precision == 0.7  # 0..2.5 and 12 (on the boundary of 9's ball: distance <= radius counts)
    assert recall == 0.6     # 0, 1, 2, 3, 4 and 9


def test_precision_recall_chunks_agree_with_a_direct_computation(rng, monkeypatch):
    real, fake = rng.standard_normal((40, 3)), rng.standard_normal((30, 3)) + 0.7

    def direct(centres, points, k):
        d = np.linalg.norm(centres[:, None] - centres[None], axis=2)
        radii = np.sort(d, axis=1)[:, k]  # column 0 is the point itself
        return np.mean((np.linalg.norm(points[:, None] - centres[None], axis=2) <= radii).any(axis=1))

    monkeypatch.setattr(images_module, "CHUNK_ENTRIES", 7 * 40)  # 7-row chunks: boundaries exercised
    assert precision_recall_knn(real, fake, k=3) == (direct(real, fake, 3), direct(fake, real, 3))


# -- the whole evaluation on the digits ------------------------------------------------------------

@pytest.fixture(scope="module")
def digit_sets(digits):
    """(held-out real, reference real): the digits split in two halves by a seeded permutation."""
    order = np.random.default_rng(0).permutation(len(digits[0]))
    half = len(order) // 2
    return digits[0][order[:half]], digits[0][order[half:]]


@pytest.fixture(scope="module")
def real_result(trained, digit_sets):
    held_out, reference = digit_sets
    return evaluate_images(held_out, held_out, reference, trained[0])


def test_real_digits_score_near_perfectly(real_result, trained):
    figures = real_result["real"]
    assert real_result["generated"] == figures  # the same images in both columns
    assert figures["classes_covered"] == 10 and figures["kl_to_uniform"] < 0.05
    assert figures["classifier_score"] > 8
    assert figures["precision"] > 0.6 and figures["recall"] > 0.6
    assert figures["frechet_distance"] < 5
    assert real_result["classifier_accuracy"] == trained[1]
    assert real_result["num_samples"] == real_result["num_real_eval"] == 898
    assert real_result["num_reference"] == 899 and real_result["num_classes"] == 10 and real_result["k"] == 3


@pytest.mark.parametrize("kind", ["copies of one image", "uniform noise"])
def test_degenerate_generators_score_visibly_worse(kind, trained, digit_sets, real_result):
    held_out, reference = digit_sets
    if kind == "copies of one image":
        fake = np.repeat(held_out[:1], len(held_out), axis=0)
    else:
        fake = np.random.default_rng(0).uniform(-1, 1, held_out.shape).astype(np.float32)
    result = evaluate_images(fake, held_out, reference, trained[0])
    fake_fig, real_fig = result["generated"], result["real"]
    assert real_fig == real_result["real"]
    assert fake_fig["recall"] < 0.2 < 0.6 < real_fig["recall"]
    assert fake_fig["frechet_distance"] > 10 * real_fig["frechet_distance"]
    assert fake_fig["classifier_score"] < real_fig["classifier_score"] / 2
    assert fake_fig["kl_to_uniform"] > real_fig["kl_to_uniform"]
    if kind == "copies of one image":
        assert fake_fig["classes_covered"] == 1 and fake_fig["kl_to_uniform"] == pytest.approx(math.log(10))


def test_evaluation_refuses_images_with_nan(trained, digit_sets):
    held_out, reference = digit_sets
    bad = held_out.copy()
    bad[3, 0, 2, 2] = np.nan
    with pytest.raises(ValueError, match="1 of 898 images contain NaN"):
        evaluate_images(bad, held_out, reference, trained[0])


def test_result_is_json_ready_and_printed_as_a_table(real_result):
    assert json.loads(json.dumps(real_result)) == real_result
    table = format_table(real_result)
    lines = table.splitlines()
    assert "generated" in lines[1] and "real (held-out)" in lines[1]
    assert len(lines) == 2 + len(FIGURES)
    assert lines[2].split()[-2:] == ["10", "10"]  # classes covered, both columns
    assert "Frechet distance" in table and "accuracy" in lines[0]
