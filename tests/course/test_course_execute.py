"""Executing notebooks: the determinism rule, the lesson-error rule, and the fixture pipeline."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from course_helpers import demo_solution, stdout
from nbformat.v4 import new_code_cell, new_notebook, new_output

from nnlite.course.build import build_course
from nnlite.course.check import check_course
from nnlite.course.cli import main
from nnlite.course.execute import (
    comparable_text,
    execute_notebook,
    kernel_env,
    output_differences,
    repo_root,
    unexpected_errors,
)


def nb_with(*outputs) -> nbformat.NotebookNode:
    return new_notebook(cells=[new_code_cell("x", outputs=list(outputs))])


def test_comparable_text_keeps_stdout_and_plain_results():
    nb = nb_with(
        stdout("loss 0.1234\nacc 95.2 %\n"),
        new_output("stream", name="stderr", text="warning: slow\n"),
        new_output("execute_result", data={"text/plain": "array([1., 2.])"}, execution_count=1),
        new_output(
            "display_data",
            data={"text/plain": "<Figure size 640x480 with 1 Axes>", "image/png": "iVBOR"},
        ),  # fmt: skip
    )
    assert comparable_text(nb) == [
        (0, ["loss 0.1234", "acc 95.2 %", "array([1., 2.])", "<Figure size 640x480 with 1 Axes>"])
    ]


@pytest.mark.parametrize(
    "line",
    [
        "epoch 3 took 2.31 s",
        "trained in 15ms",
        "Elapsed: 12",
        "CPU times: user 1 s",
        "Wall time: 3.2 s",
        " 40%|████      | 4/10 [00:01<00:02,  2.50it/s]",
        "step 3, 1.2 s/it",
        "done in 2 min",
        "partial\rredrawn",
    ],
)
def test_volatile_lines_are_ignored(line):
    assert comparable_text(nb_with(stdout(line + "\nkept\n"))) == [(0, ["kept"])]


@pytest.mark.parametrize("line", ["2 samples", "5 seeds", "0.95 accuracy", "3 steps"])
def test_ordinary_numbers_are_kept(line):
    assert comparable_text(nb_with(stdout(line))) == [(0, [line])]


def test_addresses_are_masked_and_differences_named():
    a = nb_with(stdout("<Tensor at 0x7f3a2b1c9d00>\nloss 0.5\n"))
    b = nb_with(stdout("<Tensor at 0x7f00deadbeef>\nloss 0.6\n"))
    assert output_differences(a, a) == []
    assert output_differences(a, b) == ["cell 0, output line 2: stored 'loss 0.5', now 'loss 0.6'"]
    c = nb_with(stdout("<Tensor at 0x7f00deadbeef>\n"))
    assert output_differences(a, c) == ["cell 0, output line 2: stored 'loss 0.5', now '<no line>'"]


def error(ename: str, evalue: str):
    return new_output("error", ename=ename, evalue=evalue, traceback=[])


def test_only_stub_errors_are_expected():
    stub = "f: replace this line with your code"
    nb = new_notebook(
        cells=[
            new_code_cell(f'def f():\n    raise NotImplementedError("{stub}")'),
            new_code_cell("f()", outputs=[error("NotImplementedError", stub)]),
            new_code_cell("g()", outputs=[error("NotImplementedError", "g" + stub[1:])]),
            new_code_cell("h()", outputs=[error("NotImplementedError", "")]),
            new_code_cell("1/0", outputs=[error("ZeroDivisionError", "division by zero")]),
        ]
    )
    assert unexpected_errors(nb) == [
        "cell 2: NotImplementedError: g: replace this line with your code",
        "cell 3: NotImplementedError: ",
        "cell 4: ZeroDivisionError: division by zero",
    ]


def test_kernel_env_pins_threads_and_finds_this_checkout(monkeypatch):
    monkeypatch.setenv("PYTHONPATH", "/elsewhere")
    monkeypatch.setenv("OMP_NUM_THREADS", "8")
    env = kernel_env()
    assert env["PYTHONPATH"].split(os.pathsep) == [str(repo_root()), "/elsewhere"]
    assert (repo_root() / "nnlite" / "course" / "execute.py").is_file()
    assert env["OMP_NUM_THREADS"] == env["OPENBLAS_NUM_THREADS"] == "1"
    assert env["MPLBACKEND"] == "module://matplotlib_inline.backend_inline"
    assert env["PYTHONHASHSEED"] == "0"


@pytest.mark.slow
def test_fixture_course_executes_end_to_end(course: Path):
    """Solution runs clean and reproduces its stored outputs; its lesson fails only in stubs."""
    assert build_course(course, echo=lambda _: None) == 0
    assert check_course(course).ok
    solution = nbformat.read(course / "solutions" / "01_demo.ipynb", as_version=4)
    fresh = nbformat.reads(nbformat.writes(solution), as_version=4)
    elapsed = execute_notebook(fresh, course / "solutions", timeout=60)
    assert elapsed < 60
    assert output_differences(solution, fresh) == []
    lesson = nbformat.read(course / "lessons" / "01_demo.ipynb", as_version=4)
    execute_notebook(lesson, course / "lessons", allow_errors=True, timeout=60)
    assert unexpected_errors(lesson) == []
    errored = [i for i, c in enumerate(lesson.cells) if c.cell_type == "code" and any(
        o.output_type == "error" for o in c.outputs)]  # fmt: skip
    assert errored == [4, 6]  # the cell that calls numerical_grad, and the visible tests
    assert lesson.cells[8].outputs[0].text == "the end\n"  # later cells still run


@pytest.mark.slow
def test_execute_command_saves_outputs_an_author_can_build(course: Path, capsys):
    path = course / "solutions" / "01_demo.ipynb"
    nb = demo_solution()
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    path.write_text(nbformat.writes(nb) + "\n", encoding="utf-8")
    assert main(["execute", str(path), "--timeout", "60"]) == 0
    assert "executed in" in capsys.readouterr().out
    assert build_course(course, echo=lambda _: None) == 0
    assert [str(p) for p in check_course(course).problems] == []
    saved = nbformat.read(path, as_version=4)
    assert saved.cells[4].outputs[0].text == "[2. 4.]\n"
    assert "execution" not in saved.cells[4].metadata
    before = path.read_bytes()
    assert main(["execute", str(path)]) == 0
    assert path.read_bytes() == before  # deterministic, byte for byte


@pytest.mark.slow
def test_execute_command_reports_a_failing_cell(course: Path, capsys):
    path = course / "solutions" / "01_demo.ipynb"
    nb = demo_solution()
    nb.cells[4].source = "print(undefined_name)"
    path.write_text(nbformat.writes(nb) + "\n", encoding="utf-8")
    before = path.read_bytes()
    assert main(["execute", str(path), "--timeout", "60"]) == 1
    out = capsys.readouterr().out
    assert "execution failed, nothing saved" in out and "NameError" in out
    assert path.read_bytes() == before
