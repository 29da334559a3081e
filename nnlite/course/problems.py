"""Problems found in a course, each located as precisely as possible."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Problem:
    """One problem: the file (relative to the course root), the cell if any, and what is wrong.

    Cells are counted from 0, as in the notebook's JSON ``cells`` list. ``grade_id`` is the
    nbgrader ``grade_id`` of that cell when it has one, so the author finds the exercise.
    """

    path: str
    message: str
    cell: int | None = None
    grade_id: str | None = None

    def location(self) -> str:
        """``path``, ``path: cell 3`` or ``path: cell 3 (grade_id 'numerical_grad')``."""
        where = self.path
        if self.cell is not None:
            where += f": cell {self.cell}"
            if self.grade_id:
                where += f" (grade_id {self.grade_id!r})"
        return where

    def __str__(self) -> str:
        return f"{self.location()}: {self.message}"


class CourseError(Exception):
    """Raised when a course operation cannot proceed; carries every problem it found."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: list[Problem] = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def sort_problems(problems: Iterable[Problem]) -> list[Problem]:
    """Problems in a stable, readable order: by file, then cell (file-level ones first)."""
    return sorted(problems, key=lambda p: (p.path, -1 if p.cell is None else p.cell, p.message))
