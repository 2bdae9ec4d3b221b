# %% [markdown]
# # Lesson 29 — from hand-written backward to autograd: a tiny reverse-mode engine
#
# Every network so far was a chain (`Sequential`) or a container whose backward was
# written by hand for its one shape of graph (`Residual`, or lesson 19's `Concat`). An
# autograd engine does the bookkeeping once, for ANY directed acyclic graph of layers.
# It needs only two ideas beyond the layers' own backwards:
#
# 1. **an order**: run the forwards so that every node comes after its inputs (a
#    *topological order*), and the backwards in the reverse of that order, so that a
#    node's gradient is complete before it is sent further back;
# 2. **the fork's sum**: a value used by several consumers influences the loss through
#    each of them, so the gradients coming back from them are ADDED (the multivariate
#    chain rule, the same rule as in `minigan/layers/branch.py`).
#
# The engine below is 40 lines. Its nodes hold minigan layers and call their own
# `forward` and `backward`; nothing is differentiated automatically but the wiring.
# The checks: on a graph with a fork and a join it reproduces the hand-written chain
# EXACTLY, bit for bit; it reproduces minigan's `Residual(block)` exactly; and on
# random graphs it agrees with central differences in float64.
#
# **Exercise.** Write `topological_order` and `accumulate` in
# `lessons/exercises/29_autograd_engine.py`, then run
# `python lessons/29_autograd_engine.py --exercise`: every check then runs the engine
# with your two functions.

# %%
from _common import Lesson, plt  # first: the path, BLAS threads, matplotlib's backend

import math

import numpy as np

import minigan
from minigan import backend
from minigan.gradcheck import numerical_gradient, rel_error
from minigan.layers import Dense, ReLU, Residual, Sequential, Tanh, no_grad

lesson = Lesson("29_autograd_engine")
minigan.set_default_dtype("float64")   # central differences need float64 (lesson 02)
A, H = backend.asarray, backend.to_numpy
rng = np.random.default_rng(lesson.seed)

# %% [markdown]
# ## 1. Nodes, an order, and the two passes
#
# A `Node` is one value of the graph: a **leaf** (an input, `op` None), a minigan
# layer applied to one input node, or `ADD`, the sum of several input nodes (the join
# of a residual connection). The graph is known from its output alone: follow
# `.inputs` back.
#
# `topological_order(output)` lists every node the output depends on, EACH ONCE, each
# after all of its inputs, the output last. A shared node is reachable by several
# paths and must still appear once: run twice, its layer's backward would run twice
# and its gradient would count twice.
#
# `forward(order, feed)` runs the layers in that order; `backward(order, output, G)`
# starts from $G = \partial L/\partial y$ at the output and visits the nodes in the
# REVERSE order. A layer node calls its layer's `backward` (which pops the save of its
# forward and ADDS its parameter gradients, as always); an `ADD` node hands its
# gradient unchanged to each input ($\partial (a + b)/\partial a = I$). Every gradient
# sent to a node goes through `accumulate(grads, node, g)`: the first one is stored,
# the next ones are added to it. Reverse topological order guarantees that when a
# node's turn comes, all its consumers have already been visited: its gradient is
# complete. The engine refuses (raises) when that is not so, or when a forward would
# read a value not yet computed.

# %%
ADD = "add"


class Node:
    """A value of the graph: a leaf (op None), a layer of one input, or ADD of many."""

    def __init__(self, name, op=None, *inputs):
        self.name, self.op, self.inputs = name, op, list(inputs)

    def __repr__(self):
        return f"Node({self.name})"


class EngineError(RuntimeError):
    """The order cannot be run: a value or a gradient is needed before it exists."""


def topological_order(output):
    """The lesson's: depth first from the output, each node after its inputs."""
    order, placed = [], set()

    def visit(node):
        if node in placed:
            return
        placed.add(node)
        for inp in node.inputs:
            visit(inp)
        order.append(node)

    visit(output)
    return order


def accumulate(grads, node, g):
    """The fork's sum: add g to the gradient node has received so far (a new array)."""
    grads[node] = grads[node] + g if node in grads else g


reference_order = topological_order       # the numeric side of the checks uses this one
topological_order, accumulate = lesson.exercises(topological_order, accumulate)


def forward(order, feed):
    """{node: value}, running the nodes in ``order``; feed: {leaf: array}."""
    values = {}
    for node in order:
        for inp in node.inputs:
            if inp not in values:
                raise EngineError(f"{node.name} runs before its input {inp.name}")
        if node.op is None:
            values[node] = feed[node]
        elif node.op is ADD:
            total = values[node.inputs[0]]
            for inp in node.inputs[1:]:
                total = total + values[inp]
            values[node] = total
        else:
            values[node] = node.op.forward(values[node.inputs[0]])
    return values


def backward(order, output, grad_out):
    """{node: dL/dnode}, visiting ``order`` in reverse; layers add their dL/dparams."""
    grads = {output: grad_out}
    for node in reversed(order):
        if node not in grads:
            raise EngineError(f"{node.name} has no gradient at its turn: a consumer "
                              "of it comes later in the reverse order")
        g = grads[node]
        if node.op is ADD:
            for inp in node.inputs:
                accumulate(grads, inp, g)       # the same array to every input
        elif node.op is not None:
            accumulate(grads, node.inputs[0], node.op.backward(g))
    return grads


def param_grads(layers):
    """{'layer.param': copy of its gradient} for a dict name -> layer."""
    return {f"{name}.{p}": H(g).copy() for name, layer in layers.items()
            for p, _, g in layer.parameters()}


def run_engine(output, feed, G, layers):
    """The engine's {leaf name or 'layer.param': gradient}, or None when it stops."""
    for layer in layers.values():
        layer.zero_grad()
    try:
        order = topological_order(output)
        forward(order, feed)
        grads = backward(order, output, G)
        leaves = [n for n in reference_order(output) if n.op is None]
        missing = [leaf.name for leaf in leaves if leaf not in grads]
        if missing:
            raise EngineError(f"no gradient reached the leaf {missing[0]}")
    except EngineError as exc:
        print(f"  the engine stopped: {exc}")
        return None
    out = {leaf.name: H(grads[leaf]).copy() for leaf in leaves}
    out.update(param_grads(layers))
    return out


def numeric(output, feed, G, layers):
    """The same gradients by central differences of L = sum(y * G), float64."""
    order = reference_order(output)
    Gh = H(G)

    def loss():
        with no_grad():
            return float((H(forward(order, feed)[output]) * Gh).sum())

    out = {leaf.name: H(numerical_gradient(loss, feed[leaf]))
           for leaf in order if leaf.op is None}
    for name, layer in layers.items():
        for p, value, _ in layer.parameters():
            out[f"{name}.{p}"] = H(numerical_gradient(loss, value))
    return out


def worst(a, b):
    """The largest rel_error over the entries; inf when one is None or keys differ."""
    if a is None or b is None or set(a) != set(b):
        return math.inf
    return max(rel_error(a[k], b[k]) for k in a)


def order_problems(order, output):
    """'' when order holds each node of the graph once, each after its inputs."""
    nodes = reference_order(output)
    if len(order) != len(set(order)):
        return f"{len(order) - len(set(order))} node(s) listed twice"
    if set(order) != set(nodes):
        return f"{len(set(nodes) - set(order))} node(s) missing"
    where = {node: i for i, node in enumerate(order)}
    late = [n.name for n in order if any(where[i] > where[n] for i in n.inputs)]
    return f"{late[0]} before its input" if late else ""


# %% [markdown]
# ## 2. A fork and a join, against the hand-written chain
#
# The graph: $h = \mathrm{ReLU}(x W_0 + b_0)$, then $h$ FORKS into two Dense layers
# and their outputs JOIN in a sum, $y = A(h) + B(h)$, with $x$ of shape $(5, 4)$, $h$
# $(5, 6)$ and $y$ $(5, 3)$. Written by hand, its backward is
#
# $$g_A = J_A^\top G, \quad g_B = J_B^\top G, \quad
#   \frac{\partial L}{\partial h} = g_A + g_B, \quad
#   \frac{\partial L}{\partial x} = J_{\mathrm{stem}}^\top (g_A + g_B),$$
#
# the stem $x \to h$ a `Sequential(Dense, ReLU)`. The engine runs the same layer
# objects, so the same floating-point operations, and a sum of two terms does not
# depend on their order ($a + b = b + a$ exactly in IEEE arithmetic): its gradients
# must equal the hand-written ones to the last bit. The checks: relative difference
# at most $10^{-12}$ (measured: 0) for $x$ and all six parameter arrays; both against
# central differences of $L = \sum y \odot G$ ($h = 10^{-6}$, float64: at most
# $10^{-7}$, lesson 02); your order holding each of the 6 nodes once, after its
# inputs; and a contract: the engine leaves the caller's $G$ as it was (an `ADD`
# hands the same array to each input, so adding into it in place would change it).

# %%
lesson.section("2. a fork and a join: the engine vs the hand-written chain")
stem = Sequential(Dense(4, 6), ReLU())
dense_a, dense_b = Dense(6, 3), Dense(6, 3)
layers1 = {"stem0": stem[0], "relu": stem[1], "A": dense_a, "B": dense_b}
x1 = A(rng.standard_normal((5, 4)))
G1 = A(rng.standard_normal((5, 3)))

# by hand
for layer in (stem, dense_a, dense_b):
    layer.zero_grad()
h1 = stem.forward(x1)
y_hand = dense_a.forward(h1) + dense_b.forward(h1)
g_h = dense_a.backward(G1) + dense_b.backward(G1)
hand = {"x": H(stem.backward(g_h)).copy(), **param_grads(layers1)}

# by the engine: the same layers as nodes
x_node = Node("x")
h_node = Node("h", stem[1], Node("stem0", stem[0], x_node))
y_node = Node("y", ADD, Node("A", dense_a, h_node), Node("B", dense_b, h_node))
feed1 = {x_node: x1}
G1_before = H(G1).copy()
engine1 = run_engine(y_node, feed1, G1, layers1)
seed_kept = bool(np.array_equal(H(G1), G1_before))
num1 = numeric(y_node, feed1, A(G1_before), layers1)  # G1 as the caller gave it
problem = order_problems(topological_order(y_node), y_node)

err_hand = worst(engine1, hand)
print("  your order: " + ", ".join(n.name for n in topological_order(y_node)))
lesson.check_that("your order: the 6 nodes, each once, each after its inputs",
                  not problem, problem or "valid")
lesson.check("engine vs hand-written: dL/dx and the 6 parameter arrays (max rel "
             "diff)", err_hand, 1e-12)
lesson.check("engine vs central differences (max rel err, float64)",
             worst(engine1, num1), 1e-7)
lesson.check("hand-written vs central differences (max rel err, float64)",
             worst(hand, num1), 1e-7)
lesson.check_that("contract: the engine leaves the caller's dL/dy unchanged",
                  seed_kept, "unchanged" if seed_kept else "changed in place")


def depths(order):
    """Longest path from a leaf, per node: the column a node is drawn in."""
    d = {}
    for n in order:
        d[n] = 1 + max((d[i] for i in n.inputs), default=-1)
    return d


def draw(ax, output, title):
    """The graph, one column per depth; a fork (2+ consumers) in orange."""
    order = reference_order(output)
    d = depths(order)
    consumers = {n: sum(n in m.inputs for m in order) for n in order}
    column = {}
    pos = {}
    for n in order:
        k = column.get(d[n], 0)
        column[d[n]] = k + 1
        pos[n] = (d[n], -k)
    for n in order:
        for i in n.inputs:
            skip = d[n] - d[i] > 1          # a long edge: drawn as an arc above
            ax.annotate("", xy=pos[n], xytext=pos[i],
                        arrowprops=dict(arrowstyle="->", color="0.4",
                                        shrinkA=14, shrinkB=14, connectionstyle=
                                        f"arc3,rad={-0.3 if skip else 0}"))
    for k, n in enumerate(order):
        fork = consumers[n] > 1
        label = n.name if n.op is not ADD else f"{n.name} = +"
        ax.text(*pos[n], f"#{k} {label}", ha="center", va="center", fontsize=8,
                bbox=dict(boxstyle="round", fc="orange" if fork else "w"))
    ax.set(title=title, xlim=(-0.6, max(d.values()) + 0.6), ylim=(-1.5, 1.2))
    ax.axis("off")


# %% [markdown]
# ## 3. minigan's own `Residual(block)`, rebuilt as a graph
#
# `Residual(block)` computes $y = x + f(x)$: its input FORKS into the block and the
# skip path, and its backward, written by hand in `branch.py`, is
# `grad_out + block.backward(grad_out)`. The same graph for the engine: $x$ feeds the
# block's three layers (`Dense(6, 6)`, `Tanh`, `Dense(6, 6)`) AND an `ADD` node. In
# reverse order the `ADD` comes first and gives $x$ the skip path's $G$; the block's
# first layer comes last and adds $J_f^\top G$: the same two terms in the same order,
# so again equality to the last bit is expected.
#
# This graph also shows why an order must be built from the inputs' side.
# Breadth-first from the output, reversed, looks plausible and is right for the graph
# of section 2, but here it lists $x$ AFTER the block's first layer, which needs it:
# $x$ is one step from $y$ through the skip path and three through the block. The
# checks: your order valid; the engine's $\partial L/\partial x$ and the block's
# parameter gradients equal to `Residual`'s ($\le 10^{-12}$, measured 0); both
# against central differences ($\le 10^{-7}$); the caller's $G$ unchanged.
# Figure `graph.png`: the two graphs, each node numbered by its place in the order.

# %%
lesson.section("3. the engine vs minigan's Residual(block)")
block = Sequential(Dense(6, 6), Tanh(), Dense(6, 6))
residual = Residual(block)
layers2 = {"D1": block[0], "tanh": block[1], "D2": block[2]}
x2 = A(rng.standard_normal((5, 6)))
G2 = A(rng.standard_normal((5, 6)))
residual.zero_grad()
residual.forward(x2)
by_residual = {"x": H(residual.backward(G2)).copy(), **param_grads(layers2)}

x2_node = Node("x")
f_node = Node("D2", block[2], Node("tanh", block[1], Node("D1", block[0], x2_node)))
y2_node = Node("y", ADD, x2_node, f_node)
feed2 = {x2_node: x2}
G2_before = H(G2).copy()
engine2 = run_engine(y2_node, feed2, G2, layers2)
seed_kept2 = bool(np.array_equal(H(G2), G2_before))
num2 = numeric(y2_node, feed2, A(G2_before), layers2)
problem2 = order_problems(topological_order(y2_node), y2_node)

print("  your order: " + ", ".join(n.name for n in topological_order(y2_node)))
lesson.check_that("your order: the 5 nodes, each once, each after its inputs",
                  not problem2, problem2 or "valid")
lesson.check("engine vs Residual(block).backward: dL/dx and the block's parameters "
             "(max rel diff)", worst(engine2, by_residual), 1e-12)
lesson.check("engine vs central differences (max rel err, float64)",
             worst(engine2, num2), 1e-7)
lesson.check("Residual vs central differences (max rel err, float64)",
             worst(by_residual, num2), 1e-7)
lesson.check_that("contract: the engine leaves the caller's dL/dy unchanged",
                  seed_kept2, "unchanged" if seed_kept2 else "changed in place")

fig, axes = plt.subplots(1, 2, figsize=(10, 3.2))
draw(axes[0], y_node, "section 2: fork at h, join at y")
draw(axes[1], y2_node, "section 3: Residual(block), fork at x")
lesson.savefig(fig, "graph.png")

# %% [markdown]
# ## 4. Random graphs against central differences
#
# Hand-written backwards exist only for the graphs someone wrote them for; the engine
# takes any. Here it meets random DAGs: starting from a leaf $x$ of shape $(2, 3)$,
# each of 10 new nodes is a `Dense(3, 3)`, a `Tanh` or an `ADD` of two earlier nodes,
# its inputs drawn at random among ALL earlier nodes (so forks, long skips and
# diamonds appear), and the nodes nobody consumes are summed into the output. For
# each graph (5 in the quick run, 40 in the full one): your order valid, and every
# gradient the engine returns ($x$ and each Dense's $W$, $b$) against central
# differences, at most $10^{-7}$. Figure `gradient_errors.png`: the error of each
# graph, beside each parameter array of sections 2 and 3.

# %%
lesson.section("4. random DAGs: the engine vs central differences")


def random_dag(n_ops=10, width=3):
    x = Node("x")
    nodes, layers, used = [x], {}, set()
    for i in range(n_ops):
        kind = rng.choice(["dense", "tanh", "add"]) if len(nodes) > 1 else "dense"
        if kind == "add":
            a, b = rng.choice(len(nodes), 2, replace=False)
            node = Node(f"n{i}", ADD, nodes[a], nodes[b])
        else:
            layers[f"n{i}"] = Dense(width, width) if kind == "dense" else Tanh()
            node = Node(f"n{i}", layers[f"n{i}"], nodes[rng.integers(len(nodes))])
        used.update(node.inputs)
        nodes.append(node)
    sinks = [n for n in nodes if n not in used]
    out = sinks[0] if len(sinks) == 1 else Node("out", ADD, *sinks)
    return x, out, layers


N_GRAPHS = 5 if lesson.quick else 40
dag_errors, dag_problems, forks = [], [], []
for _ in range(N_GRAPHS):
    x3_node, out3, layers3 = random_dag()
    feed3 = {x3_node: A(rng.standard_normal((2, 3)))}
    G3 = A(rng.standard_normal((2, 3)))
    num3 = numeric(out3, feed3, G3, layers3)
    dag_errors.append(worst(run_engine(out3, feed3, G3, layers3), num3))
    nodes3 = reference_order(out3)
    forks.append(sum(sum(n in m.inputs for m in nodes3) > 1 for n in nodes3))
    dag_problems.append(order_problems(topological_order(out3), out3))
bad = [p for p in dag_problems if p]
print(f"  {N_GRAPHS} graphs, {min(forks)}-{max(forks)} forks each")
lesson.check_that(f"your order is valid on all {N_GRAPHS} random graphs", not bad,
                  bad[0] if bad else "valid")
lesson.check(f"engine vs central differences, worst of {N_GRAPHS} random graphs "
             "(rel err, float64)", max(dag_errors), 1e-7)

fig, axes = plt.subplots(1, 2, figsize=(10, 3.4))
names = sorted(num1) + sorted(num2)
errs = ([rel_error(engine1[k], num1[k]) if engine1 else np.nan for k in sorted(num1)]
        + [rel_error(engine2[k], num2[k]) if engine2 else np.nan for k in sorted(num2)])
axes[0].bar(range(len(names)), np.maximum(errs, 1e-16), color=["C0"] * len(num1)
            + ["C1"] * len(num2))
axes[0].set_xticks(range(len(names)), names, rotation=60, fontsize=7)
axes[0].axhline(1e-7, color="r", ls="--", lw=1, label="tolerance 1e-7")
axes[0].set(yscale="log", ylabel="rel err vs central differences",
            title=f"sections 2 (blue), 3 (orange); vs by hand: {err_hand:.0e}")
axes[0].legend(fontsize=8)
axes[1].semilogy(range(N_GRAPHS), np.maximum(dag_errors, 1e-16), "o")
axes[1].axhline(1e-7, color="r", ls="--", lw=1, label="tolerance 1e-7")
axes[1].set(xlabel="random graph", ylabel="worst rel err",
            title="random DAGs: engine vs central differences")
axes[1].legend(fontsize=8)
lesson.savefig(fig, "gradient_errors.png")

lesson.finish()

# %% [markdown]
# ## Questions
#
# 1. Why must the backward visit the nodes in the REVERSE of a topological order?
#    What goes wrong at a fork if a node is visited before all its consumers?
# 2. An `ADD` node hands the same array to each of its inputs. Why does adding into a
#    stored gradient in place (`grads[node] += g`) break the contract of sections 2
#    and 3, and on which of the two graphs does it show?
# 3. The same `Dense` layer used at two nodes (shared weights) needs no change to the
#    engine. Why? (Think of the stack of saves in `minigan/layers/base.py`, and of
#    what `backward` does to `grads`.)
# 4. Why is the engine's gradient equal to the hand-written one to the last bit,
#    while central differences agree only to $\sim 10^{-10}$? With three consumers at
#    a fork, could the last bit differ?
#
# Short answers: `lessons/ANSWERS.md`.
