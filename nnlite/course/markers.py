"""Solution and hidden-test markers, with nbgrader's semantics.

A solution notebook marks exercise code like this::

    def numerical_grad(f, x, h=1e-6):
        ### BEGIN SOLUTION
        ...the reference implementation...
        ### END SOLUTION

Rules (the same as nbgrader's ``ClearSolutions`` and ``ClearHiddenTests`` preprocessors):

* A line is a marker when it *contains* ``BEGIN SOLUTION``, ``END SOLUTION``,
  ``BEGIN HIDDEN TESTS`` or ``END HIDDEN TESTS`` (nbgrader's delimiters exclude the comment
  characters, so ``### BEGIN SOLUTION`` indented inside a method is a marker). The whole marker
  line is dropped.
* In a code cell a solution region (marker lines included) becomes the stub::

      # YOUR CODE HERE
      raise NotImplementedError("<grade_id>: replace this line with your code")

  indented like the BEGIN line. In a markdown cell it becomes ``YOUR ANSWER HERE``.
* A hidden-tests region (marker lines included) is removed.
* A solution cell of markdown type without markers is replaced as a whole by
  ``YOUR ANSWER HERE`` (nbgrader's manually graded answer).

Errors name the line: a BEGIN inside an open region (nested, or a solution region inside a
hidden-tests region and vice versa), a region that is never closed, and, stricter than nbgrader
(which silently drops it), an END without its BEGIN. Callers add the notebook and the cell.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

BEGIN_SOLUTION = "BEGIN SOLUTION"
END_SOLUTION = "END SOLUTION"
BEGIN_HIDDEN_TESTS = "BEGIN HIDDEN TESTS"
END_HIDDEN_TESTS = "END HIDDEN TESTS"

#: The stub of a code solution region (one entry per line; ``{grade_id}`` is filled in).
CODE_STUB = (
    "# YOUR CODE HERE",
    'raise NotImplementedError("{grade_id}: replace this line with your code")',
)
#: The stub of a markdown solution region, and of a markdown answer cell without markers.
TEXT_STUB = "YOUR ANSWER HERE"

#: What a stub's ``NotImplementedError`` message looks like (used to recognise stub errors).
STUB_MESSAGE = re.compile(r"^(?P<grade_id>[A-Za-z0-9_\-]*): replace this line with your code$")

Kind = Literal["solution", "hidden"]

_MARKERS: tuple[tuple[str, Kind, bool], ...] = (
    # (delimiter, region kind, is_begin); the first delimiter a line contains decides.
    (BEGIN_SOLUTION, "solution", True),
    (END_SOLUTION, "solution", False),
    (BEGIN_HIDDEN_TESTS, "hidden", True),
    (END_HIDDEN_TESTS, "hidden", False),
)
_SPELLING = {"solution": ("### BEGIN SOLUTION", "### END SOLUTION"),
             "hidden": ("### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")}  # fmt: skip
_CLEAN_MARKER = re.compile(r"^(?:#+|<!--)?\s*(?P<delim>[A-Z ]+?)\s*(?:-->)?$")


class MarkerError(ValueError):
    """A marker problem in one cell's source; ``line`` is 1-based."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


@dataclass
class Region:
    """A marked region: its kind, the 1-based lines of its markers, the lines between them."""

    kind: Kind
    begin: int
    end: int
    lines: list[str] = field(default_factory=list)


@dataclass
class Stripped:
    """The result of stripping one cell: its new source and the regions that were removed."""

    source: str
    regions: list[Region]

    @property
    def solution_regions(self) -> list[Region]:
        """The solution regions, in order."""
        return [r for r in self.regions if r.kind == "solution"]

    @property
    def hidden_regions(self) -> list[Region]:
        """The hidden-tests regions, in order."""
        return [r for r in self.regions if r.kind == "hidden"]


def marker_of(line: str) -> tuple[str, Kind, bool] | None:
    """``(delimiter, kind, is_begin)`` if ``line`` is a marker line, else None."""
    for marker in _MARKERS:
        if marker[0] in line:
            return marker
    return None


def code_stub(grade_id: str | None, indent: str = "") -> list[str]:
    """The stub lines for a code solution region of exercise ``grade_id``."""
    name = grade_id or "exercise"
    return [indent + line.format(grade_id=name) for line in CODE_STUB]


def find_regions(source: str) -> list[Region]:
    """The marked regions of ``source``; raises :class:`MarkerError` when markers are broken."""
    regions: list[Region] = []
    current: Region | None = None
    for number, line in enumerate(source.split("\n"), start=1):
        marker = marker_of(line)
        if marker is None:
            if current is not None:
                current.lines.append(line)
            continue
        _, kind, is_begin = marker
        begin_text, end_text = _SPELLING[kind]
        if is_begin:
            if current is not None:
                opened = _SPELLING[current.kind][0]
                what = "nested" if current.kind == kind else "a"
                raise MarkerError(
                    f"line {number}: {what} {begin_text} inside the region opened by "
                    f"{opened} at line {current.begin}; close it first "
                    f"(regions cannot be nested)",
                    number,
                )
            current = Region(kind, number, 0)
        else:
            if current is None:
                raise MarkerError(
                    f"line {number}: {end_text} without a matching {begin_text} before it",
                    number,
                )
            if current.kind != kind:
                opened = _SPELLING[current.kind][0]
                raise MarkerError(
                    f"line {number}: {end_text} inside the region opened by {opened} at "
                    f"line {current.begin}",
                    number,
                )
            current.end = number
            regions.append(current)
            current = None
    if current is not None:
        begin_text, end_text = _SPELLING[current.kind]
        raise MarkerError(
            f"line {current.begin}: {begin_text} is never closed (no {end_text} after it)",
            current.begin,
        )
    return regions


def strip_source(source: str, cell_type: str, grade_id: str | None) -> Stripped:
    """Replace solution regions by the stub and drop hidden-test regions (nbgrader semantics).

    ``grade_id`` names the exercise in the stub's ``NotImplementedError`` message. Raises
    :class:`MarkerError` for nested, unclosed or unmatched markers.
    """
    regions = find_regions(source)
    if not regions:
        return Stripped(source, [])
    out: list[str] = []
    lines = source.split("\n")
    starts = {r.begin: r for r in regions}
    number = 1
    while number <= len(lines):
        region = starts.get(number)
        if region is None:
            out.append(lines[number - 1])
            number += 1
            continue
        if region.kind == "solution":
            indent = re.match(r"\s*", lines[number - 1]).group(0)  # type: ignore[union-attr]
            if cell_type == "code":
                out.extend(code_stub(grade_id, indent))
            else:
                out.append(indent + TEXT_STUB)
        number = region.end + 1
    return Stripped("\n".join(out), regions)


def untidy_marker_lines(source: str) -> list[tuple[int, str]]:
    """Marker lines that hold more than the marker (nbgrader drops the whole line).

    ``### BEGIN SOLUTION`` (any number of ``#``, any indentation) and
    ``<!-- BEGIN SOLUTION -->`` are tidy; ``x = 1  ### BEGIN SOLUTION`` is not: the ``x = 1``
    would silently disappear from both the lesson and nbgrader's release. Returns
    ``(1-based line, line)`` pairs.
    """
    found: list[tuple[int, str]] = []
    for number, line in enumerate(source.split("\n"), start=1):
        marker = marker_of(line)
        if marker is None:
            continue
        match = _CLEAN_MARKER.match(line.strip())
        if match is None or match.group("delim") != marker[0]:
            found.append((number, line))
    return found
