"""Exercise for lesson 29: the two pieces of a reverse-mode engine.

Write the two functions below, then run
    python lessons/29_autograd_engine.py --exercise
and every check of the lesson runs its engine with your functions: a graph with a
fork and a join against the hand-written chain, minigan's Residual(block) rebuilt as a
graph, and random graphs against central differences. Plain Python: no minigan needed.

A node (the lesson's class Node) has .inputs, the list of the nodes it is computed
from (empty for a leaf), and .name. Nodes can be put in sets and used as dict keys.
"""


def topological_order(output):
    """Every node the output depends on, each once, each after all of its inputs.

    Shapes: output is a Node; returns a Python list of Nodes whose last element is
    output and whose first is a leaf. A node reachable along several paths (a fork)
    appears exactly once. The lesson runs the forwards in this order and the
    backwards in its reverse.

    Hint: walk back from the output through .inputs. Ask yourself at which moment of
    the walk a node may be appended: before or after its inputs have been dealt with?
    A node reached a second time (by another path) must not be walked again. An order
    built from the output's side by distance (breadth first) is not enough: section 3
    of the lesson shows a graph where it fails.
    """
    raise NotImplementedError("TODO: list the nodes, each once, after its inputs")


def accumulate(grads, node, g):
    """Record that the gradient g of the loss flows back into node (the fork's sum).

    Shapes: grads is a dict {Node: array}, the gradients received so far; g an array
    shaped like node's value. Update grads[node] (return nothing) so that, once every
    consumer of node has sent its g, grads[node] is dL/d(node). Do not modify any
    array in place: the engine gives the same array g to every input of an ADD node,
    and the caller's dL/dy may be one of them.

    Hint: the multivariate chain rule. The value of a node reaches the loss through
    each node that consumes it; what does the loss's gradient do with the
    contributions of several paths? The first consumer to report finds nothing in
    grads yet.
    """
    raise NotImplementedError("TODO: the gradient of a node used by several others")
