"""Build small notebooks for the grading tests (nbformat v4, no outputs)."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat

FIXTURE = Path(__file__).parent / "fixture"

IMPORTS = "import numpy as np"

NORMALIZE_ROWS = '''def normalize_rows(x):
    """Rows of x divided by their L2 norm; all-zero rows stay zero. Leaves x unchanged."""
    ### BEGIN SOLUTION
    x = np.asarray(x, dtype=float)
    norms = np.sqrt((x * x).sum(axis=1, keepdims=True))
    return np.divide(x, norms, out=np.zeros_like(x), where=norms > 0)
    ### END SOLUTION'''

TRAPEZOID = '''def trapezoid(f, a, b, n=1000):
    """Integral of f over [a, b] by the trapezoidal rule with n intervals (a float)."""
    ### BEGIN SOLUTION
    xs = np.linspace(a, b, n + 1)
    ys = np.array([f(x) for x in xs], dtype=float)
    h = (b - a) / n
    return float(h * (ys.sum() - 0.5 * (ys[0] + ys[-1])))
    ### END SOLUTION'''

RUNNING_MEAN = '''class RunningMean:
    """Mean of all the rows seen so far by update(); zeros before any row."""

    def __init__(self, dim):
        ### BEGIN SOLUTION
        self.total = np.zeros(dim)
        self.count = 0
        ### END SOLUTION

    def update(self, batch):
        ### BEGIN SOLUTION
        batch = np.asarray(batch, dtype=float)
        self.total = self.total + batch.sum(axis=0)
        self.count += batch.shape[0]
        ### END SOLUTION

    def mean(self):
        ### BEGIN SOLUTION
        if self.count == 0:
            return np.zeros_like(self.total)
        return self.total / self.count
        ### END SOLUTION'''

EXPERIMENT = """rng = np.random.default_rng(0)
data = rng.normal(size=(100, 3))
rm = RunningMean(3)
for row in data:
    rm.update(row[None, :])
print(rm.mean(), normalize_rows(data[:2]), trapezoid(np.sin, 0, np.pi))"""

SOLUTION_CELLS = {
    "imports": IMPORTS,
    "normalize_rows": NORMALIZE_ROWS,
    "trapezoid": TRAPEZOID,
    "running_mean": RUNNING_MEAN,
}


def stub(source: str) -> str:
    """Replace each solution region by `raise NotImplementedError` (as the course build does)."""
    out, skipping = [], False
    for line in source.split("\n"):
        if line.strip() == "### BEGIN SOLUTION":
            indent = line[: len(line) - len(line.lstrip())]
            out.append(f"{indent}raise NotImplementedError")
            skipping = True
        elif line.strip() == "### END SOLUTION":
            skipping = False
        elif not skipping:
            out.append(line)
    return "\n".join(out)


def notebook(
    cells: list, *, lesson: str | None = "99_fixture", metadata: dict | None = None
) -> nbformat.NotebookNode:
    """cells: strings (code) or ("markdown", text) / ("code", text, grade_id)."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    if lesson:
        nb.metadata["nnlite"] = {"lesson": lesson}
    if metadata:
        nb.metadata.update(metadata)
    for c in cells:
        if isinstance(c, str):
            nb.cells.append(nbformat.v4.new_code_cell(c))
        elif c[0] == "markdown":
            nb.cells.append(nbformat.v4.new_markdown_cell(c[1]))
        else:
            cell = nbformat.v4.new_code_cell(c[1])
            if len(c) > 2:
                cell.metadata["nbgrader"] = {
                    "grade_id": c[2],
                    "solution": True,
                    "grade": False,
                    "locked": False,
                    "points": 0,
                    "schema_version": 3,
                }
            nb.cells.append(cell)
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i}"
    return nb


def fixture_cells(
    overrides: dict[str, str] | None = None, *, extra: list | None = None, stubbed: bool = False
) -> list:
    overrides = overrides or {}
    cells: list = [("markdown", "# 99 · Fixture lesson\nA tiny lesson for testing the grader.")]
    for gid, src in SOLUTION_CELLS.items():
        src = overrides.get(gid, src)
        if stubbed and gid != "imports":
            src = stub(src)
        cells.append(("code", src, gid) if gid != "imports" else src)
        if gid != "imports":
            cells.append(f'check("{gid}", {gid if gid != "running_mean" else "RunningMean"})')
    cells.insert(2, 'from nnlite.checks import lesson\ncheck = lesson("99_fixture")')
    cells.append(EXPERIMENT)
    cells.extend(extra or [])
    return cells


def fixture_notebook(overrides: dict[str, str] | None = None, **kw) -> nbformat.NotebookNode:
    extra = kw.pop("extra", None)
    stubbed = kw.pop("stubbed", False)
    return notebook(fixture_cells(overrides, extra=extra, stubbed=stubbed), **kw)


def write(nb: nbformat.NotebookNode | dict | str | bytes, path: Path) -> Path:
    path = Path(path)
    if isinstance(nb, bytes):
        path.write_bytes(nb)
    elif isinstance(nb, str):
        path.write_text(nb, encoding="utf-8")
    elif isinstance(nb, nbformat.NotebookNode):
        nbformat.write(nb, str(path))
    else:
        path.write_text(json.dumps(nb), encoding="utf-8")
    return path


def main() -> None:
    write(fixture_notebook(), FIXTURE / "solutions" / "99_fixture.ipynb")
    write(fixture_notebook(stubbed=True), FIXTURE / "lessons" / "99_fixture.ipynb")


if __name__ == "__main__":
    main()


REPO = Path(__file__).resolve().parents[2]


def lesson_notebook(
    lesson: str,
    *,
    stubbed: bool = True,
    overrides: dict[str, str] | None = None,
    extra: list[str] | None = None,
) -> nbformat.NotebookNode:
    """A real lesson's solution notebook, its exercises stubbed (as the course build does) or
    replaced (``overrides``: grade_id -> cell source), with ``extra`` code cells appended."""
    nb = nbformat.read(str(REPO / "solutions" / f"{lesson}.ipynb"), as_version=4)
    overrides = overrides or {}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if gid in overrides:
            cell.source = overrides[gid]
        elif stubbed:
            cell.source = stub(cell.source)
    for i, src in enumerate(extra or []):
        cell = nbformat.v4.new_code_cell(src)
        cell["id"] = f"extra-{i}"
        nb.cells.append(cell)
    return nb
