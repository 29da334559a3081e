"""Solution / hidden-test markers: nbgrader's semantics, and precise errors."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nnlite.course import markers
from nnlite.course.markers import MarkerError, strip_source, untidy_marker_lines

STUB = 'raise NotImplementedError("f: replace this line with your code")'


def test_region_inside_a_method_keeps_the_begin_lines_indentation():
    source = (
        "class A:\n"
        "    def f(self, x):\n"
        "        y = x\n"
        "        ### BEGIN SOLUTION\n"
        "        return y + 1\n"
        "        ### END SOLUTION\n"
        "\n"
        "    def g(self):\n"
        "        return 0\n"
    )
    out = strip_source(source, "code", "f")
    assert out.source == (
        "class A:\n"
        "    def f(self, x):\n"
        "        y = x\n"
        "        # YOUR CODE HERE\n"
        f"        {STUB}\n"
        "\n"
        "    def g(self):\n"
        "        return 0\n"
    )
    [region] = out.solution_regions
    assert (region.begin, region.end, region.lines) == (4, 6, ["        return y + 1"])


def test_markers_match_as_substrings_like_nbgrader():
    # nbgrader's delimiter is "BEGIN SOLUTION" without the comment characters.
    source = "x = 1\n# BEGIN SOLUTION\nx = 2\n  #### END SOLUTION ####\nprint(x)"
    assert strip_source(source, "code", "f").source == f"x = 1\n# YOUR CODE HERE\n{STUB}\nprint(x)"


def test_several_regions_in_one_cell_each_become_a_stub():
    source = "def a():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION\n\n"
    source += "def b():\n  ### BEGIN SOLUTION\n  return 2\n  ### END SOLUTION"
    out = strip_source(source, "code", "f")
    assert out.source == (
        f"def a():\n    # YOUR CODE HERE\n    {STUB}\n\ndef b():\n  # YOUR CODE HERE\n  {STUB}"
    )
    assert len(out.solution_regions) == 2


def test_whole_cell_region_and_trailing_newline_are_preserved():
    out = strip_source("### BEGIN SOLUTION\nx = 1\n### END SOLUTION\n", "code", "f")
    assert out.source == f"# YOUR CODE HERE\n{STUB}\n"


def test_stub_names_the_exercise_and_is_recognisable():
    [comment, raise_line] = markers.code_stub("numerical_grad", "  ")
    assert comment == "  # YOUR CODE HERE"
    assert raise_line == (
        '  raise NotImplementedError("numerical_grad: replace this line with your code")'
    )
    message = re.search(r'"(.*)"', raise_line).group(1)
    assert markers.STUB_MESSAGE.match(message).group("grade_id") == "numerical_grad"


def test_markdown_region_becomes_your_answer_here():
    source = "Explain.\n\n  ### BEGIN SOLUTION\n  Because h squared.\n  ### END SOLUTION\nEnd."
    out = strip_source(source, "markdown", "why")
    assert out.source == "Explain.\n\n  YOUR ANSWER HERE\nEnd."


def test_hidden_tests_are_removed_with_their_markers():
    source = (
        "assert f(1) == 2\n### BEGIN HIDDEN TESTS\nassert f(-1) == -2\n### END HIDDEN TESTS\nok"
    )
    out = strip_source(source, "code", "t")
    assert out.source == "assert f(1) == 2\nok"
    [region] = out.hidden_regions
    assert region.lines == ["assert f(-1) == -2"]
    assert out.solution_regions == []


def test_source_without_markers_is_unchanged():
    out = strip_source("x = 1\n", "code", None)
    assert (out.source, out.regions) == ("x = 1\n", [])


@pytest.mark.parametrize(
    ("source", "line", "message"),
    [
        (
            "### BEGIN SOLUTION\nx\n### BEGIN SOLUTION\ny\n### END SOLUTION",
            3,
            "line 3: nested ### BEGIN SOLUTION inside the region opened by ### BEGIN SOLUTION "
            "at line 1; close it first (regions cannot be nested)",
        ),
        (
            "a\n  ### BEGIN SOLUTION\nx",
            2,
            "line 2: ### BEGIN SOLUTION is never closed (no ### END SOLUTION after it)",
        ),
        (
            "x\n### END SOLUTION",
            2,
            "line 2: ### END SOLUTION without a matching ### BEGIN SOLUTION before it",
        ),
        (
            "### BEGIN SOLUTION\n### BEGIN HIDDEN TESTS\n### END HIDDEN TESTS\n### END SOLUTION",
            2,
            "line 2: a ### BEGIN HIDDEN TESTS inside the region opened by ### BEGIN SOLUTION "
            "at line 1; close it first (regions cannot be nested)",
        ),
        (
            "### BEGIN HIDDEN TESTS\nx\n### END SOLUTION",
            3,
            "line 3: ### END SOLUTION inside the region opened by ### BEGIN HIDDEN TESTS at line 1",
        ),
        (
            "### BEGIN HIDDEN TESTS\nx",
            1,
            "line 1: ### BEGIN HIDDEN TESTS is never closed (no ### END HIDDEN TESTS after it)",
        ),
    ],
)
def test_broken_markers_raise_with_the_line(source, line, message):
    with pytest.raises(MarkerError) as info:
        strip_source(source, "code", "f")
    assert (info.value.line, info.value.message) == (line, message)


def test_untidy_marker_lines_are_found():
    source = "x = 1  ### BEGIN SOLUTION\n### END SOLUTION\n<!-- BEGIN SOLUTION -->\n"
    source += "  ##   END SOLUTION\nprint('BEGIN SOLUTION')"
    assert untidy_marker_lines(source) == [
        (1, "x = 1  ### BEGIN SOLUTION"),
        (5, "print('BEGIN SOLUTION')"),
    ]


def nbgrader_reference(source: str, stub: list[str]) -> str:
    """nbgrader's ClearSolutions + ClearHiddenTests algorithm, for well-formed input."""
    lines, out, in_solution = source.split("\n"), [], False
    for line in lines:
        if "BEGIN SOLUTION" in line:
            in_solution = True
            indent = re.match(r"\s*", line).group(0)
            out.extend(indent + s for s in stub)
        elif "END SOLUTION" in line:
            in_solution = False
        elif not in_solution:
            out.append(line)
    lines, result, in_test = out, [], False
    for line in lines:
        if "BEGIN HIDDEN TESTS" in line:
            in_test = True
        elif "END HIDDEN TESTS" in line:
            in_test = False
        elif not in_test:
            result.append(line)
    return "\n".join(result)


_plain = st.sampled_from(["x = 1", "    y = f(x)", "", "  # note", "return y", "\tz"])


@st.composite
def well_formed(draw):
    parts: list[str] = []
    for _ in range(draw(st.integers(0, 4))):
        parts += draw(st.lists(_plain, max_size=3))
        kind = draw(st.sampled_from(["SOLUTION", "HIDDEN TESTS", None]))
        if kind:
            indent = draw(st.sampled_from(["", "    ", "\t", "        "]))
            body = draw(st.lists(_plain, max_size=3))
            parts += [f"{indent}### BEGIN {kind}", *body, f"{indent}### END {kind}"]
    return "\n".join(parts)


@given(well_formed(), st.sampled_from(["code", "markdown"]))
def test_same_output_as_nbgrader_on_well_formed_cells(source, cell_type):
    stub = markers.code_stub("f") if cell_type == "code" else [markers.TEXT_STUB]
    assert strip_source(source, cell_type, "f").source == nbgrader_reference(source, stub)


@given(well_formed())
def test_no_region_line_survives_unless_it_is_also_outside(source):
    out = strip_source(source, "code", "f")
    outside = set(nbgrader_reference(source, []).split("\n"))
    kept = set(out.source.split("\n"))
    for region in out.regions:
        for line in region.lines:
            assert line not in kept or line in outside
