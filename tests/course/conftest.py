"""Registers the fixture-course fixtures of :mod:`course_helpers` for tests/course."""

from course_helpers import course, course_with  # noqa: F401
