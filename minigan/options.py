"""Every option of ``minigan train``, declared once.

One ``Option`` per config key: its type, default, the values it allows, its help text, and how it
reaches the models (``arch``: passed to the architecture's builder when that architecture takes it)
or the trainer (``gan``: the ``GAN`` keyword it becomes). From this table come
  - the ``minigan train`` argument parser (``add_arguments``; ``choices`` where there are choices),
  - a new run's config (``make_config``: option defaults < the data set's defaults < what was given),
  - the check of a whole config, from the command line or from config.json on ``--resume``
    (``validate``), which runs before anything is written,
  - the ``GAN`` arguments (``gan_arguments``) and the architecture's options (``arch_options``).
Per-data-set defaults live with the data set (``minigan.data``), the options an architecture takes
with the architecture (``minigan.models``), the loss kinds in ``minigan.losses``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable


class OptionError(ValueError):
    """A bad option value: the message names the option, the value and what is expected."""


# -- what a value may be ----------------------------------------------------------------------------
def count(minimum: int = 1):
    """An integer >= minimum."""
    def check(v):
        return None if v >= minimum else f"an integer >= {minimum}"
    check.wants = int
    return check


def number(low: float, high: float = math.inf, low_open: bool = False, high_open: bool = True):
    """A finite number in the interval [low, high) (brackets set by the two flags)."""
    interval = f"{'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
    what = f"a finite number > {low:g}" if (low_open and high == math.inf) else (
        f"a finite number >= {low:g}" if high == math.inf else f"a number in {interval}")

    def check(v):
        ok = math.isfinite(v) and (v > low if low_open else v >= low) and (v < high if high_open else v <= high)
        return None if ok else what
    check.wants = float
    return check


def anything(wants):
    def check(v):
        return None
    check.wants = wants
    return check


def categories(v):
    return None if v == 0 or v >= 2 else "0 (off) or an integer >= 2"


categories.wants = int


# -- the table --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Option:
    name: str                            # the config key; on the command line --name with '-' for '_'
    default: object
    check: Callable                      # value -> None if fine, else what is expected
    help: str
    choices: Callable | None = None      # () -> the allowed values (read from a registry when asked)
    nullable: bool = False               # None is allowed (off)
    arch: bool = False                   # passed to the architecture's builder, if it takes the option
    build: bool = False                  # passed to models.build for every architecture
    gan: str | None = None               # the GAN keyword it becomes (options sharing one form a tuple)
    fixed: bool = False                  # shapes the models, the data or what the checkpoint holds (the seed,
                                         # Adam's betas): cannot change on --resume
    unset: str = "off"                   # what the default None means, for the help text
    needs: str | None = None             # another option that must be on (not 0 / None) for this one to be set

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    @property
    def type(self):
        return self.check.wants


def _datasets():
    from . import data
    return data.names()


def _architectures():
    from . import models
    return tuple(models.ARCHITECTURES)


def _losses():
    from . import losses
    return tuple(losses.LOSSES)


def _backends():
    from . import backend
    return backend.BACKENDS


G_NOISE = ("reuse", "fresh")  # the generator step's fakes: see GAN.train_step
DISTRIBUTED = ("none", "mpi", "nccl")  # one process, or the communicators of minigan.distributed
NCCL_NEEDS_CUPY = "mpi, or --backend cupy: NCCL passes GPU buffers"


def check_nccl_backend(distributed: str, backend_name: str) -> None:
    """Refuse --distributed nccl on a backend other than CuPy; checked before MPI starts too, so the
    refusal is the same whether or not mpi4py is installed."""
    if distributed == "nccl" and backend_name != "cupy":
        raise OptionError(f"--distributed 'nccl': expected {NCCL_NEEDS_CUPY}")


def augment_policy(v):
    """A differentiable augmentation policy: transform names of ``minigan.augment``, comma-separated."""
    from .augment import parse_policy
    try:
        parse_policy(v)
    except ValueError as exc:
        return str(exc)
    return None


augment_policy.wants = str

OPTIONS = (
    Option("dataset", "digits", anything(str), "the training data (the default, digits, is embedded: no download)",
           choices=_datasets, fixed=True),
    Option("arch", None, anything(str), "the architecture", choices=_architectures, fixed=True,
           unset="the data set's"),
    Option("loss", "nonsaturating", anything(str), "the GAN loss", choices=_losses, gan="loss"),
    Option("steps", 2000, count(), "the run's TOTAL number of generator steps", gan="total_steps"),
    Option("batch_size", 64, count(), "batch size (a multiple of --pack)"),
    Option("seed", 0, count(0), "random seed (same seed, same backend: same result)", gan="seed", fixed=True),
    Option("backend", None, anything(str), "the array backend", choices=_backends,
           unset="MINIGAN_BACKEND, else numpy"),
    Option("lr_g", 2e-4, number(0, low_open=True), "generator learning rate (Adam)", gan="lr_g"),
    Option("lr_d", 2e-4, number(0, low_open=True), "discriminator learning rate (Adam)", gan="lr_d"),
    Option("beta1", 0.5, number(0, 1), "Adam beta1", gan="betas", fixed=True),
    Option("beta2", 0.999, number(0, 1), "Adam beta2", gan="betas", fixed=True),
    Option("d_steps", 1, count(), "discriminator steps per generator step", gan="d_steps"),
    Option("pack", 1, count(), "PacGAN packing: D judges this many samples at once", gan="pack", fixed=True),
    Option("clip", None, number(0, low_open=True), "clip each model's global gradient norm to this value",
           nullable=True, gan="clip"),
    Option("z_dim", 100, count(), "noise dimension", gan="z_dim", fixed=True),
    Option("width", None, count(), "architecture width (hidden units or base channels)", nullable=True,
           arch=True, fixed=True, unset="the architecture's"),
    Option("output_scale", 1.0, number(0, low_open=True), "fixed gain on the toy generator's output", arch=True),
    Option("z_categories", 0, categories, "make z's first coordinate a one-hot code over this many equal-mass "
           "categories (a mixture of generators; 0: off)", arch=True, fixed=True),
    Option("z_noise_scale", 1.0, number(0, low_open=True), "scale of the other noise coordinates beside "
           "--z-categories' code", arch=True, needs="z_categories"),
    Option("spectral_norm", False, anything(bool), "wrap every weight layer of D (Dense, Conv2d, ConvTranspose2d) "
           "in spectral normalisation (Miyato et al. 2018): D becomes 1-Lipschitz per layer", build=True,
           fixed=True),
    Option("ema", None, number(0, 1, low_open=True), "sample from an exponential moving average of G's weights "
           "with this decay (e.g. 0.999)", nullable=True, gan="ema", fixed=True),
    Option("r1", 0.0, number(0), "R1 penalty weight gamma: gamma/2 * mean |dD/dx|^2 on real data (0: off)",
           gan="r1"),
    Option("lr_schedule", "constant", anything(str), "linear: both learning rates decay to 0 over --steps",
           choices=lambda: ("constant", "linear"), gan="lr_schedule"),
    Option("g_noise", "reuse", anything(str), "G's step judges the D step's fakes again ('reuse', as "
           "PyTorch's DCGAN example does) or fakes from 'fresh' noise", choices=lambda: G_NOISE, gan="g_noise"),
    Option("augment", None, augment_policy, "differentiable augmentation of the real and the fake images D "
           "sees, e.g. translation,cutout,brightness (Zhao et al. 2020)", nullable=True, gan="augment"),
    Option("holdout", 0.0, number(0, 1), "keep the last round(F * N) images of an image data set out of "
           "training, for minigan evaluate", fixed=True),
    Option("log_every", 10, count(), "steps between history rows"),
    Option("checkpoint_every", 500, count(), "steps between checkpoints"),
    Option("frames", 40, count(0), "frames of the fixed-noise grid in progress.gif (0: none)"),
    Option("data_dir", None, anything(str), "folder with the MNIST / Fashion-MNIST IDX files (default: the "
           "user cache folder)", nullable=True),
    Option("download", False, anything(bool), "download missing MNIST / Fashion-MNIST files (checksums verified)"),
    Option("distributed", "none", anything(str), "data-parallel training over the processes of mpiexec -n P: "
           "mpi (mpi4py, pip install \"minigan[mpi]\") or nccl (one GPU each, --backend cupy); --batch-size is "
           "per process", choices=lambda: DISTRIBUTED),
    Option("sync_bn", False, anything(bool), "with --distributed: BatchNorm statistics over all processes' "
           "batches together (the global batch), not each process's own"),
)
BY_NAME = {o.name: o for o in OPTIONS}


# -- the command line -------------------------------------------------------------------------------
def _default_text(option: Option) -> str:
    from . import data

    shown = option.unset if option.default is None else option.default
    per_set = [f"{d.name} {d.defaults[option.name]}" for d in data.DATASETS.values()
               if option.name in d.defaults and d.defaults[option.name] != option.default]
    return f"default {shown}" + (f"; {', '.join(per_set)}" if per_set else "")


def add_arguments(parser) -> None:
    """Add one argument per option to ``parser``. Every default is None, so that ``given`` can tell
    "given again" from "not given" (config.json and the data set supply the rest)."""
    for option in OPTIONS:
        text = f"{option.help} ({_default_text(option)})"
        if option.type is bool:
            parser.add_argument(option.flag, action="store_true", default=None, help=text)
        else:
            parser.add_argument(option.flag, type=option.type, default=None, help=text,
                                choices=option.choices() if option.choices else None)


def given(args) -> dict:
    """The options given on the command line, as config keys."""
    return {o.name: getattr(args, o.name) for o in OPTIONS if getattr(args, o.name, None) is not None}


# -- configs ----------------------------------------------------------------------------------------
def make_config(options: dict) -> dict:
    """A new run's config: option defaults, then the data set's defaults, then ``options``.

    A data set's default for an architecture option (e.g. its width) applies only when the chosen
    architecture takes that option, so picking another architecture never inherits one it refuses.
    """
    from . import data

    dataset = data.get(options.get("dataset", BY_NAME["dataset"].default))
    config = {o.name: o.default for o in OPTIONS}
    config.update(dataset.defaults)
    config.update(options)
    config["dataset"] = dataset.name
    if config["backend"] is None:
        from . import backend
        config["backend"] = backend.name  # MINIGAN_BACKEND's, else numpy
    return _drop_inapplicable(config, keep=options)


def _drop_inapplicable(config: dict, keep=()) -> dict:
    """Put back at their defaults the options, not named in ``keep``, that cannot apply: an architecture
    option the chosen architecture does not take (a data set's width, say, when another architecture
    is chosen), and an option whose ``needs`` is off (the grid's noise scale under --z-categories 0)."""
    from . import models

    if config.get("arch") in models.ARCHITECTURES:
        takes = models.get(config["arch"]).options
        for o in OPTIONS:
            if o.arch and o.name not in keep and o.name not in takes:
                config[o.name] = o.default
    for o in OPTIONS:
        if o.needs and o.name not in keep and not config.get(o.needs):
            config[o.name] = o.default
    return config


def upgrade(saved: dict) -> dict:
    """A config.json as a run folder holds it, read for today's rules: options it lacks get their
    defaults (by ``validate``), and settings older versions recorded but never used (a data set's
    width under an architecture without one) are put back at their defaults."""
    return _drop_inapplicable(dict(saved))


def _describe(name: str, value, source: str) -> str:
    where = "" if source == "command line" else f"{source}: "
    label = BY_NAME[name].flag if source == "command line" else name
    return f"{where}{label} {value!r}" if isinstance(value, str) else f"{where}{label} {value}"


def _type_ok(option: Option, value) -> bool:
    if value is None:
        return option.nullable
    if option.type is bool:
        return isinstance(value, bool)
    if option.type is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if option.type is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, option.type)


_TYPE_WORDS = {int: "an integer", float: "a number", str: "a string", bool: "true or false"}


def validate(config: dict, sources: dict | None = None) -> dict:
    """Check a whole config; return it with any missing key filled in from the defaults.

    ``sources`` maps an option name to where its value came from ("command line", or e.g.
    "runs/a/config.json"); it only shapes the message. Raises OptionError with ONE line naming
    the option, the value and what is expected, for: an unknown option, a value of the wrong
    type, a value out of range or not among the choices, an architecture option the architecture
    does not take, an architecture that does not fit the data set, a batch size that is not a
    multiple of --pack, --holdout on data that is not a fixed set of images, --augment on 2-D points,
    --distributed nccl on NumPy.
    """
    from . import data, models

    sources = sources or {}
    unknown = sorted(set(config) - set(BY_NAME))
    if unknown:
        source = sources.get(unknown[0], "config")
        raise OptionError(f"{source}: unknown option {unknown[0]!r}: expected one of {', '.join(BY_NAME)}")
    config = {**{o.name: o.default for o in OPTIONS}, **config}

    def fail(name, expected):
        raise OptionError(f"{_describe(name, config[name], sources.get(name, 'config'))}: expected {expected}")

    for option in OPTIONS:
        value = config[option.name]
        if not _type_ok(option, value):
            fail(option.name, _TYPE_WORDS[option.type] + (" or null" if option.nullable else ""))
        if option.type is float and value is not None:
            config[option.name] = value = float(value)
        if value is None:
            continue
        if option.choices and value not in option.choices():
            fail(option.name, f"one of {', '.join(option.choices())}")
        expected = option.check(value)
        if expected:
            fail(option.name, expected)

    dataset = data.get(config["dataset"])
    arch = models.get(config["arch"])
    try:
        arch.check(config["arch"], dataset.shape)
    except ValueError as exc:
        fail("arch", f"an architecture that fits data set {dataset.name!r} ({exc})")
    for option in OPTIONS:
        if option.arch and option.name not in arch.options and config[option.name] != option.default:
            takes = ", ".join(models.get(a).name for a in models.ARCHITECTURES
                              if option.name in models.get(a).options)
            default = "no value" if option.default is None else f"the default {option.default}"
            fail(option.name, f"{default}: arch {arch.name!r} does not take {option.flag} (it is an option "
                              f"of {takes})")
    for option in OPTIONS:
        if option.needs and config[option.name] != option.default and not config[option.needs]:
            fail(option.name, f"the default {option.default}: {option.flag} needs {BY_NAME[option.needs].flag}")
    if config["batch_size"] % config["pack"]:
        fail("batch_size", f"a multiple of --pack ({config['pack']})")
    if config["holdout"] and dataset.kind != "images":
        fail("holdout", f"0: data set {dataset.name!r} is not a fixed set of images")
    if config["distributed"] == "nccl" and config["backend"] != "cupy":
        fail("distributed", NCCL_NEEDS_CUPY)
    if config["augment"] and dataset.kind != "images":
        fail("augment", f"no value: data set {dataset.name!r} is 2-D points, not images to augment")
    return config


def check_resume(saved: dict, options: dict, source: str = "command line") -> None:
    """Refuse a change, on --resume, of an option that shapes a model or the training data."""
    for name, value in options.items():
        option = BY_NAME.get(name)
        if option and option.fixed and saved.get(name, option.default) != value:
            raise OptionError(f"{_describe(name, value, source)}: expected {saved.get(name, option.default)!r} "
                              f"as the run was trained with; {option.flag} cannot change on --resume (the "
                              f"checkpoint holds what it shaped)")


# -- what the models and the trainer get ------------------------------------------------------------
def arch_options(config: dict) -> dict:
    """The keywords of ``models.build`` from the config: the options every architecture takes
    (``build``), and the architecture's own options it takes, when set (None: its own default)."""
    from . import models

    takes = models.get(config["arch"]).options
    return {o.name: config.get(o.name, o.default) for o in OPTIONS
            if o.build or (o.arch and o.name in takes and config.get(o.name) is not None)}


def warnings(config: dict) -> list:
    """Settings that are allowed but probably not meant, one line each."""
    lines = []
    if config["loss"] == "wasserstein" and not config["spectral_norm"]:
        lines.append("--loss wasserstein needs a 1-Lipschitz D, and nothing constrains this one: its loss can "
                     "grow without bound (add --spectral-norm)")
    return lines


def gan_arguments(config: dict) -> dict:
    """The ``GAN`` keyword arguments from the config; options that share a keyword form a tuple."""
    kwargs: dict = {}
    for option in OPTIONS:
        if option.gan:
            value = config.get(option.name, option.default)
            if sum(o.gan == option.gan for o in OPTIONS) > 1:
                kwargs[option.gan] = kwargs.get(option.gan, ()) + (value,)
            else:
                kwargs[option.gan] = value
    return kwargs
