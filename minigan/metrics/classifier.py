"""The evaluation classifier: a small CNN built from minigan's own layers, trained with its own Adam.

Its penultimate activations are the feature space of the Fréchet distance and of k-NN
precision/recall, its class probabilities feed class coverage and the classifier score
(see ``images.py``). It plays the part Inception-v3 plays for ImageNet-sized images.

Architecture (``make_classifier``), for (C, H, W) images in [-1, 1], c = ``width``:
    Conv(C -> c, k3 s1 p1) -> LeakyReLU 0.2
    Conv(c -> 2c, k4 s2 p1) -> BatchNorm2d -> LeakyReLU 0.2          H -> H // 2
    Conv(2c -> 2c, k4 s2 p1) -> LeakyReLU 0.2                          H // 2 -> H // 4
    Flatten -> Dense(2c * (H // 4) * (W // 4) -> 4c)    <- the penultimate features (pre-activation)
    -> LeakyReLU 0.2 -> Dense(4c -> num_classes)         <- logits
c = 32 by default for images of side >= 16 (28x28: 32, 64, 64 channels, 128 features) and 16 for
smaller ones (8x8: 16, 32, 32 channels, 64 features): a small image holds less to describe.

Training: softmax cross-entropy, Adam(lr, betas (0.9, 0.999)), 10 % of the data held out
(chosen by the seed) to measure accuracy. ``load_or_train_classifier`` caches the weights.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import re
from pathlib import Path

import numpy as np

from .. import backend
from ..storage import CheckpointError, load_arrays, save_arrays, write_json
from ..layers import BatchNorm2d, Conv2d, Dense, Flatten, LeakyReLU, Sequential, eval_mode, no_grad
from ..optim import Adam

# Bump whenever make_classifier or the training recipe changes: old cache files then no longer match.
ARCH_VERSION = 1
HOLDOUT_FRACTION = 0.1
MIN_SIDE = 8  # two stride-2 convolutions must leave a spatial map of at least 2x2
FEATURE_LAYER = 8  # index in the Sequential of the Dense layer whose output is the feature vector
EVAL_BATCH = 128  # larger batches only make im2col's buffers outgrow the CPU caches: 2x slower at 1000


class Classifier(Sequential):
    """A Sequential CNN classifier that also exposes its penultimate features.

    Shapes: input (N, C, H, W) = (N, *image_shape), logits (N, num_classes),
    features (N, feature_dim). ``accuracy`` is the held-out accuracy once trained (else None).
    """

    def __init__(self, image_shape, num_classes: int, *layers):
        super().__init__(*layers)
        self.image_shape = tuple(image_shape)
        self.num_classes = num_classes
        self.feature_dim = layers[FEATURE_LAYER].out_features
        self.accuracy = None

    def features_and_proba(self, images, batch_size: int = EVAL_BATCH):
        """One eval-mode pass over ``images`` (N, C, H, W), in batches.

        Returns ``(features, probs)``: NumPy float64 arrays of shapes (N, feature_dim) and
        (N, num_classes); each row of probs is softmax(logits), summing to 1.
        """
        images = self._check_images(images)
        feats, probs = [], []
        with eval_mode(self), no_grad():
            for start in range(0, len(images), batch_size):
                x = backend.asarray(images[start:start + batch_size], dtype=self.dtype)
                for layer in self.layers[:FEATURE_LAYER + 1]:
                    x = layer.forward(x)
                feats.append(backend.to_numpy(x).astype(np.float64))
                for layer in self.layers[FEATURE_LAYER + 1:]:
                    x = layer.forward(x)
                probs.append(softmax(backend.to_numpy(x).astype(np.float64)))
        return np.concatenate(feats), np.concatenate(probs)

    def features(self, images, batch_size: int = EVAL_BATCH) -> np.ndarray:
        """Penultimate activations (N, feature_dim), float64, computed in eval mode."""
        return self.features_and_proba(images, batch_size)[0]

    def predict_proba(self, images, batch_size: int = EVAL_BATCH) -> np.ndarray:
        """Class probabilities p(y|x) (N, num_classes), float64, computed in eval mode."""
        return self.features_and_proba(images, batch_size)[1]

    def _check_images(self, images):
        shape = tuple(getattr(images, "shape", ()))
        if len(shape) != 4 or shape[1:] != self.image_shape or shape[0] == 0:
            raise ValueError(f"classifier: expected images of shape (N, {', '.join(map(str, self.image_shape))}) "
                             f"with N >= 1, got {shape}")
        return images


def make_classifier(image_shape, num_classes: int = 10, width: int | None = None) -> Classifier:
    """The CNN described at the top of this module, for images of shape (C, H, W) with H, W >= 8.

    width: c, the first convolution's channels (default 32 for sides >= 16, else 16).
    Parameters are created on the active backend in the default dtype.
    """
    shape = tuple(int(s) for s in image_shape)
    if len(shape) != 3 or shape[0] < 1 or min(shape[1:]) < MIN_SIDE:
        raise ValueError(f"make_classifier: expected an image shape (C, H, W) with C >= 1 and H, W >= {MIN_SIDE}, "
                         f"got {tuple(image_shape)}")
    if num_classes < 2:
        raise ValueError(f"make_classifier: need at least 2 classes, got {num_classes}")
    c_in, h, w = shape
    c = width if width is not None else (32 if min(h, w) >= 16 else 16)
    if c < 1:
        raise ValueError(f"make_classifier: width must be >= 1, got {c}")
    h4, w4 = _halved(_halved(h)), _halved(_halved(w))
    return Classifier(
        shape, num_classes,
        Conv2d(c_in, c, 3, stride=1, padding=1), LeakyReLU(0.2),
        Conv2d(c, 2 * c, 4, stride=2, padding=1), BatchNorm2d(2 * c), LeakyReLU(0.2),
        Conv2d(2 * c, 2 * c, 4, stride=2, padding=1), LeakyReLU(0.2),
        Flatten(), Dense(2 * c * h4 * w4, 4 * c), LeakyReLU(0.2),
        Dense(4 * c, num_classes),
    )


def _halved(side: int) -> int:
    """Output side of Conv(k4, s2, p1): (side + 2 - 4) // 2 + 1."""
    return (side - 2) // 2 + 1


# -- softmax cross-entropy ------------------------------------------------------------------------

def log_softmax(logits):
    """log softmax along axis 1 of (N, K) logits, on either backend.

    log p_k = z_k - log sum_j exp(z_j) with z = logits - max(logits): exp then only sees values
    <= 0 (no overflow), and the largest term of the sum is exp(0) = 1 (no log(0)).
    """
    xp = backend.get_array_module(logits)
    z = logits - logits.max(axis=1, keepdims=True)
    return z - xp.log(xp.exp(z).sum(axis=1, keepdims=True))


def softmax(logits):
    """softmax along axis 1 of (N, K) logits, stable for any magnitude (via ``log_softmax``)."""
    return backend.get_array_module(logits).exp(log_softmax(logits))


def softmax_cross_entropy(logits, labels):
    """Mean cross-entropy of softmax(logits) against integer labels, and its gradient.

    Shapes: logits (N, K) floating point; labels (N,) integers in 0..K-1.
    Returns (value, grad): value a float, grad dL/dlogits of the logits' shape and dtype.
        L = -(1/N) sum_n log p_{n, y_n},  p_n = softmax(logits_n)
        dL/dlogits_nk = (p_nk - [k == y_n]) / N
    """
    shape = tuple(getattr(logits, "shape", ()))
    if len(shape) != 2 or shape[0] < 1 or logits.dtype.kind != "f":
        raise ValueError(f"softmax_cross_entropy: expected floating-point logits of shape (N, K), N >= 1, "
                         f"got {shape} {getattr(logits, 'dtype', '')}")
    xp = backend.get_array_module(logits)
    labels = xp.asarray(labels)
    n, k = shape
    if labels.shape != (n,) or labels.dtype.kind not in "iu":
        raise ValueError(f"softmax_cross_entropy: expected integer labels of shape ({n},), "
                         f"got {tuple(labels.shape)} {labels.dtype}")
    if int(labels.min()) < 0 or int(labels.max()) >= k:
        raise ValueError(f"softmax_cross_entropy: labels must lie in 0..{k - 1}")
    logp = log_softmax(logits)
    rows = xp.arange(n)
    value = -float(logp[rows, labels].mean())
    grad = xp.exp(logp)
    grad[rows, labels] -= 1
    grad /= n
    return value, grad


# -- training ------------------------------------------------------------------------------------

def _check_data(images, labels) -> tuple[np.ndarray, np.ndarray]:
    images, labels = np.asarray(images), np.asarray(labels)
    if images.ndim != 4 or labels.shape != (len(images),) or labels.dtype.kind not in "iu":
        raise ValueError(f"expected images (N, C, H, W) and integer labels (N,), got shapes {images.shape} "
                         f"and {labels.shape} ({labels.dtype})")
    if len(images) < 20 or labels.min() < 0:
        raise ValueError(f"need at least 20 images and labels >= 0, got {len(images)} images, "
                         f"smallest label {labels.min() if len(labels) else None}")
    return images, labels


def _split(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(train indices, held-out indices): a seeded permutation, HOLDOUT_FRACTION of it held out."""
    order = np.random.default_rng(seed).permutation(n)
    n_held = max(1, round(HOLDOUT_FRACTION * n))
    return order[n_held:], order[:n_held]


def _accuracy(model: Classifier, images, labels) -> float:
    return float((model.predict_proba(images).argmax(axis=1) == labels).mean())


def train_classifier(images, labels, epochs: int, batch_size: int = 128, lr: float = 1e-3, seed: int = 0,
                     width: int | None = None, log=print) -> tuple[Classifier, float]:
    """Train ``make_classifier`` on (images (N, C, H, W) in [-1, 1], labels (N,) in 0..K-1).

    K = labels.max() + 1. A seeded 10 % of the data is held out; the rest is shuffled every
    epoch and cut into full batches (a last partial batch is skipped: BatchNorm needs a
    real batch). Adam uses betas (0.9, 0.999), the usual ones for classification (minigan's
    GAN default 0.5 damps momentum for the adversarial game, which plain training doesn't need).
    Returns ``(model, held_out_accuracy)``, the model in eval mode with ``model.accuracy`` set.
    """
    images, labels = _check_data(images, labels)
    if epochs < 1:
        raise ValueError(f"epochs must be >= 1, got {epochs}")
    train_idx, held_idx = _split(len(images), seed)
    # The same seed gives the same classifier, and the caller's own stream of random numbers (say, a GAN's
    # initialisation) is left exactly where it was.
    with backend.seeded(seed):
        model = make_classifier(images.shape[1:], int(labels.max()) + 1, width)
    opt = Adam(model, lr=lr, betas=(0.9, 0.999))
    rng = np.random.default_rng(seed + 1)
    batch_size = min(batch_size, len(train_idx))
    report_at = {math.ceil(i * epochs / 5) for i in range(1, 6)}  # five progress lines at most
    for epoch in range(1, epochs + 1):
        model.train()
        order = rng.permutation(train_idx)
        losses = []
        for start in range(0, len(order) - batch_size + 1, batch_size):
            idx = order[start:start + batch_size]
            logits = model(backend.asarray(images[idx], dtype=model.dtype))
            loss, grad = softmax_cross_entropy(logits, backend.asarray(labels[idx]))
            opt.zero_grad()
            model.backward(grad, input_grad=False)  # nobody needs dL/d(image)
            opt.step()
            losses.append(loss)
        if epoch in report_at:
            acc = _accuracy(model, images[held_idx], labels[held_idx])
            log(f"classifier epoch {epoch}/{epochs}: loss {np.mean(losses):.4f}, held-out accuracy {acc:.4f}")
    model.eval()
    model.accuracy = acc
    return model, acc


def default_epochs(num_images: int, batch_size: int = 128) -> int:
    """About 300 optimiser steps, at least 2 epochs: 25 epochs on the 1,797 digits (seconds; held-out
    accuracy stops improving after ~10), 2 on MNIST's 60,000 images (421 steps each, minutes on a CPU)."""
    steps_per_epoch = max(1, int((1 - HOLDOUT_FRACTION) * num_images) // batch_size)
    return max(2, math.ceil(300 / steps_per_epoch))


# -- the cache -------------------------------------------------------------------------------------

def default_cache_dir() -> Path:
    """The user cache folder (``minigan.data.fetch.cache_root``: $MINIGAN_CACHE, else
    $XDG_CACHE_HOME/minigan, else ~/.cache/minigan), one place for every cache of minigan's."""
    from ..data.fetch import cache_root

    return cache_root()


def _cache_stem(dataset_name: str, images: np.ndarray, labels: np.ndarray, settings: dict) -> str:
    """File name stem: dataset, image shape, ARCH_VERSION and a 12-hex-digit SHA-256 of the data
    and training settings, so other data, another width or another recipe never reuse these weights."""
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", dataset_name):
        raise ValueError(f"dataset_name must be letters, digits, '_', '.' or '-', got {dataset_name!r}")
    digest = hashlib.sha256()
    digest.update(np.ascontiguousarray(images, dtype=np.float32).tobytes())
    digest.update(np.ascontiguousarray(labels, dtype=np.int64).tobytes())
    digest.update(json.dumps(settings, sort_keys=True).encode())
    shape = "x".join(str(s) for s in images.shape[1:])
    return f"classifier-{dataset_name}-{shape}-v{ARCH_VERSION}-{digest.hexdigest()[:12]}"


def _load_cached(weights: Path, meta_path: Path, images, labels, width) -> Classifier:
    """Rebuild the cached classifier; raises (CheckpointError, ValueError, KeyError, OSError) if unusable."""
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    accuracy = float(meta["heldout_accuracy"])
    if not 0 <= accuracy <= 1:
        raise ValueError(f"held-out accuracy {accuracy} is not in [0, 1]")
    model = make_classifier(images.shape[1:], int(labels.max()) + 1, width)
    model.load_state_dict(load_arrays(weights))
    model.eval()
    model.accuracy = accuracy
    return model


def load_or_train_classifier(dataset_name: str, images, labels, cache_dir: str | os.PathLike | None = None,
                             epochs: int | None = None, batch_size: int = 128, lr: float = 1e-3, seed: int = 0,
                             width: int | None = None, log=print) -> tuple[Classifier, float]:
    """The classifier for this data set: from the cache if there, else trained and cached.

    Files, in ``cache_dir`` (default: ``default_cache_dir()`` / "classifiers"), named by ``_cache_stem``:
      <stem>.npz   the weights and BatchNorm statistics (storage.save_arrays; read back with
                   storage.load_arrays, which never unpickles)
      <stem>.json  the held-out accuracy and the training settings, for the report
    A cache file that cannot be read or does not fit is reported through ``log`` and the
    classifier retrained (and the files rewritten); a cache that cannot be written is reported
    and skipped. epochs: default ``default_epochs(len(images), batch_size)``.
    Returns ``(model, held_out_accuracy)``.
    """
    images, labels = _check_data(images, labels)
    epochs = default_epochs(len(images), batch_size) if epochs is None else epochs
    settings = {"epochs": epochs, "batch_size": batch_size, "lr": lr, "seed": seed, "width": width,
                "arch_version": ARCH_VERSION}
    folder = Path(cache_dir) if cache_dir is not None else default_cache_dir() / "classifiers"
    stem = _cache_stem(dataset_name, images, labels, settings)
    weights, meta_path = folder / f"{stem}.npz", folder / f"{stem}.json"

    if weights.exists() or meta_path.exists():
        try:
            model = _load_cached(weights, meta_path, images, labels, width)
            log(f"classifier loaded from {weights} (held-out accuracy {model.accuracy:.4f})")
            return model, model.accuracy
        except (CheckpointError, ValueError, KeyError, OSError) as exc:
            log(f"cached classifier {weights} is unusable ({exc}); retraining it")

    log(f"training the {dataset_name} classifier ({epochs} epochs); it will be cached in {folder}")
    model, accuracy = train_classifier(images, labels, epochs, batch_size=batch_size, lr=lr, seed=seed,
                                       width=width, log=log)
    meta = {"dataset": dataset_name, "image_shape": list(images.shape[1:]), "num_images": len(images),
            "heldout_fraction": HOLDOUT_FRACTION, "heldout_accuracy": accuracy, **settings}
    try:
        folder.mkdir(parents=True, exist_ok=True)
        save_arrays(weights, model.state_dict())
        write_json(meta_path, meta)  # written last: a crash in between leaves a cache that is retrained
    except OSError as exc:
        log(f"could not cache the classifier in {folder} ({exc}); continuing without the cache")
    return model, accuracy
