"""Tests of nnlite.viz: tile layout and scaling, figures (Agg backend), draw_graph."""

import subprocess
import sys

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from nnlite import viz  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


class Node:
    """A stand-in for an nnlite Tensor: just what draw_graph reads."""

    def __init__(self, data, parents=(), op="", requires_grad=False, grad=None, label=None):
        self.data = np.asarray(data, dtype=np.float64)
        self._parents = tuple(parents)
        self._op = op
        self.requires_grad = requires_grad
        self.grad = grad
        if label is not None:
            self.label = label


def _nodes(ax):
    return [p for p in ax.patches if p.get_gid() == viz.NODE_GID]


def _edges(ax):
    return [p for p in ax.patches if p.get_gid() == viz.EDGE_GID]


# ---------------------------------------------------------------------------- tile_images


def test_tile_images_symmetric_scaling_keeps_zero_in_the_middle():
    W = np.array([[0.0, 2.0, -1.0, 0.5], [0.0, -0.1, 0.05, 0.0]])
    G = viz.tile_images(W, shape=(2, 2), ncols=2, pad=0)
    assert G.shape == (2, 4)
    np.testing.assert_allclose(G[:, :2], [[0.0, 1.0], [-0.5, 0.25]])  # / max|w| = 2
    np.testing.assert_allclose(G[:, 2:], [[0.0, -1.0], [0.5, 0.0]])  # / max|w| = 0.1
    assert np.all(G[W.reshape(2, 2, 2).transpose(1, 0, 2).reshape(2, 4) == 0] == 0)


def test_tile_images_each_tile_reaches_plus_or_minus_one():
    rng = np.random.default_rng(0)
    W = rng.normal(size=(7, 25)) * np.arange(1, 8)[:, None]  # very different scales
    G = viz.tile_images(W, shape=(5, 5), ncols=3, pad=1)
    assert G.shape == (3 * 5 + 2, 3 * 5 + 2)
    for i in range(7):
        r, c = divmod(i, 3)
        tile = G[r * 6 : r * 6 + 5, c * 6 : c * 6 + 5]
        assert np.nanmax(np.abs(tile)) == pytest.approx(1.0)
        np.testing.assert_allclose(tile, W[i].reshape(5, 5) / np.abs(W[i]).max())
    # padding and the two empty cells are NaN
    assert np.isnan(G[5, :]).all() and np.isnan(G[:, 5]).all()
    assert np.isnan(G[12:, 6:]).all()


def test_tile_images_global_scale_and_minmax():
    W = np.array([[1.0, -1.0, 0.0, 0.0], [4.0, 0.0, 0.0, 0.0]])
    G = viz.tile_images(W, shape=(2, 2), ncols=2, pad=0, scale="all")
    np.testing.assert_allclose(G[0], [0.25, -0.25, 1.0, 0.0])
    M = viz.tile_images(np.array([[2.0, 4.0, 6.0, 10.0], [3.0] * 4]), (2, 2), 2, symmetric=False)
    np.testing.assert_allclose(M[:, :2], [[0.0, 0.25], [0.5, 1.0]])
    np.testing.assert_allclose(M[:, 3:], 0.5)  # a constant tile is mid-grey


def test_tile_images_shapes_ncols_and_inference():
    W = np.zeros((10, 784))
    assert viz.tile_images(W).shape == (3 * 28 + 2, 4 * 28 + 3)  # ncols = ceil(sqrt(10)) = 4
    assert viz.tile_images(W, ncols=5).shape == (2 * 28 + 1, 5 * 28 + 4)
    assert viz.tile_images(W, ncols=20).shape == (28, 10 * 28 + 9)  # never more columns than n
    assert viz.tile_images(W, shape=(28, 28), ncols=1, pad=0).shape == (280, 28)
    np.testing.assert_array_equal(viz.tile_images(W, pad=0, ncols=2), 0.0)  # zeros stay 0
    assert viz.tile_images(np.zeros((3, 4, 6)), ncols=3, pad=2).shape == (4, 22)
    assert viz.tile_images(np.arange(64.0)).shape == (8, 8)  # one vector
    with pytest.raises(ValueError, match=r"not square.*\(3, 10\)"):
        viz.tile_images(np.zeros((3, 10)))
    with pytest.raises(ValueError, match="each row needs 784"):
        viz.tile_images(np.zeros((3, 100)), shape=(28, 28))
    with pytest.raises(ValueError, match="ncols"):
        viz.tile_images(W, ncols=0)


def test_tile_images_does_not_mutate_input():
    W = np.random.default_rng(1).normal(size=(4, 9))
    before = W.copy()
    viz.tile_images(W, shape=(3, 3))
    np.testing.assert_array_equal(W, before)


# ------------------------------------------------------------------------------ figures


def test_image_grid_draws_symmetric_limits():
    rng = np.random.default_rng(0)
    ax = viz.image_grid(rng.normal(size=(10, 784)), titles=[str(k) for k in range(10)])
    (im,) = ax.get_images()
    assert im.get_clim() == (-1.0, 1.0)
    assert im.get_cmap().name.startswith("RdBu_r")
    assert len(ax.texts) == 10
    ax2 = viz.image_grid(rng.normal(size=(4, 9)), symmetric=False)
    assert ax2.get_images()[0].get_clim() == (0.0, 1.0)
    fig, ax3 = plt.subplots()
    assert viz.image_grid(np.ones((2, 4)), ax=ax3) is ax3
    with pytest.raises(ValueError, match="3 titles for 2 tiles"):
        viz.image_grid(np.ones((2, 4)), titles=["a", "b", "c"])


def test_filter_grid_gray_rgb_and_multichannel():
    rng = np.random.default_rng(0)
    ax = viz.filter_grid(rng.normal(size=(8, 1, 5, 5)))
    assert ax.get_images()[0].get_array().shape == (3 * 5 + 2, 3 * 5 + 2)
    ax = viz.filter_grid(rng.normal(size=(4, 3, 5, 5)))  # colour: one RGB tile per filter
    arr = ax.get_images()[0].get_array()
    assert arr.shape == (11, 11, 3) and 0.0 <= arr.min() and arr.max() <= 1.0
    ax = viz.filter_grid(rng.normal(size=(4, 2, 3, 3)))  # one row per filter, one column per C
    assert ax.get_images()[0].get_array().shape == (4 * 3 + 3, 2 * 3 + 1)
    with pytest.raises(ValueError, match=r"\(O, C, kH, kW\)"):
        viz.filter_grid(np.zeros((2, 3)))


def test_plot_curves_train_vs_validation():
    h = {
        "loss": [1.0, 0.5, 0.3],
        "accuracy": [0.7, 0.8, 0.9],
        "val_loss": [1.1, 0.6, 0.4],
        "val_accuracy": [0.6, 0.7, 0.8],
        "time": [0.1, 0.1, 0.1],
    }
    axes = viz.plot_curves(h, title="run")
    assert [a.get_ylabel() for a in axes] == ["loss", "accuracy"]
    lines = axes[0].get_lines()
    assert [ln.get_label() for ln in lines] == ["train", "validation"]
    np.testing.assert_array_equal(lines[0].get_xdata(), [1, 2, 3])
    np.testing.assert_array_equal(lines[1].get_ydata(), [1.1, 0.6, 0.4])
    fig, ax = plt.subplots()
    (only,) = viz.plot_curves({"train_loss": [3, 2], "test_loss": [4, 3]}, ax=ax)
    assert only is ax and [ln.get_label() for ln in ax.get_lines()] == ["train", "test"]
    with pytest.raises(ValueError, match="2 metrics"):
        viz.plot_curves(h, ax=ax)
    with pytest.raises(ValueError, match="nothing to plot"):
        viz.plot_curves({"time": [1.0]})


def test_similarity_heatmap_labels_and_annotations():
    S = np.array([[1.0, -0.5, 0.2], [-0.5, 1.0, 0.0], [0.2, 0.0, 1.0]])
    ax = viz.similarity_heatmap(S, labels=["a", "b", "c"], annotate=True)
    assert ax.get_images()[0].get_clim() == (-1.0, 1.0)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c"]
    assert len(ax.texts) == 9 and ax.texts[1].get_text() == "-0.50"
    ax = viz.similarity_heatmap(np.zeros((2, 3)), row_labels=["r0", "r1"], colorbar=False)
    assert ax.get_images()[0].get_array().shape == (2, 3)
    with pytest.raises(ValueError, match=r"2 column labels for a matrix of shape \(2, 3\)"):
        viz.similarity_heatmap(np.zeros((2, 3)), labels=["x", "y"])


# --------------------------------------------------------------------------- draw_graph


def test_draw_graph_small_expression():
    a = Node(2.0, requires_grad=True, label="a", grad=np.array(4.0))
    b = Node(3.0, requires_grad=True, label="b")
    c = Node(6.0, (a, b), "mul")
    d = Node(1.0, ())  # a constant
    e = Node(7.0, (c, d), "add")
    ax = viz.draw_graph(e)
    assert len(_nodes(ax)) == 5
    assert len(_edges(ax)) == 4
    texts = [t.get_text() for t in ax.texts]
    assert any(t.startswith("mul") for t in texts) and any(t.startswith("add") for t in texts)
    assert any("a (param)" in t and "grad 4" in t for t in texts)
    assert any("const" in t for t in texts)


def test_draw_graph_diamond_draws_shared_node_once():
    x = Node(2.0, requires_grad=True, label="x")
    left = Node(4.0, (x,), "mul")
    right = Node(3.0, (x,), "add")
    top = Node(12.0, (left, right), "mul")
    ax = viz.draw_graph(top)
    assert len(_nodes(ax)) == 4
    assert len(_edges(ax)) == 4
    assert sum("x (param)" in t.get_text() for t in ax.texts) == 1


def test_draw_graph_node_used_twice_by_one_op():
    x = Node(3.0, requires_grad=True)
    y = Node(9.0, (x, x), "mul")  # x * x: both inputs are drawn
    ax = viz.draw_graph(y)
    assert len(_nodes(ax)) == 2 and len(_edges(ax)) == 2


def test_draw_graph_layers_by_longest_path():
    a = Node(1.0)
    b = Node(1.0, (a,), "exp")
    c = Node(1.0, (b,), "exp")
    d = Node(1.0, (a, c), "add")  # a is a leaf (column 0) although d uses it directly
    order, edges = viz._graph(d)
    assert order[0] is a and order[-1] is d
    assert viz._layers(order, edges) == [0, 1, 2, 3]
    late = Node(1.0, requires_grad=True)  # a leaf first used by the last op
    e = Node(1.0, (d, late), "mul")
    order, edges = viz._graph(e)
    layers = dict(zip(map(id, order), viz._layers(order, edges), strict=True))
    assert layers[id(late)] == 3 and layers[id(e)] == 4 and layers[id(a)] == 0


def test_draw_graph_deep_chain_needs_no_recursion():
    node = Node(0.0, requires_grad=True)
    for _ in range(3000):
        node = Node(0.0, (node,), "add")
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(200)
    try:
        order, edges = viz._graph(node)
    finally:
        sys.setrecursionlimit(limit)
    assert len(order) == 3001 and len(edges) == 3000
    with pytest.raises(ValueError, match="3001 nodes, more than max_nodes=500"):
        viz.draw_graph(node)


def test_draw_graph_long_chain_draws():
    node = Node(0.0, requires_grad=True)
    for _ in range(120):
        node = Node(0.0, (node,), "tanh")
    ax = viz.draw_graph(node)
    assert len(_nodes(ax)) == 121


def test_draw_graph_array_nodes_and_errors():
    W = Node(np.ones((3, 4)), requires_grad=True, grad=np.ones((3, 4)))
    x = Node(np.ones(4))
    y = Node(np.ones(3), (W, x), "matmul")
    ax = viz.draw_graph(y)
    texts = [t.get_text() for t in ax.texts]
    assert any("shape (3, 4)" in t and "‖grad‖ 3.464" in t for t in texts)
    with pytest.raises(TypeError, match="expected an nnlite Tensor"):
        viz.draw_graph(np.ones(3))


def test_draw_graph_on_real_tensors():
    tensor = pytest.importorskip("nnlite.tensor")
    x = tensor.Tensor(2.0, requires_grad=True)
    y = tensor.Tensor(3.0, requires_grad=True)
    a = x * y
    b = a + x
    c = a * b  # a is shared: a diamond
    c.backward()
    ax = viz.draw_graph(c)
    assert len(_nodes(ax)) == 5
    texts = "\n".join(t.get_text() for t in ax.texts)
    assert "data 48" in texts  # c = 6 * 8
    assert "grad 48" in texts and "grad 28" in texts  # dc/dx = b*y + a*(y+1); dc/dy = (a+b)*x


def test_viz_import_does_not_import_matplotlib():
    code = "import sys, nnlite.viz; assert 'matplotlib' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
