"""Pictures of weights, training curves, similarities and computation graphs (matplotlib).

Import it explicitly (``from nnlite import viz``): ``import nnlite`` does not import matplotlib,
and neither does importing this module; matplotlib is imported by the drawing functions.

* :func:`tile_images` lays weight vectors out as one 2-D array (no plotting), and
  :func:`image_grid` draws it: one tile per unit, 0 at the middle of the colour map.
* :func:`filter_grid`: convolution filters (O, C, kH, kW).
* :func:`plot_curves`: loss / accuracy per epoch, training vs validation.
* :func:`similarity_heatmap`: a matrix of similarities (cosines, correlations, ...).
* :func:`draw_graph`: the computation graph behind a Tensor, drawn with matplotlib alone.

Every drawing function takes an optional ``ax`` and returns the Axes it drew on (the figure is
``ax.figure``); it never calls ``plt.show()``.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = [
    "tile_images",
    "image_grid",
    "filter_grid",
    "plot_curves",
    "similarity_heatmap",
    "draw_graph",
]

#: gid given to the artists :func:`draw_graph` creates, so they can be found (and counted).
NODE_GID = "nnlite-graph-node"
EDGE_GID = "nnlite-graph-edge"


def _numpy(x: Any) -> np.ndarray:
    """A numpy view of an array, an nnlite/PyTorch tensor (via ``.numpy()``) or a nested list."""
    if isinstance(x, np.ndarray):
        return x
    if isinstance(getattr(x, "data", None), np.ndarray):  # an nnlite Tensor: no copy
        return x.data
    if hasattr(x, "detach") and hasattr(x, "numpy"):
        x = x.detach()
    if hasattr(x, "numpy"):
        return np.asarray(x.numpy())
    return np.asarray(x)


def _new_axes(figsize: tuple[float, float]) -> Axes:
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


# --------------------------------------------------------------------------------------------
# Weight images
# --------------------------------------------------------------------------------------------


def _as_tiles(W: Any, shape: tuple[int, ...] | None, who: str) -> np.ndarray:
    """Reshape weights into (n, h, w) tiles as float64 (shape None: inferred, square rows)."""
    W = np.asarray(_numpy(W), dtype=np.float64)
    if shape is None:
        if W.ndim >= 3:
            return W
        d = W.shape[-1] if W.ndim else 1
        side = math.isqrt(d)
        if side * side != d:
            raise ValueError(
                f"{who}: rows of {d} values are not square images; pass shape=(h, w) "
                f"for weights of shape {W.shape}"
            )
        shape = (side, side)
    shape = tuple(int(s) for s in shape)
    size = math.prod(shape)
    if W.ndim == 1:
        W = W[None]
    if W.ndim == 1 + len(shape) and W.shape[1:] == shape:
        return W
    if W.ndim == 2 and W.shape[1] == size:
        return W.reshape(len(W), *shape)
    raise ValueError(
        f"{who}: weights of shape {W.shape} cannot be shown as tiles of shape {shape}: "
        f"each row needs {size} values"
    )


def _scale_tiles(T: np.ndarray, symmetric: bool, scale: str, who: str) -> np.ndarray:
    """Scale tiles (n, h, w[, c]) to [-1, 1] (symmetric) or [0, 1] (min-max)."""
    if scale not in ("tile", "all"):
        raise ValueError(f"{who}: scale must be 'tile' or 'all', got {scale!r}")
    if len(T) == 0:
        return T.copy()
    axes = tuple(range(1, T.ndim)) if scale == "tile" else tuple(range(T.ndim))
    with np.errstate(invalid="ignore", divide="ignore"):
        if symmetric:
            m = np.max(np.abs(T), axis=axes, keepdims=True)
            out = np.where(m > 0, T / np.where(m > 0, m, 1.0), 0.0)
        else:
            lo = np.min(T, axis=axes, keepdims=True)
            hi = np.max(T, axis=axes, keepdims=True)
            rng = hi - lo
            out = np.where(rng > 0, (T - lo) / np.where(rng > 0, rng, 1.0), 0.5)
    return out


def _ncols(n: int, ncols: int | None, who: str) -> int:
    """Tiles per grid row: ceil(sqrt(n)) by default, never more than n."""
    if ncols is None:
        return max(1, math.ceil(math.sqrt(n)))
    if isinstance(ncols, bool) or not isinstance(ncols, numbers.Integral) or ncols < 1:
        raise ValueError(f"{who}: ncols must be an int >= 1, got {ncols!r}")
    return int(min(ncols, max(n, 1)))


def _layout(T: np.ndarray, ncols: int, pad: int, pad_value: float, who: str) -> np.ndarray:
    """Place tiles (n, h, w[, c]) in a grid, row by row, ``pad`` pixels between tiles."""
    n, h, w = T.shape[:3]
    if isinstance(pad, bool) or not isinstance(pad, numbers.Integral) or pad < 0:
        raise ValueError(f"{who}: pad must be an int >= 0, got {pad!r}")
    nrows = max(1, math.ceil(n / ncols))
    H = nrows * h + (nrows - 1) * pad
    Wd = ncols * w + (ncols - 1) * pad
    grid = np.full((H, Wd, *T.shape[3:]), pad_value, dtype=np.float64)
    for i in range(n):
        r, c = divmod(i, ncols)
        y0, x0 = r * (h + pad), c * (w + pad)
        grid[y0 : y0 + h, x0 : x0 + w] = T[i]
    return grid


def tile_images(
    W: Any,
    shape: tuple[int, int] | None = None,
    ncols: int | None = None,
    symmetric: bool = True,
    pad: int = 1,
    pad_value: float = np.nan,
    scale: Literal["tile", "all"] = "tile",
) -> np.ndarray:
    """Lay out the rows of a weight matrix as images in one 2-D array (no plotting).

    Args:
        W: (n, h*w) weights, one unit per row (e.g. ``Linear.weight`` (out, in)), or (n, h, w)
            images, or one vector (h*w,).
        shape: (h, w) of one tile. Default: W's own (h, w) when W is (n, h, w), else square
            tiles (784 values -> (28, 28), 64 -> (8, 8)).
        ncols: tiles per row of the grid; default ceil(sqrt(n)).
        symmetric: scale each tile by its max |w| to [-1, 1], so that 0 stays 0 (the middle of
            a symmetric colour range) and the sign is kept. Otherwise min-max scale each tile to
            [0, 1] (a constant tile becomes 0.5).
        pad: pixels between neighbouring tiles.
        pad_value: value of the padding and of empty grid cells; NaN (the default) is drawn
            transparent by ``imshow``, so separators show the axes background.
        scale: ``"tile"`` scales every tile on its own (shapes comparable); ``"all"`` uses one
            scale for all tiles (magnitudes comparable).

    Returns:
        float64 array (nrows*h + (nrows-1)*pad, ncols*w + (ncols-1)*pad), tile i at grid row
        i // ncols, column i % ncols. An all-zero tile stays 0.
    """
    who = "tile_images"
    T = _as_tiles(W, shape, who)
    if T.ndim != 3:
        raise ValueError(f"{who}: expected (n, h, w) tiles, got shape {T.shape}")
    nc = _ncols(len(T), ncols, who)
    return _layout(_scale_tiles(T, symmetric, scale, who), nc, pad, pad_value, who)


def _show_grid(
    grid: np.ndarray,
    tile_hw: tuple[int, int],
    n: int,
    ncols: int,
    pad: int,
    ax: Axes | None,
    cmap: str | None,
    vmin: float,
    vmax: float,
    titles: Sequence[Any] | None,
    pad_color: str,
    who: str,
) -> Axes:
    import matplotlib as mpl

    if ax is None:
        nrows = max(1, math.ceil(n / ncols))
        width = min(12.0, 0.9 * ncols + 0.4)
        height = min(12.0, max(1.2, width * (nrows * tile_hw[0]) / max(1, ncols * tile_hw[1])))
        ax = _new_axes((width, height))
    cm = mpl.colormaps[cmap].with_extremes(bad=pad_color) if cmap is not None else None
    ax.imshow(grid, cmap=cm, vmin=vmin, vmax=vmax, interpolation="nearest")
    ax.set_facecolor(pad_color)
    ax.set_xticks([])
    ax.set_yticks([])
    if titles is not None:
        if len(titles) != n:
            raise ValueError(f"{who}: got {len(titles)} titles for {n} tiles")
        h, w = tile_hw
        for i, t in enumerate(titles):
            r, c = divmod(i, ncols)
            ax.text(
                c * (w + pad) + 0.3,
                r * (h + pad) + 0.3,
                str(t),
                ha="left",
                va="top",
                fontsize=7,
                bbox={"boxstyle": "square,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.7},
            )
    return ax


def image_grid(
    W: Any,
    shape: tuple[int, int] | None = None,
    ncols: int | None = None,
    symmetric: bool = True,
    ax: Axes | None = None,
    titles: Sequence[Any] | None = None,
    cmap: str | None = None,
    pad: int = 1,
    scale: Literal["tile", "all"] = "tile",
    pad_color: str = "black",
    title: str | None = None,
) -> Axes:
    """Draw each row of W (one unit's incoming weights) as an image tile.

    Args:
        W: (n, h*w) weights or (n, h, w) images; see :func:`tile_images`.
        shape, ncols, symmetric, pad, scale: as in :func:`tile_images`.
        ax: draw here; default a new figure sized to the grid.
        titles: one short label per tile (e.g. class names), written in the tile's corner.
        cmap: default ``"RdBu_r"`` when symmetric (0 white, positive red, negative blue),
            ``"gray"`` otherwise.
        pad_color: colour of the separators between tiles.
        title: title of the axes.

    Returns:
        The matplotlib Axes.
    """
    who = "image_grid"
    T = _as_tiles(W, shape, who)
    if T.ndim != 3:
        raise ValueError(f"{who}: expected (n, h, w) tiles, got shape {T.shape}")
    n = len(T)
    ncols_eff = _ncols(n, ncols, who)
    grid = _layout(_scale_tiles(T, symmetric, scale, who), ncols_eff, pad, np.nan, who)
    if cmap is None:
        cmap = "RdBu_r" if symmetric else "gray"
    vmin, vmax = (-1.0, 1.0) if symmetric else (0.0, 1.0)
    ax = _show_grid(
        grid, T.shape[1:3], n, ncols_eff, pad, ax, cmap, vmin, vmax, titles, pad_color, who
    )
    if title is not None:
        ax.set_title(title)
    return ax


def filter_grid(
    weight: Any,
    ax: Axes | None = None,
    symmetric: bool = True,
    rgb: bool | None = None,
    cmap: str | None = None,
    pad: int = 1,
    ncols: int | None = None,
    pad_color: str = "black",
    title: str | None = None,
) -> Axes:
    """Draw convolution filters, e.g. ``Conv2d.weight``.

    Args:
        weight: (O, C, kH, kW) filters; (O, kH, kW) is taken as C = 1.
        rgb: draw 3-channel filters as colour images (each filter scaled as a whole so that
            0 maps to grey 0.5). Default: True when C == 3.
        symmetric, cmap, pad, pad_color: as in :func:`image_grid`.
        ncols: tiles per row; default ceil(sqrt(O)) for one image per filter, and C (one
            row per output filter, one column per input channel) for multi-channel filters
            shown channel by channel.

    Returns:
        The matplotlib Axes.
    """
    who = "filter_grid"
    Wt = np.asarray(_numpy(weight), dtype=np.float64)
    if Wt.ndim == 3:
        Wt = Wt[:, None]
    if Wt.ndim != 4:
        raise ValueError(f"{who}: expected filters (O, C, kH, kW), got shape {Wt.shape}")
    O, C, kh, kw = Wt.shape
    if rgb is None:
        rgb = C == 3
    if rgb:
        if C != 3:
            raise ValueError(f"{who}: rgb=True needs 3 input channels, got C={C}")
        T = np.moveaxis(Wt, 1, -1)  # (O, kH, kW, 3)
        S = _scale_tiles(T, symmetric, "tile", who)
        if symmetric:
            S = 0.5 + 0.5 * S  # [-1, 1] -> [0, 1], 0 -> mid-grey
        ncols_eff = _ncols(O, ncols, who)
        grid = _layout(S, ncols_eff, pad, np.nan, who)
        # NaN padding cannot be coloured in an RGB image: paint it explicitly.
        import matplotlib.colors as mcolors

        grid[np.isnan(grid[..., 0])] = mcolors.to_rgb(pad_color)
        ax = _show_grid(
            np.clip(grid, 0, 1), (kh, kw), O, ncols_eff, pad, ax, None, 0, 1, None, pad_color, who
        )
    else:
        tiles = Wt.reshape(O * C, kh, kw)
        if ncols is None:
            ncols = C if C > 1 else max(1, math.ceil(math.sqrt(O)))
        ax = image_grid(
            tiles,
            shape=None,
            ncols=ncols,
            symmetric=symmetric,
            ax=ax,
            cmap=cmap,
            pad=pad,
            pad_color=pad_color,
        )
    if title is not None:
        ax.set_title(title)
    return ax


# --------------------------------------------------------------------------------------------
# Curves and heatmaps
# --------------------------------------------------------------------------------------------

_SPLIT_PREFIXES = (("val_", "validation"), ("test_", "test"), ("train_", "train"))
_NOT_PLOTTED = {"time", "epoch", "epochs", "lr"}


def _metric_groups(history: Mapping[str, Sequence[float]]) -> dict[str, list[tuple[str, str]]]:
    """{metric: [(key, split label), ...]} in first-seen order, e.g. loss: train, validation."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for key, values in history.items():
        if key in _NOT_PLOTTED or len(values) == 0:
            continue
        metric, label = key, "train"
        for prefix, name in _SPLIT_PREFIXES:
            if key.startswith(prefix):
                metric, label = key[len(prefix) :], name
                break
        groups.setdefault(metric, []).append((key, label))
    return groups


def plot_curves(
    history: Mapping[str, Sequence[float]],
    ax: Axes | Sequence[Axes] | None = None,
    metrics: Sequence[str] | None = None,
    title: str | None = None,
) -> list[Axes]:
    """Plot training curves, one panel per metric, training vs validation/test, epochs on x.

    Args:
        history: a :class:`nnlite.train.History` or any mapping of lists, one value per epoch:
            ``loss``, ``accuracy`` (or ``train_loss``, ...) for training and ``val_loss``,
            ``test_accuracy``, ... for held-out data. ``time``, ``epoch`` and ``lr`` are not
            plotted.
        ax: an Axes, or one Axes per metric; default a new figure with one panel per metric.
        metrics: the metrics to plot, e.g. ``["loss"]``; default all found in ``history``.
        title: a title over all panels (the figure's ``suptitle``).

    Returns:
        The list of Axes, one per metric.
    """
    who = "plot_curves"
    groups = _metric_groups(history)
    if metrics is not None:
        missing = [m for m in metrics if m not in groups]
        if missing:
            raise ValueError(
                f"{who}: no values for metric(s) {missing}; history has {sorted(groups)}"
            )
        groups = {m: groups[m] for m in metrics}
    if not groups:
        raise ValueError(f"{who}: nothing to plot; history keys are {sorted(history)}")
    if ax is None:
        import matplotlib.pyplot as plt

        _, axs = plt.subplots(
            1, len(groups), figsize=(4.2 * len(groups), 3.2), squeeze=False, layout="constrained"
        )
        axes = list(axs[0])
    else:
        axes = [ax] if not isinstance(ax, Sequence | np.ndarray) else list(np.ravel(ax))
        if len(axes) != len(groups):
            raise ValueError(
                f"{who}: got {len(axes)} axes for {len(groups)} metrics {list(groups)}"
            )
    from matplotlib.ticker import MaxNLocator

    styles = {"train": "-", "validation": "--", "test": ":"}
    for a, (metric, series) in zip(axes, groups.items(), strict=True):
        for key, label in series:
            values = np.asarray(history[key], dtype=np.float64)
            epochs = np.arange(1, len(values) + 1)
            a.plot(epochs, values, styles[label], marker="o", markersize=3, label=label)
        a.set_xlabel("epoch")
        a.set_ylabel(metric)
        a.set_title(metric)
        a.grid(True, alpha=0.3)
        a.legend()
        a.xaxis.set_major_locator(MaxNLocator(integer=True))
    if title is not None:
        axes[0].figure.suptitle(title)
    return axes


def similarity_heatmap(
    S: Any,
    labels: Sequence[Any] | None = None,
    ax: Axes | None = None,
    vmin: float = -1.0,
    vmax: float = 1.0,
    annotate: bool = False,
    cmap: str = "RdBu_r",
    row_labels: Sequence[Any] | None = None,
    col_labels: Sequence[Any] | None = None,
    fmt: str = ".2f",
    colorbar: bool = True,
    title: str | None = None,
) -> Axes:
    """Draw a similarity matrix (e.g. cosine similarities) as a colour-coded grid.

    Args:
        S: (n, m) matrix; entry (i, j) is drawn at row i, column j.
        labels: tick labels for both rows and columns (square S); ``row_labels`` and
            ``col_labels`` set them separately.
        vmin, vmax: the colour range; the default [-1, 1] puts 0 at the middle (white).
        annotate: write each value in its cell, formatted with ``fmt``.
        colorbar: add a colour bar.

    Returns:
        The matplotlib Axes.
    """
    who = "similarity_heatmap"
    S = np.asarray(_numpy(S), dtype=np.float64)
    if S.ndim != 2:
        raise ValueError(f"{who}: S must be a 2-D matrix, got shape {S.shape}")
    n, m = S.shape
    rl = row_labels if row_labels is not None else labels
    cl = col_labels if col_labels is not None else labels
    for name, lab, k in (("row", rl, n), ("column", cl, m)):
        if lab is not None and len(lab) != k:
            raise ValueError(f"{who}: {len(lab)} {name} labels for a matrix of shape {S.shape}")
    if ax is None:
        side = min(10.0, 0.45 * max(n, m) + 2.0)
        ax = _new_axes((side + (1.0 if colorbar else 0.0), side))
    im = ax.imshow(S, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
    ax.set_xticks(np.arange(m), [str(v) for v in cl] if cl is not None else None)
    ax.set_yticks(np.arange(n), [str(v) for v in rl] if rl is not None else None)
    if cl is not None and max((len(str(v)) for v in cl), default=0) > 3:
        ax.tick_params(axis="x", labelrotation=90)
    if annotate:
        mid = (vmin + vmax) / 2
        half = (vmax - vmin) / 2 or 1.0
        for i in range(n):
            for j in range(m):
                v = S[i, j]
                dark = np.isfinite(v) and abs(v - mid) / half > 0.6
                ax.text(
                    j,
                    i,
                    format(v, fmt),
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if dark else "black",
                )
    if colorbar:
        ax.figure.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    if title is not None:
        ax.set_title(title)
    return ax


# --------------------------------------------------------------------------------------------
# Computation graph
# --------------------------------------------------------------------------------------------


def _parents(t: Any) -> tuple[Any, ...]:
    return tuple(getattr(t, "_parents", ()) or ())


def _graph(root: Any) -> tuple[list[Any], list[tuple[int, int]]]:
    """Nodes in topological order (parents before children) and (parent, child) edges, one per
    use (an operation that uses the same input twice, ``x * x``, has two edges from it).

    Iterative depth-first post-order, so a chain of any depth works without recursion; a node
    reached along several paths (a diamond) appears once.
    """
    order: list[Any] = []
    index: dict[int, int] = {}
    visited: set[int] = set()
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            if id(node) not in index:
                index[id(node)] = len(order)
                order.append(node)
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        stack.append((node, True))
        for p in reversed(_parents(node)):
            if id(p) not in visited:
                stack.append((p, False))
    # One edge per use: x * x lists x twice, and both arrows are drawn.
    edges = [(index[id(p)], j) for j, node in enumerate(order) for p in _parents(node)]
    return order, edges


def _fmt(v: float) -> str:
    return f"{v:.4g}"


def _node_text(t: Any) -> str:
    op = getattr(t, "_op", "") or ""
    name = getattr(t, "label", None) or getattr(t, "name", None)
    requires_grad = bool(getattr(t, "requires_grad", False))
    if op:
        head = str(op)
    else:
        head = "param" if requires_grad else "const"
    if isinstance(name, str) and name:
        head = f"{name} = {head}" if op else f"{name} ({head})"
    data = getattr(t, "data", None)
    arr = np.asarray(data) if data is not None else None
    lines = [head]
    if arr is not None:
        if arr.size == 1:
            lines.append(f"data {_fmt(float(arr.reshape(-1)[0]))}")
        else:
            lines.append(f"shape {tuple(arr.shape)}")
    grad = getattr(t, "grad", None)
    if grad is not None:
        g = np.asarray(_numpy(grad))
        if g.size == 1:
            lines.append(f"grad {_fmt(float(g.reshape(-1)[0]))}")
        else:
            lines.append(f"‖grad‖ {_fmt(float(np.linalg.norm(g)))}")
    return "\n".join(lines)


def _layers(order: list[Any], edges: list[tuple[int, int]]) -> list[int]:
    """Column of each node: the longest path to it from a leaf.

    Leaves then move right, to the column just before their first use, so that a parameter
    used late (a second layer's weight) sits next to its operation.
    """
    layer = [0] * len(order)
    first_use = [math.inf] * len(order)
    for p, c in edges:  # edges are listed child by child in topological order
        layer[c] = max(layer[c], layer[p] + 1)
    for p, c in edges:
        first_use[p] = min(first_use[p], layer[c])
    for i, node in enumerate(order):
        if not _parents(node) and first_use[i] != math.inf:
            layer[i] = int(first_use[i]) - 1
    return layer


def _ranks(layer: list[int], edges: list[tuple[int, int]]) -> list[float]:
    """Vertical position of each node inside its layer (barycentre heuristic, two sweeps)."""
    n = len(layer)
    parents: list[list[int]] = [[] for _ in range(n)]
    children: list[list[int]] = [[] for _ in range(n)]
    for p, c in edges:
        parents[c].append(p)
        children[p].append(c)
    by_layer: dict[int, list[int]] = {}
    for i, lay in enumerate(layer):
        by_layer.setdefault(lay, []).append(i)
    pos = [0.0] * n

    def place(nodes: list[int], key: dict[int, float]) -> None:
        nodes.sort(key=lambda i: (key.get(i, math.inf), i))
        k = len(nodes)
        for r, i in enumerate(nodes):
            pos[i] = r - (k - 1) / 2

    layers = sorted(by_layer)
    for lay in layers:  # forward sweep: follow the parents
        nodes = by_layer[lay]
        key = {i: float(np.mean([pos[p] for p in parents[i]])) for i in nodes if parents[i]}
        place(nodes, key)
    for lay in reversed(layers[:-1]):  # backward sweep: follow the children
        nodes = by_layer[lay]
        key = {i: float(np.mean([pos[c] for c in children[i]])) for i in nodes if children[i]}
        place(nodes, key)
    return pos


def draw_graph(
    tensor: Any,
    ax: Axes | None = None,
    max_nodes: int | None = 500,
    fontsize: float = 8.0,
) -> Axes:
    """Draw the computation graph that produced ``tensor``, inputs on the left, output on the right.

    Every node (Tensor) is one box, drawn once even when it is used several times: the box says
    the operation that made it (``const`` / ``param`` for leaves without / with
    ``requires_grad``; a ``label`` or ``name`` attribute is shown too), its shape (its value for
    a scalar), and its gradient when ``.grad`` is set (the value for a scalar, the norm
    otherwise). Arrows go from each input to the result, one per use (``x * x`` gets two).
    Column = longest path from a leaf; a leaf sits in the column before its first use.

    The graph is walked iteratively through ``_parents`` (no recursion), so deep graphs work;
    graphs larger than ``max_nodes`` are refused (pass ``max_nodes=None`` to draw anyway).
    The node boxes and arrows carry the gids ``NODE_GID`` and ``EDGE_GID``.

    Returns:
        The matplotlib Axes.
    """
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    who = "draw_graph"
    if not hasattr(tensor, "_parents"):
        raise TypeError(
            f"{who}: expected an nnlite Tensor (something with _parents), got "
            f"{type(tensor).__name__}"
        )
    order, edges = _graph(tensor)
    if max_nodes is not None and len(order) > max_nodes:
        raise ValueError(
            f"{who}: the graph has {len(order)} nodes, more than max_nodes={max_nodes}; "
            "draw a smaller expression or pass max_nodes=None"
        )
    layer = _layers(order, edges)
    pos = _ranks(layer, edges)
    n_layers = max(layer) + 1
    height = max(pos) - min(pos) + 1

    dx, dy = 2.2, 1.0  # data units between columns / rows
    bw, bh = 1.7, 0.78  # box size in data units
    if ax is None:
        w_in, h_in = 0.95 * dx * n_layers + 0.4, 0.75 * dy * height + 0.4
        shrink = min(1.0, 24.0 / w_in, 16.0 / h_in)
        fontsize = max(3.0, fontsize * shrink)
        ax = _new_axes((max(2.5, w_in * shrink), max(1.5, h_in * shrink)))

    xy = [(layer[i] * dx, -pos[i] * dy) for i in range(len(order))]
    for i, node in enumerate(order):
        x, y = xy[i]
        is_root = i == len(order) - 1
        op = getattr(node, "_op", "") or ""
        if is_root:
            face = "#ffd9a8"
        elif op:
            face = "#cfe2f3"
        elif getattr(node, "requires_grad", False):
            face = "#d9ead3"
        else:
            face = "#eeeeee"
        box = FancyBboxPatch(
            (x - bw / 2, y - bh / 2),
            bw,
            bh,
            boxstyle="round,pad=0.02,rounding_size=0.1",
            fc=face,
            ec="black",
            lw=1.4 if is_root else 0.8,
            zorder=2,
        )
        box.set_gid(NODE_GID)
        ax.add_patch(box)
        ax.text(
            x,
            y,
            _node_text(node),
            ha="center",
            va="center",
            fontsize=fontsize,
            zorder=3,
            clip_on=True,
        )
    drawn: dict[tuple[int, int], int] = {}
    uses: dict[tuple[int, int], int] = {}
    for e in edges:
        uses[e] = uses.get(e, 0) + 1
    for p, c in edges:
        (x0, y0), (x1, y1) = xy[p], xy[c]
        k = drawn[p, c] = drawn.get((p, c), -1) + 1  # the k-th arrow between the same two boxes
        rad = 0.15 if layer[c] - layer[p] > 1 else 0.0
        if uses[p, c] > 1:
            rad = (0.3, -0.3, 0.6, -0.6)[k % 4]
        arrow = FancyArrowPatch(
            (x0 + bw / 2, y0),
            (x1 - bw / 2, y1),
            arrowstyle="-|>",
            connectionstyle=f"arc3,rad={rad}",
            mutation_scale=8,
            lw=0.8,
            color="0.3",
            shrinkA=1,
            shrinkB=1,
            zorder=1,
        )
        arrow.set_gid(EDGE_GID)
        ax.add_patch(arrow)
    ys = [y for _, y in xy]
    ax.set_xlim(-dx / 2, (n_layers - 1) * dx + dx / 2)
    ax.set_ylim(min(ys) - dy / 2, max(ys) + dy / 2)
    ax.set_axis_off()
    return ax
