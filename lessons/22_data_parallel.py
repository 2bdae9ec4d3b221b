# %% [markdown]
# # Lesson 22 — data parallelism is a large batch
#
# When one process is not enough, P processes can train one model together: each holds
# a copy of the model, draws its own batch of $b$ samples, back-propagates, and the P
# gradients are **averaged** before every optimiser step, so the copies stay identical.
# That is `mpiexec -n P minigan train --distributed mpi` (minigan.distributed, as
# ChainerMN did for Chainer). This lesson shows that nothing about it is magic: P
# processes with $b$ samples each compute what ONE process computes with a batch of
# $B = P b$. It checks
#
# 1. why the gradients are averaged: the average equals the gradient of the whole
#    batch (and central differences of that batch's loss);
# 2. what it means for the learning rate: a batch $k$ times larger has $1/k$ of the
#    gradient noise, and (for SGD) one step with $k\eta$ does what $k$ small steps do;
# 3. plain against synchronised BatchNorm: plain BatchNorm normalises each process's
#    part on its own (a different model), the synchronised one reproduces the batch;
# 4. why each rank needs its own noise: with the same $z$ everywhere, the "large batch"
#    of fakes is P copies of one batch.
#
# Run as `mpiexec -n 2 python lessons/22_data_parallel.py` (with `pip install
# "minigan[mpi]"`), the two ranks are two MPI processes. Run as usual, they are two
# **simulated** ranks: two threads of this process, exchanging through a barrier
# (`minigan.distributed.run_ranks`), the same code and the same numbers.

# %%
from _common import Lesson, plt  # first: the path, BLAS threads, matplotlib's backend

import copy
import os
import tempfile
from pathlib import Path

import numpy as np

import minigan
from minigan import backend
from minigan.distributed import (Communicator, GradientAverager, connect,
                                 rank_generator, run_ranks, silence_other_ranks,
                                 synchronise_batchnorm)
from minigan.gradcheck import numerical_gradient, rel_error
from minigan.layers import BatchNorm1d, Dense, LeakyReLU, Sequential
from minigan.losses import bce_with_logits


def mpi_size() -> int:
    """How many processes mpiexec started (MPICH, Open MPI), read before MPI starts."""
    for name in ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE"):
        if os.environ.get(name, "").isdigit():
            return int(os.environ[name])
    return 1


WORLD = connect("mpi") if mpi_size() > 1 else None  # (a notebook: always simulated)
if WORLD is not None:
    silence_other_ranks(WORLD)  # rank 0 speaks (and draws) for all
lesson = Lesson("22_data_parallel")
if WORLD is not None and WORLD.rank:  # its figures out of rank 0's way, then deleted
    scratch = tempfile.TemporaryDirectory()
    lesson.out = Path(scratch.name)
P = WORLD.size if WORLD is not None else 2
print(f"{P} ranks: " + (f"MPI processes (this is rank {WORLD.rank})" if WORLD
                        else "simulated, as threads of this process (no mpiexec)"))
H = backend.to_numpy
minigan.set_default_dtype("float64")  # the equalities below are checked to 1e-12
B = 8 * P                               # the global batch: 8 samples per rank


def on_ranks(fn):
    """[fn(comm) of rank 0, ..., of rank P-1] on every rank: each rank's result, a
    dict of NumPy arrays of the same shapes on every rank."""
    if WORLD is None:
        return run_ranks(fn, P)
    mine = fn(WORLD)
    stacked = {k: H(WORLD.allgather(np.ascontiguousarray(v))) for k, v in mine.items()}
    return [{k: v[r] for k, v in stacked.items()} for r in range(P)]


def my_slice(comm, n=None):
    """The rows of the global batch that rank ``comm.rank`` holds."""
    n = (n or B) // comm.size
    return slice(comm.rank * n, (comm.rank + 1) * n)


# %% [markdown]
# ## 1. The average of the ranks' gradients is the batch's gradient
#
# A loss that is a mean over the batch splits into a mean of the ranks' means
# (equal slices of $b$ samples):
#
# $$L = \frac{1}{B}\sum_{i=1}^{B} \ell_i
#     = \frac{1}{P}\sum_{r=1}^{P} \underbrace{\frac{1}{b}\sum_{i \in r} \ell_i}_{L_r},
#   \qquad
#   \frac{\partial L}{\partial \theta} = \frac{1}{P}\sum_{r=1}^{P}
#   \frac{\partial L_r}{\partial \theta}.$$
#
# So each rank back-propagates its own $L_r$ and one **allreduce** (every rank sends
# its gradient and receives the mean) gives all of them $\partial L / \partial\theta$.
# minigan packs all of a model's gradients into one buffer first: one message per model
# and step, however many layers. The check: D's loss (real and fake logits, BCE) on
# two ranks against one process with the whole batch, and against central differences.

# %%
backend.seed(lesson.seed)
D = Sequential(Dense(2, 16), LeakyReLU(0.2), Dense(16, 16), LeakyReLU(0.2),
               Dense(16, 1))
data_rng = np.random.default_rng(lesson.seed + 1)
REAL = data_rng.normal(size=(B, 2))
FAKE = data_rng.normal(1.0, 0.5, size=(B, 2))


def d_loss(model, real, fake):
    """L_D on one batch, its gradients added into model.grads."""
    model.zero_grad()
    total = 0.0
    for batch, target in ((real, 1.0), (fake, 0.0)):
        logits = model(backend.asarray(batch))
        loss, grad = bce_with_logits(logits, backend.xp.full(logits.shape, target))
        model.backward(grad, input_grad=False)
        total += loss
    return total


def rank_d_gradient(comm):
    model = copy.deepcopy(D)
    part = my_slice(comm)
    d_loss(model, REAL[part], FAKE[part])
    GradientAverager(comm)(model)
    return {name: H(g).copy() for name, _, g in model.parameters()}


ranks = on_ranks(rank_d_gradient)
whole = copy.deepcopy(D)
d_loss(whole, REAL, FAKE)
errors = [rel_error(ranks[0][name], g) for name, _, g in whole.parameters()]
lesson.check("averaged gradients of 2 ranks vs the whole batch's (max rel err)",
             max(errors), 1e-12)
lesson.check_that("every rank holds the same averaged gradient, to the last bit",
                  all(np.array_equal(r[k], ranks[0][k]) for r in ranks for k in r))
W = {name: p for name, p, _ in whole.parameters()}["2.W"]
numeric = numerical_gradient(lambda: d_loss(copy.deepcopy(whole), REAL, FAKE), W)
lesson.check("averaged gradient of layer 2 vs central differences of L (rel err)",
             rel_error(ranks[0]["2.W"], numeric), 1e-7)

# %% [markdown]
# ## 2. A larger batch: less noise, and what that means for the learning rate
#
# A minibatch gradient is an average of $B$ per-sample gradients, so its variance
# around the true gradient falls as $1/B$: P ranks of $b$ have the noise of ONE batch of
# $Pb$. With the same learning rate, the run takes the same number of steps, each less
# noisy. To cover the same ground in $1/k$ of the steps, the **linear scaling rule**
# (Goyal et al. 2017) multiplies SGD's learning rate by $k$: while the gradient changes
# little over $k$ steps,
#
# $$\theta_k = \theta_0 - \eta \sum_{j<k} \nabla L_j(\theta_j)
#   \approx \theta_0 - k\eta\, \frac{1}{k}\sum_{j<k}\nabla L_j(\theta_0),$$
#
# which is ONE step of $k\eta$ on the union of the $k$ batches. The error is of second
# order in $\eta$ (the gradient moves by $O(\eta)$ within the $k$ steps), the step of
# first order: relative to the step, halving $\eta$ halves the gap. (Adam's step depends
# on the batch size too: $\hat m / \sqrt{\hat v}$ grows towards 1 as a larger batch
# lowers the gradient's noise, and square-root scaling rules for $\eta$ exist. What is
# exactly true here: 2 processes of batch 128 ARE 1 process of batch 256, the same
# gradient, so minigan keeps the learning rates as given.)

# %%
def sample_gradient(n, rng):
    """D's gradient (flat) on a fresh batch of n real and n fake points."""
    real = rng.normal(size=(n, 2))
    fake = rng.normal(1.0, 0.5, size=(n, 2))
    model = copy.deepcopy(D)
    d_loss(model, real, fake)
    return np.concatenate([H(g).ravel() for _, _, g in model.parameters()])


REPEATS = 60 if lesson.quick else 300
noise_rng = np.random.default_rng(lesson.seed + 2)
sizes = [4, 8, 16, 32]
variance = []
for n in sizes:
    draws = np.stack([sample_gradient(n, noise_rng) for _ in range(REPEATS)])
    variance.append(float(draws.var(axis=0).sum()))
slope = np.polyfit(np.log(sizes), np.log(variance), 1)[0]
lesson.check("gradient variance ~ 1/B: slope of log variance against log B, vs -1",
             abs(slope + 1), 0.15)


def sgd_gap(eta, k=4, n=8):
    """|k SGD steps of eta on k batches - 1 step of k*eta on their union| / |step|."""
    rng = np.random.default_rng(lesson.seed + 3)
    batches = [(rng.normal(size=(n, 2)), rng.normal(1.0, 0.5, size=(n, 2)))
               for _ in range(k)]
    small = copy.deepcopy(D)
    for real, fake in batches:
        d_loss(small, real, fake)
        for _, p, g in small.parameters():
            p -= eta * g
    large = copy.deepcopy(D)
    d_loss(large, *(np.concatenate(parts) for parts in zip(*batches)))
    step = np.concatenate([H(k * eta * g).ravel() for _, _, g in large.parameters()])
    gap = np.concatenate([H(p_s - (p_l - k * eta * g)).ravel()
                          for (_, p_s, _), (_, p_l, g)
                          in zip(small.parameters(), large.parameters())])
    return float(np.abs(gap).max() / np.abs(step).max())


gaps = {eta: sgd_gap(eta) for eta in (0.04, 0.02, 0.01)}
print("  k = 4 steps of eta vs 1 step of 4 eta, gap / step: "
      + ", ".join(f"eta {e}: {g:.2e}" for e, g in gaps.items()))
lesson.check_that("one step of k*eta does what k steps of eta do, to first order "
                  "(halving eta halves the gap relative to the step)",
                  all(0.35 < gaps[e / 2] / gaps[e] < 0.65 for e in (0.04, 0.02)),
                  " ".join(f"{gaps[e / 2] / gaps[e]:.2f}" for e in (0.04, 0.02)))

fig, ax = plt.subplots(figsize=(5, 3.5))
ax.loglog(sizes, variance, "o-", label="measured")
ax.loglog(sizes, [variance[0] * sizes[0] / n for n in sizes], "--",
          label="$\\propto 1/B$")
ax.set_xlabel("batch size B (2 ranks of B/2, or 1 process)")
ax.set_ylabel("total variance of D's gradient")
ax.legend()
lesson.savefig(fig, "gradient_noise.png")

# %% [markdown]
# ## 3. BatchNorm: per rank, or synchronised
#
# BatchNorm normalises with the mean $\mu$ and variance $\sigma^2$ of the batch it is
# given. On P ranks, "the batch" is each rank's $b$ samples: plain BatchNorm computes
# other statistics than one process with all $B$, so it is a different function and
# the averaged gradients are not the batch's. **Synchronised** BatchNorm allreduces,
# per channel, one buffer $[m_r, \sum (x - K), \sum (x - K)^2]$ ($K$ = the running mean,
# the same on every rank) in the forward, so that
# $\mu = K + S_1/m$ and $\sigma^2 = S_2/m - (S_1/m)^2$ over all $m = \sum_r m_r$ values;
# in the backward it allreduces the two sums of lesson 4,
# $\sum \partial L/\partial y$ and $\sum \partial L/\partial y \cdot \hat x$, which
# every rank's input gradient needs. Four models, one batch of $B$:
#
# | model | ranks | BatchNorm | expected |
# |---|---|---|---|
# | A | 1 | plain | the reference |
# | B | 2 | plain, per rank | differs from A |
# | C | 1 | synchronised (over a group of one) | equals A |
# | D | 2 | synchronised | equals A |

# %%
backend.seed(lesson.seed)
NET = Sequential(Dense(2, 8), BatchNorm1d(8), LeakyReLU(0.2), Dense(8, 1))
X = np.random.default_rng(lesson.seed + 4).normal(3.0, 2.0, size=(B, 2))
G_OUT = np.random.default_rng(lesson.seed + 5).normal(size=(B, 1))


def bn_model(comm, sync):
    """Outputs, input gradients (as rows of the batch's dL/dx) and averaged parameter
    gradients of L = mean <y_i, g_i> on this rank's slice."""
    model = copy.deepcopy(NET)
    if sync:
        synchronise_batchnorm(model, comm)
    part = my_slice(comm)
    y = model(backend.asarray(X[part]))
    model.zero_grad()
    dx = model.backward(backend.asarray(G_OUT[part] / len(X[part])))
    GradientAverager(comm)(model)
    return {"y": H(y), "dx": H(dx) / comm.size,
            **{name: H(g).copy() for name, _, g in model.parameters()}}


def whole_batch(results):
    """The ranks' results as one batch: their rows of y and dx, rank 0's gradients."""
    return {k: np.concatenate([r[k] for r in results]) if k in ("y", "dx")
            else results[0][k] for k in results[0]}


def difference(a, b):
    return max(rel_error(a[k], b[k]) for k in ("y", "dx", "0.W", "1.gamma"))


models = {"A": bn_model(Communicator(), sync=False),
          "B": whole_batch(on_ranks(lambda comm: bn_model(comm, sync=False))),
          "C": bn_model(Communicator(), sync=True),
          "D": whole_batch(on_ranks(lambda comm: bn_model(comm, sync=True)))}
gap = {name: difference(models[name], models["A"]) for name in "BCD"}
lesson.check_that("B (plain BatchNorm on 2 ranks) differs from the whole batch",
                  gap["B"] > 1e-2, f"rel diff {gap['B']:.2e} > 1e-2")
lesson.check("C (synchronised, 1 process) vs A (rel err)", gap["C"], 1e-12)
lesson.check("D (synchronised, 2 ranks) vs A: y, dL/dx, dL/dW, dL/dgamma (rel err)",
             gap["D"], 1e-12)

fig, ax = plt.subplots(figsize=(5, 3.2))
ax.bar(list(gap), [max(g, 1e-17) for g in gap.values()], color=["C3", "C2", "C2"])
ax.set_yscale("log")
ax.set_ylabel("largest rel. difference from A")
ax.set_title("B: plain BN, 2 ranks; C: sync BN, 1; D: sync BN, 2")
lesson.savefig(fig, "batchnorm_four_models.png")

# %% [markdown]
# ## 4. Each rank needs its own noise
#
# The fakes are part of the batch too. If every rank seeded its noise alike, every rank
# would draw the same $z$ and make the same fakes: the average of P identical
# gradients is the gradient of ONE batch of $b$ fakes, and P processes buy nothing for
# G. minigan gives rank 0 the single-process generator and rank $r$ the $r$-th child
# stream of the same seed (`rank_generator`: NumPy's `SeedSequence` spawn keys). The
# check: G's averaged gradient with the same noise on both ranks equals one rank's
# own gradient; with each rank's own noise it equals the gradient of the $2b$ fakes.

# %%
backend.seed(lesson.seed)
G = Sequential(Dense(4, 16), LeakyReLU(0.2), Dense(16, 2))
JUDGE = copy.deepcopy(D)


def g_gradient(model, z):
    """Non-saturating L_G = -mean log D(G(z)) on noise z; gradient into model.grads."""
    model.zero_grad()
    fake = model(backend.asarray(z))
    logits = JUDGE(fake)
    _, grad = bce_with_logits(logits, backend.xp.ones((len(z), 1)))
    model.backward(JUDGE.backward(grad, param_grads=False), input_grad=False)


def rank_g_gradient(comm, own_noise):
    rng = rank_generator(lesson.seed, comm.rank if own_noise else 0)
    z = rng.standard_normal((B // comm.size, 4))
    model = copy.deepcopy(G)
    g_gradient(model, z)
    alone = {name: H(g).copy() for name, _, g in model.parameters()}
    GradientAverager(comm)(model)
    return {"z": z, **{name: H(g).copy() for name, _, g in model.parameters()},
            **{f"alone.{k}": v for k, v in alone.items()}}


same = on_ranks(lambda comm: rank_g_gradient(comm, own_noise=False))
own = on_ranks(lambda comm: rank_g_gradient(comm, own_noise=True))
keys = [name for name, _, _ in G.parameters()]
lesson.check("same noise everywhere: averaged G gradient vs rank 0's own (rel err)",
             max(rel_error(same[0][k], same[0][f"alone.{k}"]) for k in keys), 1e-12)
union = copy.deepcopy(G)
g_gradient(union, np.concatenate([r["z"] for r in own]))
lesson.check("own noise: averaged G gradient vs the 2b fakes' gradient (rel err)",
             max(rel_error(own[0][k], g) for k, _, g in union.parameters()), 1e-12)
lesson.check_that("own noise: the ranks drew different z",
                  not np.allclose(own[0]["z"], own[1]["z"]))

lesson.finish()

# %% [markdown]
# ## Questions
#
# 1. Each rank's loss is the mean over its own $b$ samples. If one rank held 4 samples
#    and the other 12, would the plain average of their gradients still be the
#    gradient of the 16-sample batch? What would you average instead?
# 2. The 2-process ring8 run in docs/experiments.md kept the learning rates and used
#    batch 128 per process. Which single-process run is it, and why did Adam need no
#    learning-rate scaling?
# 3. Synchronised BatchNorm shifts its sums by the running mean $K$. Why must $K$ be the
#    same on every rank, and what makes it so?
# 4. Why does D's step not need its own allreduce per backward (real, then fake), but
#    one per step?
#
# Short answers: `lessons/ANSWERS.md`.
