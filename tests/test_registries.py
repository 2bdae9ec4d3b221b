"""Extending minigan is one registry entry: a toy set, an image set, an architecture and a loss kind registered
from this file are offered by `minigan train` (parser choices, defaults, validation) and train end to end."""
import json

import numpy as np
import pytest

from minigan import data, losses, models
from minigan.cli import main
from minigan.data import DataSet
from minigan.layers import Dense, LeakyReLU, Sequential, Tanh
from minigan.losses import LossKind
from minigan.models import Architecture


@pytest.fixture
def registered():
    """Register entries for one test; remove them afterwards, whatever happened."""
    added = []

    def add(registry, entry, name):
        registry(entry)
        added.append(name)
        return entry

    yield add
    for kind, name in added:
        {"data": data.unregister, "arch": models.unregister, "loss": losses.unregister_loss}[kind](name)


def test_a_new_toy_set_trains_and_is_evaluated_with_the_mixture_protocol(tmp_path, registered):
    means = data.ring_means(3, radius=2.0)
    registered(data.register, DataSet("ring3", "points", (2,), means=means, std=0.05,
                                      defaults=dict(arch="mlp2d", width=16, z_dim=4, batch_size=32)),
               ("data", "ring3"))
    points = data.sample_toy("ring3", 3000, np.random.default_rng(0))
    nearest = np.argmin(((points[:, None] - means[None]) ** 2).sum(-1), axis=1)
    assert np.bincount(nearest).min() > 900  # three balanced modes
    out = tmp_path / "ring3"
    assert main(["train", "--dataset", "ring3", "--steps", "20", "--out", str(out)]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["num_modes"] == 3 and metrics["num_samples"] == 2500
    assert json.loads((out / "config.json").read_text())["width"] == 16  # the set's own defaults


def test_a_new_image_set_gets_a_model_of_its_shape(tmp_path, registered):
    def load(data_dir=None, download=False, log=print):
        rng = np.random.default_rng(0)
        images = np.tanh(rng.standard_normal((64, 3, 12, 12))).astype(np.float32)
        return images, rng.integers(0, 10, 64)

    registered(data.register, DataSet("blobs12", "images", (3, 12, 12), load=load,
                                      defaults=dict(arch="dcgan", width=4, z_dim=8, batch_size=16)),
               ("data", "blobs12"))
    out = tmp_path / "blobs"
    assert main(["train", "--dataset", "blobs12", "--steps", "3", "--frames", "0", "--out", str(out)]) == 0
    assert main(["sample", str(out), "-n", "5", "--out", str(tmp_path / "s.npy")]) == 0
    samples = np.load(tmp_path / "s.npy", allow_pickle=False)
    assert samples.shape == (5, 3, 12, 12) and samples.dtype == np.float32
    assert main(["train", "--dataset", "blobs12", "--arch", "dcgan28", "--out", str(tmp_path / "no")]) == 2


def test_a_new_architecture_with_its_own_option_check(tmp_path, registered, capsys):
    def tiny(data_shape, z_dim, pack, width=8):
        n = int(np.prod(data_shape))
        from minigan.layers import Reshape
        G = Sequential(Dense(z_dim, width), LeakyReLU(0.2), Dense(width, n), Tanh(), Reshape(*data_shape))
        D = Sequential(Dense(n * pack, width), LeakyReLU(0.2), Dense(width, 1))
        return G, D

    def flat_only(arch, data_shape):
        if len(data_shape) != 1:
            raise ValueError(f"arch {arch!r} takes flat samples, not {data_shape}")

    registered(models.register, Architecture("tiny", tiny, ("width",), flat_only, dcgan_init=False),
               ("arch", "tiny"))
    out = tmp_path / "tiny"
    assert main(["train", "--dataset", "ring8", "--arch", "tiny", "--width", "12", "--steps", "5",
                 "--out", str(out)]) == 0
    G, _ = models.build("tiny", (2,), 8, 2, width=12)
    assert G[0].params["W"].shape == (8, 12)
    assert main(["train", "--dataset", "digits", "--arch", "tiny", "--out", str(tmp_path / "no")]) == 2
    assert "takes flat samples" in capsys.readouterr().err
    assert main(["train", "--dataset", "ring8", "--arch", "tiny", "--z-categories", "4",
                 "--out", str(tmp_path / "no")]) == 2
    assert "arch 'tiny' does not take --z-categories" in capsys.readouterr().err
    assert not (tmp_path / "no").exists()


def test_a_new_loss_kind(tmp_path, registered):
    calls = []

    def squared(target):
        def term(x):
            calls.append(target)
            d = x - target
            return float(0.5 * (d * d).mean()), d / x.shape[0]
        return term

    # LSGAN with targets -1 / +1 (Mao et al.'s a = -1, b = c = 1)
    registered(lambda kind: losses.register_loss("lsgan-pm1", kind),
               LossKind(real=squared(1.0), fake=squared(-1.0), generator=squared(1.0)), ("loss", "lsgan-pm1"))
    value, grad = losses.generator_loss(np.array([[0.0], [2.0]]), "lsgan-pm1")
    assert value == pytest.approx(0.5) and np.allclose(grad, [[-0.5], [0.5]])
    out = tmp_path / "pm1"
    assert main(["train", "--dataset", "ring8", "--loss", "lsgan-pm1", "--steps", "3", "--out", str(out)]) == 0
    assert calls.count(-1.0) == 3  # the fake term once per D step
    assert main(["train", "--dataset", "ring8", "--loss", "lsgan-pm2", "--out", str(tmp_path / "no")]) == 2


def test_registering_a_name_twice_is_refused():
    with pytest.raises(ValueError, match="already registered"):
        data.register(data.get("ring8"))
    with pytest.raises(ValueError, match="already registered"):
        models.register(models.get("dcgan"))
    with pytest.raises(ValueError, match="already registered"):
        losses.register_loss("hinge", losses.LOSSES["hinge"])
    with pytest.raises(ValueError, match="must name an 'arch'"):
        DataSet("x", "points", (2,), means=np.zeros((1, 2)), std=1.0)


# -- data sets' defaults ------------------------------------------------------------------------------
# minigan.data does not import minigan.options (options imports data), so DataSet checks only the shape
# of its defaults; that they are real options of minigan train, with values it accepts, is checked here
# for every registered set.

@pytest.mark.parametrize("name", data.names())
def test_every_registered_data_sets_defaults_are_valid_options_of_minigan_train(name):
    from minigan import options

    defaults = data.get(name).defaults
    unknown = sorted(set(defaults) - set(options.BY_NAME))
    assert not unknown, f"data set {name!r}: its defaults name {unknown}, which are not options of minigan train"
    config = options.validate(options.make_config({"dataset": name}))
    assert {k: config[k] for k in defaults} == {k: v for k, v in defaults.items()}


def test_data_set_defaults_must_be_a_dict_of_option_names():
    with pytest.raises(ValueError, match="data set 'x': its defaults must be a dict of option values, got list"):
        DataSet("x", "points", (2,), defaults=["arch"], means=np.zeros((1, 2)), std=1.0)
    with pytest.raises(ValueError, match="data set 'x': its defaults name 'batch-size', which is not an option "
                                         "name"):
        DataSet("x", "points", (2,), defaults={"arch": "mlp2d", "batch-size": 8}, means=np.zeros((1, 2)), std=1.0)
