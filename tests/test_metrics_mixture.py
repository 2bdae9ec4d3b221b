"""The 2-D mixture protocol: captured modes, high-quality fraction, reverse KL, summaries over seeds."""
import math

import numpy as np
import pytest

from minigan.data import sample_toy, toy_means, toy_std
from minigan.metrics import evaluate_mixture, evaluate_toy, summarize

# Fraction of a 2-D isotropic Gaussian within 3 std of its mean (Rayleigh distribution).
HQ_OF_PERFECT_SAMPLES = 1 - math.exp(-9 / 2)


@pytest.mark.parametrize("name", ["ring8", "grid25"])
def test_perfect_samples_score_every_mode(name):
    result = evaluate_toy(sample_toy(name, 2500, np.random.default_rng(0)), name)
    k = len(toy_means(name))
    assert result["modes"] == result["num_modes"] == k
    assert result["num_samples"] == 2500 and sum(result["counts"]) == 2500
    assert result["hq_fraction"] == pytest.approx(HQ_OF_PERFECT_SAMPLES, abs=0.01)
    assert 0 <= result["rev_kl"] < 0.01


def test_three_of_eight_modes_score_three_and_log_8_over_3():
    means, std = toy_means("ring8"), toy_std("ring8")
    rng = np.random.default_rng(1)
    chosen = np.repeat([0, 3, 5], 200)
    samples = means[chosen] + std * rng.standard_normal((len(chosen), 2))
    result = evaluate_mixture(samples.astype(np.float32), means, std)
    assert result["modes"] == 3
    assert result["counts"] == [200, 0, 0, 200, 0, 200, 0, 0]
    assert result["rev_kl"] == pytest.approx(math.log(8 / 3), rel=1e-12)


def test_samples_far_from_every_mode_are_not_high_quality():
    samples = np.full((100, 2), 10.0)
    result = evaluate_toy(samples, "grid25")
    assert result["modes"] == 0 and result["hq_fraction"] == 0.0
    # all nearest to the corner (4, 4): one mode holds everything, the maximal reverse KL
    assert result["rev_kl"] == pytest.approx(math.log(25))


def test_hand_built_case():
    means = [(0, 0), (1, 0), (1, 1)]
    std = 0.1  # HQ radius 0.3
    samples = np.array([
        (0.05, 0.0),   # mode 0, distance 0.05: HQ
        (0.1, 0.1),    # mode 0, distance 0.141: HQ
        (0.9, 0.0),    # mode 1, distance 0.1: HQ
        (0.6, 0.0),    # mode 1 (0.4 away, 0.6 from mode 0): not HQ
        (1.0, 0.55),   # mode 2 (0.45 away, 0.55 from mode 1): not HQ, so mode 2 is not captured
    ])
    result = evaluate_mixture(samples, means, std)
    assert result["counts"] == [2, 2, 1]
    assert result["modes"] == 2
    assert result["hq_fraction"] == pytest.approx(3 / 5)
    expected_kl = 2 * (0.4 * math.log(0.4 * 3)) + 0.2 * math.log(0.2 * 3)
    assert result["rev_kl"] == pytest.approx(expected_kl, rel=1e-12)


def test_non_finite_samples_are_refused_with_a_count():
    samples = np.zeros((10, 2))
    samples[2, 0] = np.nan
    samples[5, 1] = np.inf
    samples[7] = np.nan
    with pytest.raises(ValueError, match="3 of 10 samples contain NaN or inf"):
        evaluate_toy(samples, "ring8")


@pytest.mark.parametrize("shape", [(10,), (10, 3), (2, 5, 2), (0, 2)])
def test_wrong_shape_is_refused(shape):
    with pytest.raises(ValueError, match=rf"\(N, 2\).*received shape \({shape[0]},"):
        evaluate_toy(np.zeros(shape), "ring8")


def test_summarize_gives_mean_and_standard_error():
    results = [
        {"modes": 8, "hq_fraction": 0.9, "rev_kl": 0.1},
        {"modes": 7, "hq_fraction": 0.8, "rev_kl": 0.3},
        {"modes": 6, "hq_fraction": 0.7, "rev_kl": 0.2},
    ]
    summary = summarize(results)
    assert summary["num_seeds"] == 3
    # sample std (ddof=1) of (8, 7, 6) is 1; standard error 1 / sqrt(3)
    assert summary["modes"]["mean"] == pytest.approx(7)
    assert summary["modes"]["stderr"] == pytest.approx(1 / math.sqrt(3))
    assert summary["hq_fraction"]["mean"] == pytest.approx(0.8)
    assert summary["hq_fraction"]["stderr"] == pytest.approx(0.1 / math.sqrt(3))
    assert summary["rev_kl"]["mean"] == pytest.approx(0.2)
    assert summary["rev_kl"]["stderr"] == pytest.approx(0.1 / math.sqrt(3))


def test_summarize_one_seed_has_zero_error_and_none_is_refused():
    one = summarize([{"modes": 8, "hq_fraction": 1.0, "rev_kl": 0.0}])
    assert one["modes"] == {"mean": 8.0, "stderr": 0.0}
    with pytest.raises(ValueError, match="at least one"):
        summarize([])
