"""Command line: ``python -m nnlite <command> ...``.

Commands:
  check NOTEBOOK [--exercise ID]  run a lesson's visible checks on your saved notebook
  course reset LESSON             restore one lesson to its original (yours is kept as .bak)
  course build|check|release|graders|gradescope|execute
                                  author and instructor tools (see python -m nnlite course)
  grade NOTEBOOK|FOLDER ...       score notebooks with the hidden graders in tests/graders/
                                  (--exercise ID grades one exercise; --summary class.html)
  report FOLDER --out class.html  one page of class insights from grading results (nnlite
                                  reports, Gradescope results.json files, an nbgrader course)
"""

from __future__ import annotations

import sys

USAGE = __doc__


def main(argv: list[str] | None = None) -> int:
    """Dispatch to a sub-command; returns the process exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(USAGE)
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    if command == "course":
        from nnlite.course.cli import main as course_main

        return course_main(rest)
    if command == "check":
        from nnlite.checks.cli import main as check_main

        return check_main(rest)
    if command == "grade":
        from nnlite.grading.cli import main as grade_main

        return grade_main(rest)
    if command == "report":
        from nnlite.grading.insights import main as report_main

        return report_main(rest)
    print(f"nnlite: unknown command {command!r}\n{USAGE}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
