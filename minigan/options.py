"""Every option of ``minigan train``, declared once.

One ``Option`` per config key: its type, default, the values it allows, its help text, and how it
reaches the models (``arch``: passed to the architecture's builder when that architecture takes it)
or the trainer (``keyword``: the trainer's keyword it becomes), and which model families take it
(``families``; None: every one). From this table come
  - the ``minigan train`` argument parser (``add_arguments``; ``choices`` where there are choices),
  - a new run's config (``make_config``: option defaults < the data set's defaults (gan) or the
    family's (the others) < what was given),
  - the check of a whole config, from the command line or from config.json on ``--resume``
    (``validate``), which runs before anything is written,
  - the trainer's arguments (``trainer_arguments``) and the architecture's options (``arch_options``).
Per-data-set defaults live with the data set (``minigan.data``), the options an architecture takes
with the architecture (``minigan.models``), the loss kinds in ``minigan.losses``.
"""
from __future__ import annotations

import argparse
import math
from dataclasses import dataclass
from typing import Callable

from .errors import OptionError  # noqa: F401  (raised here, and by every module that checks input)


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
    keyword: str | None = None           # the trainer's keyword it becomes (options sharing one form a tuple)
    families: tuple | None = None        # the model families (--model) that take it; None: every family
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

    def applies_to(self, model: str) -> bool:
        return self.families is None or model in self.families


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


def _families():
    from . import families
    return families.names()


def _tasks():
    from .families.pix2pix import TASKS
    return TASKS


def _masks():
    from .inpaint import MASKS
    return MASKS


GAN, PIX2PIX, VAE, CYCLEGAN = ("gan",), ("pix2pix",), ("vae",), ("cyclegan",)  # the families an option row belongs to


def _g_noise():
    from .train import G_NOISE
    return G_NOISE


def _lr_schedules():
    from .train import LR_SCHEDULES
    return LR_SCHEDULES


def _distributed():
    from .distributed import KINDS
    return KINDS

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
    Option("model", "gan", anything(str), "the model family: gan, pix2pix (a conditional U-Net GAN restoring or "
           "translating images), vae or cyclegan (translation between --dataset and --to without pairs)",
           choices=_families, fixed=True),
    Option("dataset", "digits", anything(str), "the training data (the default, digits, is embedded: no download)",
           choices=_datasets, fixed=True),
    Option("arch", None, anything(str), "the architecture", choices=_architectures, fixed=True, families=GAN,
           unset="the data set's"),
    Option("loss", "nonsaturating", anything(str), "the GAN loss", choices=_losses, keyword="loss",
           families=GAN),
    Option("steps", 2000, count(), "the run's TOTAL number of training (generator) steps"),
    Option("batch_size", 64, count(), "batch size (a multiple of --pack)"),
    Option("seed", 0, count(0), "random seed (same seed, same backend: same result)", keyword="seed", fixed=True),
    Option("backend", None, anything(str), "the array backend", choices=_backends,
           unset="MINIGAN_BACKEND, else numpy"),
    Option("lr_g", 2e-4, number(0, low_open=True), "generator learning rate (Adam)", keyword="lr_g",
           families=GAN + PIX2PIX),
    Option("lr_d", 2e-4, number(0, low_open=True), "discriminator learning rate (Adam)", keyword="lr_d",
           families=GAN + PIX2PIX),
    Option("beta1", 0.5, number(0, 1), "Adam beta1", keyword="betas", fixed=True),
    Option("beta2", 0.999, number(0, 1), "Adam beta2", keyword="betas", fixed=True),
    Option("d_steps", 1, count(), "discriminator steps per generator step", keyword="d_steps",
           families=GAN),
    Option("pack", 1, count(), "PacGAN packing: D judges this many samples at once", keyword="pack", fixed=True,
           families=GAN),
    Option("clip", None, number(0, low_open=True), "clip each model's global gradient norm to this value",
           nullable=True, keyword="clip"),
    Option("z_dim", 100, count(), "noise dimension", keyword="z_dim", fixed=True, families=GAN),
    Option("width", None, count(), "architecture width (hidden units or base channels)", nullable=True,
           arch=True, fixed=True, unset="the architecture's", families=GAN + PIX2PIX + CYCLEGAN),
    Option("output_scale", 1.0, number(0, low_open=True), "fixed gain on the toy generator's output", arch=True,
           families=GAN),
    Option("z_categories", 0, categories, "make z's first coordinate a one-hot code over this many equal-mass "
           "categories (a mixture of generators; 0: off)", arch=True, fixed=True, families=GAN),
    Option("z_noise_scale", 1.0, number(0, low_open=True), "scale of the other noise coordinates beside "
           "--z-categories' code", arch=True, needs="z_categories", families=GAN),
    Option("spectral_norm", False, anything(bool), "wrap every weight layer of D (Dense, Conv2d, ConvTranspose2d) "
           "in spectral normalisation (Miyato et al. 2018): D becomes 1-Lipschitz per layer", build=True,
           fixed=True, families=GAN),
    Option("ema", None, number(0, 1, low_open=True), "sample from an exponential moving average of G's weights "
           "with this decay (e.g. 0.999)", nullable=True, keyword="ema", fixed=True, families=GAN),
    Option("r1", 0.0, number(0), "R1 penalty weight gamma: gamma/2 * mean |dD/dx|^2 on real data (0: off)",
           keyword="r1", families=GAN),
    Option("lr_schedule", "constant", anything(str), "linear: both learning rates decay to 0 over --steps",
           choices=_lr_schedules, keyword="lr_schedule", families=GAN),
    Option("g_noise", "reuse", anything(str), "G's step judges the D step's fakes again ('reuse', as "
           "PyTorch's DCGAN example does) or fakes from 'fresh' noise", choices=_g_noise, keyword="g_noise",
           families=GAN),
    Option("augment", None, augment_policy, "differentiable augmentation of the real and the fake images D "
           "sees, e.g. translation,cutout,brightness (Zhao et al. 2020)", nullable=True, keyword="augment",
           families=GAN),
    Option("task", "inpaint", anything(str), "restore hidden pixels (inpaint, with --mask), enlarge "
           "2x2 block means back to the full image (superres), or map image i of --dataset to image i of --to "
           "(translate)", choices=_tasks, fixed=True, families=PIX2PIX),
    Option("to", None, anything(str), "the second data set, of the same image shape: cyclegan's domain B; "
           "pix2pix --task translate's targets", choices=_datasets, nullable=True, fixed=True,
           families=PIX2PIX + CYCLEGAN),
    Option("to_data_dir", None, anything(str), "where --to's files are", nullable=True,
           unset="--data-dir", families=PIX2PIX + CYCLEGAN),
    Option("cycle_weight", 10.0, number(0), "lambda of the cycle terms l1(F(G(a)), a) + l1(G(F(b)), b)",
           keyword="cycle_weight", families=CYCLEGAN),
    Option("identity_weight", 5.0, number(0), "lambda_id of the identity terms l1(G(b), b) + l1(F(a), a) "
           "(the authors': half the cycle weight)", keyword="identity_weight", families=CYCLEGAN),
    Option("pool", 50, count(0), "D judges fakes from a pool of this many earlier ones (0: the current ones)",
           keyword="pool_size", fixed=True, families=CYCLEGAN),
    Option("blocks", None, count(0), "the residual blocks of each generator", nullable=True, fixed=True,
           unset="by image size", families=CYCLEGAN),
    Option("decay_steps", None, count(0), "the last N steps lower the learning rate linearly towards 0, as the "
           "CycleGAN authors' second half (0: constant)", nullable=True, unset="half of --steps",
           families=CYCLEGAN),
    Option("mask", "bottom", anything(str), "--task inpaint: the hidden region", choices=_masks, fixed=True,
           families=PIX2PIX),
    Option("l1_weight", 100.0, number(0), "lambda of G's L1 term beside the adversarial one",
           keyword="l1_weight", families=PIX2PIX),
    Option("latent_dim", 8, count(), "the latent dimension", keyword="latent_dim", fixed=True, families=VAE),
    Option("hidden", 256, count(), "the hidden units of the encoder and the decoder", keyword="hidden",
           fixed=True, families=VAE),
    Option("pixel_std", 0.3, number(0, low_open=True), "the pixel noise s of p(x|z) = N(decoder(z), s^2 I)",
           keyword="pixel_std", families=VAE),
    Option("lr", 1e-3, number(0, low_open=True), "the learning rate of every network (Adam)", keyword="lr",
           families=VAE + CYCLEGAN),
    Option("holdout", 0.0, number(0, 1), "keep the last round(F * N) images of an image data set out of "
           "training, for minigan evaluate (the emoji: every 1/F-th base emoji with its skin tones)", fixed=True),
    Option("image_size", None, count(), "the side S of the images, for a data set that makes them (emoji: "
           "16, 32 or 64; folder: any)", nullable=True, fixed=True, unset="the data set's"),
    Option("channels", None, count(), "folder: 3 (RGB) or 1 (grey)", nullable=True, fixed=True,
           unset="the data set's"),
    Option("conditional", False, anything(bool), "a conditional GAN on a labelled set: the label goes to G "
           "as a one-hot input and to D as one constant channel per class (minigan sample --label K)",
           fixed=True, families=GAN),
    Option("log_every", 10, count(), "steps between history rows"),
    Option("checkpoint_every", 500, count(), "steps between checkpoints"),
    Option("frames", 40, count(0), "frames of the fixed-noise grid in progress.gif (0: none)"),
    Option("data_dir", None, anything(str), "where the data set's files are: the MNIST / Fashion-MNIST IDX "
           "files, an emoji-datasource package (folder or .tgz, or a folder holding them), your pictures for "
           "--dataset folder (default: the user cache folder)", nullable=True),
    Option("download", False, anything(bool), "download missing MNIST / Fashion-MNIST / emoji files "
           "(checksums verified)"),
    Option("distributed", "none", anything(str), "data-parallel training over the processes of mpiexec -n P: "
           "mpi (mpi4py, pip install \"minigan[mpi]\") or nccl (one GPU each, --backend cupy); --batch-size is "
           "per process", choices=_distributed),
    Option("sync_bn", False, anything(bool), "with --distributed: BatchNorm statistics over all processes' "
           "batches together (the global batch), not each process's own"),
)
BY_NAME = {o.name: o for o in OPTIONS}


# -- the command line -------------------------------------------------------------------------------
def _default_text(option: Option) -> str:
    """"default D; <data set> V, ... (the gan recipe of each set); --model <family> V, ..." for the help."""
    from . import data, families

    shown = option.unset if option.default is None else option.default
    per_set = [f"{d.name} {d.defaults[option.name]}" for d in data.DATASETS.values() if option.applies_to("gan")
               and option.name in d.defaults and d.defaults[option.name] != option.default]
    per_family = [f"--model {f.name} {f.defaults[option.name]}" for f in families.FAMILIES.values()
                  if option.name in f.defaults and f.defaults[option.name] != option.default]
    return f"default {shown}" + "".join(f"; {', '.join(more)}" for more in (per_set, per_family) if more)


CLEARED = "none"  # on the command line, the value that turns off an option that may be off (--clip none)


class _Cleared:
    """What the parser gives for ``--option none`` of a nullable option: "set it to off", which ``given``
    tells apart from "not given" (None), so a resumed run can drop a --clip or a --data-dir."""


def _nullable(parse):
    def parse_or_clear(text: str):
        return _Cleared if text.strip().lower() == CLEARED else parse(text)
    parse_or_clear.__name__ = parse.__name__  # argparse names the type in its error messages
    return parse_or_clear


def add_arguments(parser) -> None:
    """Add one argument per option to ``parser``. Every default is None, so that ``given`` can tell
    "given again" from "not given" (config.json and the data set supply the rest); an option that may
    be off also takes the value ``none``."""
    for option in OPTIONS:
        text = (f"{option.help} ({_default_text(option)}" + (f"; none: {option.unset}" if option.nullable else "") +
                (f"; --model {' or '.join(option.families)} only)" if option.families else ")"))
        if option.type is bool:  # --flag and --no-flag: a data set may default to on (the emoji's spectral norm)
            parser.add_argument(option.flag, action=argparse.BooleanOptionalAction, default=None, help=text)
        else:
            parse = _nullable(option.type) if option.nullable else option.type
            parser.add_argument(option.flag, type=parse, default=None, help=text,
                                choices=option.choices() if option.choices else None)


def given(args) -> dict:
    """The options given on the command line, as config keys (``none`` given: None, off)."""
    values = {o.name: getattr(args, o.name, None) for o in OPTIONS}
    return {k: (None if v is _Cleared else v) for k, v in values.items() if v is not None}


# -- configs ----------------------------------------------------------------------------------------
def make_config(options: dict) -> dict:
    """A new run's config: option defaults, then the data set's defaults (the GAN recipe tuned for it:
    for the gan family only, the family's own defaults for the others), then ``options``.

    A data set's default for an architecture option (e.g. its width) applies only when the chosen
    architecture takes that option, so picking another architecture never inherits one it refuses.
    """
    from . import data, families

    dataset = data.get(options.get("dataset", BY_NAME["dataset"].default))
    unknown = sorted(set(dataset.defaults) - set(BY_NAME))
    if unknown:
        raise OptionError(f"data set {dataset.name!r}: its defaults name {unknown[0]!r}, which is not an "
                          f"option of minigan train (expected one of {', '.join(BY_NAME)})")
    model = options.get("model", BY_NAME["model"].default)
    family = families.get(model) if model in families.names() else None
    config = {o.name: o.default for o in OPTIONS}
    if model == "gan" or family is None:  # (an unknown model is refused by validate)
        config.update(dataset.defaults)
    else:
        config.update(family.defaults)
    config.update(options)
    config["dataset"] = dataset.name
    for name, default in dataset.options.items():  # recorded, so that the run keeps them whatever the defaults
        if config.get(name) is None:
            config[name] = default
    if config["backend"] is None:
        from . import backend
        config["backend"] = backend.name  # MINIGAN_BACKEND's, else numpy
    return _drop_inapplicable(config, keep=options)


def _drop_inapplicable(config: dict, keep=()) -> dict:
    """Put back at their defaults the options, not named in ``keep``, that cannot apply: an option of
    another model family, an architecture option the chosen architecture does not take (a data set's
    width, say, when another architecture is chosen), and an option whose ``needs`` is off (the
    grid's noise scale under --z-categories 0)."""
    from . import models

    model = config.get("model", BY_NAME["model"].default)
    for o in OPTIONS:
        if not o.applies_to(model) and o.name not in keep:
            config[o.name] = o.default
    if model == "gan" and config.get("arch") in models.ARCHITECTURES:
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
        if value == option.default and not option.applies_to(str(config["model"])):
            continue  # another family's option, unset (its refusal when set comes below)
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
    model = config["model"]
    for option in OPTIONS:
        if not option.applies_to(model) and config[option.name] != option.default:
            default = "no value" if option.default is None else f"the default {option.default}"
            fail(option.name, f"{default}: --model {model} does not take {option.flag} (an option of "
                              f"--model {' or '.join(option.families)})")
    if config["distributed"] == "nccl" and config["backend"] != "cupy":
        fail("distributed", NCCL_NEEDS_CUPY)
    if config["holdout"] and dataset.kind != "images":
        fail("holdout", f"0: data set {dataset.name!r} is not a fixed set of images")
    for name in ("image_size", "channels"):
        if config[name] is not None and name not in dataset.options:
            fail(name, f"no value: data set {dataset.name!r} has a fixed sample shape "
                       f"{dataset.sample_shape(config)}")
        if config[name] is not None and name in dataset.choices and config[name] not in dataset.choices[name]:
            fail(name, f"one of {', '.join(map(str, dataset.choices[name]))} for data set {dataset.name!r}")
    if config["conditional"] and (dataset.kind != "images" or not dataset.num_classes or dataset.stack_of):
        fail("conditional", f"no value: data set {dataset.name!r} is not a set of labelled images")
    if config["conditional"] and config["augment"]:
        fail("augment", "no value with --conditional: the augmentations would move and cut D's label "
                        "channels too")
    if model != "gan":
        _check_image_family(config, dataset, fail)
        return config
    arch = models.get(config["arch"])
    try:
        arch.check(config["arch"], dataset.sample_shape(config))
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
    if config["augment"] and dataset.kind != "images":
        fail("augment", f"no value: data set {dataset.name!r} is 2-D points, not images to augment")
    return config


def _check_image_family(config: dict, dataset, fail) -> None:
    """The checks of a family other than gan: image data (a U-Net's two stride-2 stages for pix2pix, the
    ResNet generator's for cyclegan); a --to set of the same shape where the family translates, with image i
    the counterpart of image i for pix2pix."""
    from . import data
    from .datasource import paired, target_config

    if dataset.kind != "images":
        fail("model", f"gan on data set {dataset.name!r} (2-D points); --model {config['model']} takes images")
    shape = dataset.sample_shape(config)
    model, translates = config["model"], config["model"] == "cyclegan" or config["task"] == "translate"
    if model in ("pix2pix", "cyclegan") and (shape[1] % 4 or shape[2] % 4 or min(shape[1:]) < 8):
        fail("dataset", f"images whose sides are multiples of 4, at least 8, for --model {model} (its "
                        f"generator halves them), not {shape}")
    if not translates:
        if config["to"] is not None or config["to_data_dir"] is not None:
            fail("to" if config["to"] is not None else "to_data_dir",
                 "no value: --task inpaint and superres restore images of one set (--to is for --task translate)")
        return
    if config["to"] is None:
        needs = "--model cyclegan" if model == "cyclegan" else "--model pix2pix --task translate"
        raise OptionError(f"{needs}: expected --to B, a second data set of images ({needs} maps --dataset "
                          f"{dataset.name!r} to B)")
    target = data.get(config["to"])
    if target.kind != "images" or target.stack_of:
        fail("to", f"a set of images, not {target.name!r}")
    if target.sample_shape(target_config(config)) != shape:
        fail("to", f"a set of images of the shape {shape} of --dataset {dataset.name!r}, not "
                   f"{target.sample_shape(target_config(config))}")
    if model == "pix2pix" and not paired(config):
        fail("to", f"a set whose image i is the counterpart of image i of --dataset {dataset.name!r} for "
                   f"--task translate (the two emoji sets are); unpaired sets: --model cyclegan")


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

    if config.get("model", "gan") != "gan":
        return {}
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


def trainer_arguments(config: dict) -> dict:
    """The keyword arguments of the run's trainer (``GAN``, ``Pix2Pix``, ``VAE``) from the config: the
    options of its family that name a keyword; options that share a keyword form a tuple (betas)."""
    kwargs: dict = {}
    rows = [o for o in OPTIONS if o.keyword and o.applies_to(config.get("model", "gan"))]
    for option in rows:
        value = config.get(option.name, option.default)
        if sum(o.keyword == option.keyword for o in rows) > 1:
            kwargs[option.keyword] = kwargs.get(option.keyword, ()) + (value,)
        else:
            kwargs[option.keyword] = value
    return kwargs
