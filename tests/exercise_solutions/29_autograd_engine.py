"""Lesson 29's exercise solved (as the lesson's own engine); near misses that fail."""


def _depth_first(output):
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


def topological_order(output):
    return _depth_first(output)


def accumulate(grads, node, g):
    grads[node] = grads[node] + g if node in grads else g


def near_miss__topological_order__reversed_order(output):
    """The output first: the order a backward walks, handed to the forward."""
    return _depth_first(output)[::-1]


def near_miss__topological_order__visits_shared_node_twice(output):
    """Depth first without remembering what was placed: a fork is listed twice."""
    order = []

    def visit(node):
        for inp in node.inputs:
            visit(inp)
        order.append(node)

    visit(output)
    return order


def near_miss__topological_order__breadth_first_reversed(output):
    """By distance from the output, reversed: wrong where a skip is short."""
    seen, queue = [output], [output]
    while queue:
        node = queue.pop(0)
        for inp in node.inputs:
            if inp not in seen:
                seen.append(inp)
                queue.append(inp)
    return seen[::-1]


def near_miss__topological_order__preorder_reversed(output):
    """Appended on arrival (pre-order), then reversed: right on a chain only."""
    order, placed = [], set()

    def visit(node):
        if node in placed:
            return
        placed.add(node)
        order.append(node)
        for inp in node.inputs:
            visit(inp)

    visit(output)
    return order[::-1]


def near_miss__accumulate__overwrite_instead_of_sum(grads, node, g):
    """The last consumer wins: every other path through a fork is lost."""
    grads[node] = g


def near_miss__accumulate__adds_in_place(grads, node, g):
    """+= on the stored array, which may be the caller's dL/dy (an ADD shares it)."""
    if node in grads:
        grads[node] += g
    else:
        grads[node] = g


def near_miss__accumulate__keeps_the_first(grads, node, g):
    """setdefault: the first consumer wins, the later ones are dropped."""
    grads.setdefault(node, g)
