"""Figures for generated images, measured through the evaluation classifier (``classifier.py``).

Every figure is computed for the generated images AND for held-out real images, both against a
reference set of real images, so a reader sees what "good" looks like for this classifier:
- classes covered and KL(predicted-class histogram || uniform): mode coverage, as the 2-D
  protocol's captured modes and reverse KL, with the classifier's argmax standing in for
  "nearest mode";
- the classifier score exp(E_x KL(p(y|x) || p(y))): the Inception Score of Salimans et al.,
  "Improved Techniques for Training GANs" (2016), with this classifier instead of Inception-v3;
- the Fréchet distance between Gaussians fitted to penultimate features: FID (Heusel et al.,
  "GANs Trained by a Two Time-Scale Update Rule Converge to a Local Nash Equilibrium", 2017);
- k-NN precision and recall: Kynkäänniemi et al., "Improved Precision and Recall Metric for
  Assessing Generative Models" (2019), k = 3.
All math runs on the host in NumPy float64; arrays of features or probabilities are NumPy arrays.
"""
from __future__ import annotations

import math

import numpy as np

from ..backend import to_numpy

FIGURES = ("classes_covered", "kl_to_uniform", "classifier_score", "frechet_distance", "precision", "recall")
# Entries in a chunk of pairwise distances: 2^23 float64 = 64 MiB, whatever the set sizes.
CHUNK_ENTRIES = 1 << 23


def _check_probs(probs) -> np.ndarray:
    probs = np.asarray(to_numpy(probs), dtype=np.float64)
    if probs.ndim != 2 or probs.shape[0] < 1 or probs.shape[1] < 2:
        raise ValueError(f"expected class probabilities of shape (N, K) with N >= 1, K >= 2, got {probs.shape}")
    return probs


def _check_features(feats, name: str, min_rows: int) -> np.ndarray:
    feats = np.asarray(to_numpy(feats), dtype=np.float64)
    if feats.ndim != 2 or feats.shape[0] < min_rows:
        raise ValueError(f"{name}: expected features of shape (N, F) with N >= {min_rows}, got {feats.shape}")
    if not np.isfinite(feats).all():
        raise ValueError(f"{name}: features contain NaN or inf")
    return feats


# -- figures from class probabilities -------------------------------------------------------------

def class_coverage(probs, min_fraction: float = 0.01) -> tuple[int, float]:
    """(classes covered, KL of the predicted-class histogram to uniform), from probs (N, K).

    The predicted class of a sample is argmax_k p(k|x); q_k is the fraction of samples predicted k.
    Covered: classes with q_k >= min_fraction (and at least one sample). Why 1 % rather than
    "predicted once": the classifier is wrong on a few % of real images, and those errors
    scatter single predictions over other classes, so "once" would credit a generator that
    collapsed onto a few classes with classes it never draws; 1 % lies well below the 1/K
    (10 %) a balanced generator gives each class.
    KL(q || uniform) = sum over q_k > 0 of q_k log(q_k K): 0 when balanced, log K for one class.
    """
    probs = _check_probs(probs)
    n, k = probs.shape
    q = np.bincount(probs.argmax(axis=1), minlength=k) / n
    covered = int(np.count_nonzero(q >= max(min_fraction, 1 / n)))
    present = q[q > 0]
    return covered, float(np.sum(present * np.log(present * k)))


def classifier_score(probs, eps: float = 1e-12) -> float:
    """exp(E_x KL(p(y|x) || p(y))), the Inception Score with this classifier; probs (N, K).

    p(y) = mean over x of p(y|x). Between 1 (every prediction the same, or every one uniform)
    and K (confident predictions spread evenly). Logs of probabilities below eps are taken
    at eps: the term p log p -> 0 as p -> 0, so a zero probability adds nothing, not NaN.
    """
    probs = _check_probs(probs)
    log_p = np.log(np.maximum(probs, eps))
    log_marginal = np.log(np.maximum(probs.mean(axis=0), eps))
    kl = np.sum(probs * (log_p - log_marginal), axis=1)
    return float(np.exp(kl.mean()))


# -- Fréchet distance ------------------------------------------------------------------------------

def _psd_sqrt(s: np.ndarray) -> np.ndarray:
    """The symmetric square root of a symmetric positive semi-definite matrix, by eigh.

    Rounding can leave eigenvalues of a PSD matrix slightly below zero; they are clipped to 0.
    """
    w, v = np.linalg.eigh(s)
    return (v * np.sqrt(np.clip(w, 0, None))) @ v.T


def frechet_distance(feat_a, feat_b) -> float:
    """Fréchet (2-Wasserstein) distance between Gaussians fitted to feat_a (Na, F) and feat_b (Nb, F):

        ||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^{1/2})

    mu: feature means; S: covariances (unbiased, ddof = 1), so N >= 2 in each set.
    Tr (S_a S_b)^{1/2} = sum of sqrt(eigenvalues of S_a^{1/2} S_b S_a^{1/2}): that matrix is similar
    to S_a S_b (same eigenvalues) but symmetric PSD, so eigh applies and no scipy.linalg.sqrtm is
    needed. Rounding may leave the result a hair below 0; it is clipped to 0.
    """
    a, b = _check_features(feat_a, "feat_a", 2), _check_features(feat_b, "feat_b", 2)
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"frechet_distance: feature sizes differ, {a.shape[1]} vs {b.shape[1]}")
    mean_term = float(np.sum((a.mean(axis=0) - b.mean(axis=0)) ** 2))
    s_a, s_b = np.atleast_2d(np.cov(a, rowvar=False)), np.atleast_2d(np.cov(b, rowvar=False))
    root_a = _psd_sqrt(s_a)
    middle = root_a @ s_b @ root_a
    eig = np.linalg.eigvalsh((middle + middle.T) / 2)  # symmetrised: rounding breaks the exact symmetry
    trace_root = float(np.sum(np.sqrt(np.clip(eig, 0, None))))
    return max(0.0, mean_term + float(np.trace(s_a) + np.trace(s_b)) - 2 * trace_root)


# -- k-NN precision and recall ---------------------------------------------------------------------

def _chunks(num_rows: int, num_cols: int):
    """Row slices such that a (rows, num_cols) block holds at most CHUNK_ENTRIES values."""
    step = max(1, CHUNK_ENTRIES // max(1, num_cols))
    return (slice(i, min(i + step, num_rows)) for i in range(0, num_rows, step))


def _sq_distances(x: np.ndarray, y: np.ndarray, y_sq: np.ndarray) -> np.ndarray:
    """Squared Euclidean distances (len(x), len(y)) as |x|^2 + |y|^2 - 2 x.y: one GEMM, never an
    (Nx, Ny, F) array. Cancellation can make an entry slightly negative; clipped to 0."""
    d2 = np.sum(x * x, axis=1)[:, None] + y_sq[None, :] - 2 * (x @ y.T)
    return np.maximum(d2, 0, out=d2)


def _knn_radii_sq(x: np.ndarray, k: int) -> np.ndarray:
    """Squared distance from each row of x (N, F) to its k-th nearest OTHER row of x: (N,)."""
    x_sq = np.sum(x * x, axis=1)
    radii = np.empty(len(x))
    for rows in _chunks(len(x), len(x)):
        d2 = _sq_distances(x[rows], x, x_sq)
        d2[np.arange(d2.shape[0]), np.arange(rows.start, rows.stop)] = np.inf  # a point is not its own neighbour
        radii[rows] = np.partition(d2, k - 1, axis=1)[:, k - 1]
    return radii


def _fraction_inside(points: np.ndarray, centres: np.ndarray, radii_sq: np.ndarray) -> float:
    """Fraction of points lying in the union of the balls (centres, radii): distance <= radius for one."""
    c_sq = np.sum(centres * centres, axis=1)
    inside = np.zeros(len(points), dtype=bool)
    for rows in _chunks(len(points), len(centres)):
        inside[rows] = (_sq_distances(points[rows], centres, c_sq) <= radii_sq[None, :]).any(axis=1)
    return float(inside.mean())


def precision_recall_knn(real_feats, fake_feats, k: int = 3) -> tuple[float, float]:
    """Improved precision and recall (Kynkäänniemi et al. 2019): real_feats (Nr, F), fake_feats (Nf, F).

    The manifold of a set is the union of balls, one around each of its points, of radius the
    distance to that point's k-th nearest neighbour in the same set (itself excluded).
      precision = fraction of fake points inside the real manifold   (are samples realistic?)
      recall    = fraction of real points inside the fake manifold   (is the data's variety covered?)
    Both sets need more than k points. Memory stays bounded: distances are computed in row
    chunks of at most CHUNK_ENTRIES values.
    """
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    real = _check_features(real_feats, "real_feats", k + 1)
    fake = _check_features(fake_feats, "fake_feats", k + 1)
    if real.shape[1] != fake.shape[1]:
        raise ValueError(f"precision_recall_knn: feature sizes differ, {real.shape[1]} vs {fake.shape[1]}")
    precision = _fraction_inside(fake, real, _knn_radii_sq(real, k))
    recall = _fraction_inside(real, fake, _knn_radii_sq(fake, k))
    return precision, recall


def nearest_distance(queries, references) -> float:
    """Mean over the rows of ``queries`` (N, ...) of the Euclidean distance to the nearest row of
    ``references`` (M, ...), both flattened: the memorisation check. A generator that copies its
    training images scores near 0 against them; one that generalises scores about what unseen
    real images score. Distances are computed in row chunks of at most CHUNK_ENTRIES values."""
    q = np.asarray(to_numpy(queries), dtype=np.float64).reshape(len(queries), -1)
    r = np.asarray(to_numpy(references), dtype=np.float64).reshape(len(references), -1)
    if len(q) < 1 or len(r) < 1 or q.shape[1] != r.shape[1]:
        raise ValueError(f"nearest_distance: expected two non-empty sets of equal sample size, got {q.shape} "
                         f"and {r.shape}")
    r_sq = np.sum(r * r, axis=1)
    nearest = np.empty(len(q))
    for rows in _chunks(len(q), len(r)):
        nearest[rows] = np.sqrt(_sq_distances(q[rows], r, r_sq).min(axis=1))
    return float(nearest.mean())


# -- the whole evaluation ---------------------------------------------------------------------------

def _as_images(images, name: str) -> np.ndarray:
    images = np.asarray(to_numpy(images))
    if images.ndim != 4 or images.dtype.kind != "f":
        raise ValueError(f"{name}: expected floating-point images (N, C, H, W), got {images.shape} {images.dtype}")
    bad = int(np.count_nonzero(~np.isfinite(images.reshape(len(images), -1)).all(axis=1)))
    if bad:
        raise ValueError(f"{name}: {bad} of {len(images)} images contain NaN or inf")
    return images


LABEL_FREE = ("frechet_distance", "precision", "recall")  # the figures that need no class probabilities


class PixelFeatures:
    """The feature map of a data set without labels (no classifier can be trained): each image reduced
    by area means to at most ``side`` x ``side`` pixels per channel, flattened. ``features_and_proba``
    gives (features, None): no class probabilities, so only the LABEL_FREE figures are computed."""
    num_classes = None
    accuracy = None

    def __init__(self, side: int = 8):
        self.side = side

    def features_and_proba(self, images):
        images = np.asarray(to_numpy(images), dtype=np.float64)
        n, c, h, w = images.shape
        bh, bw = max(1, h // self.side), max(1, w // self.side)
        cropped = images[:, :, :h - h % bh, :w - w % bw]
        small = cropped.reshape(n, c, cropped.shape[2] // bh, bh, cropped.shape[3] // bw, bw).mean(axis=(3, 5))
        return small.reshape(n, -1), None


def _figures(feats: np.ndarray, probs, ref_feats: np.ndarray, k: int) -> dict:
    precision, recall = precision_recall_knn(ref_feats, feats, k)
    figures = {"frechet_distance": frechet_distance(feats, ref_feats), "precision": precision, "recall": recall}
    if probs is None:  # no labels: the label-free figures only
        return figures
    covered, kl = class_coverage(probs)
    return {"classes_covered": covered, "kl_to_uniform": kl, "classifier_score": classifier_score(probs),
            **figures}


def evaluate_images(generated, real_eval, real_reference, classifier, k: int = 3, labels=None) -> dict:
    """Score ``generated`` and, for comparison, ``real_eval`` against ``real_reference``.

    generated, real_eval, real_reference: images (N, C, H, W) in [-1, 1] of the classifier's
    shape. real_eval are held-out real images, ideally as many as generated (k-NN radii and
    covariance estimates depend on the set size, so equal sizes make the columns comparable);
    real_reference gives the reference features (FD) and the real manifold (precision/recall).
    Returns a JSON-ready dict:
      "generated", "real": each {figure: value} for the FIGURES keys (classes_covered an int)
      "num_samples" (len(generated)), "num_real_eval", "num_reference", "num_classes", "k",
      "classifier_accuracy" (the classifier's held-out accuracy, None if unknown).
    labels: the class of each generated image AND of each real_eval image (a conditional generator asked
    for the held-out images' classes); each set's figures then hold "label_accuracy", the fraction the
    classifier reads as that class.
    """
    sets = {"generated": _as_images(generated, "generated"), "real": _as_images(real_eval, "real_eval")}
    ref_feats, _ = classifier.features_and_proba(_as_images(real_reference, "real_reference"))
    result = {"num_samples": len(sets["generated"]), "num_real_eval": len(sets["real"]),
              "num_reference": len(ref_feats), "num_classes": classifier.num_classes, "k": k,
              "classifier_accuracy": classifier.accuracy}
    for key, images in sets.items():
        feats, probs = classifier.features_and_proba(images)
        result[key] = _figures(feats, probs, ref_feats, k)
        if labels is not None:
            result[key]["label_accuracy"] = float((probs.argmax(axis=1) == np.asarray(labels)).mean())
    return result


def _row_labels(result: dict) -> dict:
    k, classes = result["k"], result["num_classes"]
    return {"classes_covered": f"classes covered (of {classes}), higher better",
            "kl_to_uniform": "KL to uniform, lower better",
            "classifier_score": f"classifier score (1..{classes}), higher better",
            "frechet_distance": "Frechet distance, lower better",
            "precision": f"precision (k={k}), higher better",
            "recall": f"recall (k={k}), higher better",
            "label_accuracy": "label accuracy (class asked = class seen)",
            "nearest_train_distance": "distance to nearest training image"}


def _cell(value) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, int):
        return str(value)
    return "nan" if not math.isfinite(value) else f"{value:.4g}"


def format_table(result: dict) -> str:
    """The result of ``evaluate_images`` as a small text table: one row per figure, two columns,
    generated | real (held-out), under a line giving the sample counts and the classifier's accuracy."""
    accuracy = result.get("classifier_accuracy")
    head = (f"{result['num_samples']} generated vs {result['num_real_eval']} held-out real images, "
            f"reference: {result['num_reference']} real images; classifier held-out accuracy "
            + ("unknown" if accuracy is None else f"{100 * accuracy:.1f} %"))
    if result["num_classes"] is None:
        head = (f"{result['num_samples']} generated vs {result['num_real_eval']} held-out real images, "
                f"reference: {result['num_reference']} real images; no labels: features are the images' "
                f"pixels in 8x8 area means, and the classifier's figures (classes, KL, score) are left out")
    labels = _row_labels(result)
    width = max(len(s) for s in labels.values())
    lines = [head, f"{'figure':<{width}}  {'generated':>10}  {'real (held-out)':>15}"]
    for key in FIGURES + ("label_accuracy", "nearest_train_distance"):
        if key not in result["generated"]:
            continue
        lines.append(f"{labels[key]:<{width}}  {_cell(result['generated'][key]):>10}  "
                     f"{_cell(result['real'][key]):>15}")
    return "\n".join(lines)
