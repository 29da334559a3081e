"""Hidden graders: the `student`, `reference` and `rng` fixtures of nnlite.grading.

Plain `python -m pytest tests/graders/` grades each lesson's solution notebook (every test must
pass); `python -m nnlite grade NOTEBOOK` runs the same files on a student's notebook.
"""

from nnlite.grading.plugin import *  # noqa: F403 - the fixtures: student, reference, rng
