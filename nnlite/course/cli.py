"""``python -m nnlite course ...``: build, check, release and execute the course notebooks."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

USAGE = """\
usage: python -m nnlite course COMMAND [options]

Keep lessons/ in sync with solutions/, the single source of every lesson.

commands:
  build   [--root DIR] [--force]      write lessons/NN_topic.ipynb from solutions/NN_topic.ipynb
                                      (stubs for solutions, no hidden tests, no outputs); a
                                      lesson someone edited is kept unless --force
  reset   LESSON [--root DIR]         restore one lesson to its original (e.g. reset 03); your
                                      version is kept as lessons/NN_topic.ipynb.bak
  check   [--root DIR]                fail with precise messages unless lessons/ is in sync and
                                      every notebook is valid (metadata, markers, leaks, names,
                                      title and learning goals, outputs); prints "OK: N lessons"
  release OUT [--root DIR] [--force]  write what a class receives into OUT: lessons/, nnlite/,
                                      requirements, a student README; never solutions/ or tests/
  graders OUT [--root DIR]            write an instructor's grading folder: nnlite, the hidden
                                      graders and the solutions they need (keep it private)
  gradescope LESSON OUT.zip [--hidden-visibility V] [--wheels]
                                      write a Gradescope autograder zip for one lesson (setup.sh
                                      and run_autograder at its root; hidden tests are shown
                                      after_published unless V says otherwise)
  nbgrader OUT [--root DIR]           write an nbgrader course directory (source/NN_topic/...,
                                      nbgrader_config.py): autograder test cells whose hidden part
                                      runs the course's graders
  execute NOTEBOOK ... [--timeout S]  run solution notebooks top to bottom in a fresh kernel
                                      (one BLAS thread, seeded hash) and save their outputs

An author's loop: edit solutions/NN_topic.ipynb, then
  python -m nnlite course execute solutions/NN_topic.ipynb
  python -m nnlite course build
  python -m nnlite course check

--root defaults to the current directory. Run "python -m nnlite course COMMAND -h" for details.
"""


#: Commands that read solutions/: they make no sense in a student's handout.
AUTHOR_TOOLS = ("build", "check", "release", "graders", "gradescope", "nbgrader")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m nnlite course", add_help=False)
    sub = parser.add_subparsers(dest="command")
    root_help = "the course root, holding solutions/ and lessons/ (default: current directory)"
    for name, text in (
        ("build", "write lessons/ from solutions/"),
        ("check", "verify lessons/ and solutions/"),
    ):
        p = sub.add_parser(name, help=text, description=text)
        p.add_argument("--root", type=Path, default=Path("."), help=root_help)
        if name == "build":
            p.add_argument(
                "--force", action="store_true", help="overwrite lessons that someone has edited"
            )
    text = "restore one lesson to its original; your version is kept as a .bak file"
    p = sub.add_parser("reset", help=text, description=text)
    p.add_argument("lesson", metavar="LESSON", help="e.g. 03, 03_connection_strength or its path")
    p.add_argument("--root", type=Path, default=Path("."), help=root_help)
    p = sub.add_parser("release", help="write the student bundle", description=__doc__)
    p.add_argument("out", type=Path, metavar="OUT", help="the folder to write (empty or absent)")
    p.add_argument("--root", type=Path, default=Path("."), help=root_help)
    p.add_argument("--force", action="store_true", help="replace the contents of a non-empty OUT")
    p = sub.add_parser("graders", help="write an instructor's grading folder")
    p.add_argument("out", type=Path, metavar="OUT")
    p.add_argument("--root", type=Path, default=Path("."), help=root_help)
    p = sub.add_parser("nbgrader", help="write an nbgrader course directory")
    p.add_argument("out", type=Path, metavar="OUT")
    p.add_argument("--root", type=Path, default=Path("."), help=root_help)
    p = sub.add_parser("gradescope", help="write a Gradescope autograder zip for one lesson")
    p.add_argument("lesson", metavar="LESSON", help="e.g. 03 or 03_connection_strength")
    p.add_argument("out", type=Path, metavar="OUT.zip")
    p.add_argument("--root", type=Path, default=Path("."), help=root_help)
    p.add_argument(
        "--hidden-visibility",
        default="after_published",
        choices=("hidden", "after_due_date", "after_published", "visible"),
        help="when students see the hidden tests' results (default after_published)",
    )
    p.add_argument(
        "--wheels",
        action="store_true",
        help="put the requirements' wheels (Linux x86_64, Python 3.11) in the zip, so "
        "Gradescope's image build needs no network",
    )
    p = sub.add_parser("execute", help="execute solution notebooks and save their outputs")
    p.add_argument("notebooks", type=Path, nargs="+", metavar="NOTEBOOK")
    p.add_argument(
        "--timeout", type=float, default=600, help="seconds allowed per cell (default 600)"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run a course command; returns the exit status (2 for usage errors)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(USAGE)
        return 0 if argv else 2
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # argparse has printed the error
        return int(exc.code or 0)
    if args.command in AUTHOR_TOOLS and not (args.root / "solutions").is_dir():
        print(
            f"course {args.command}: this is an author's tool; it needs the course repository's "
            f"solutions/ folder, and {args.root.resolve()} has none. In a student's copy of the "
            "course use: python -m nnlite check lessons/NN_topic.ipynb (your checks), "
            "python -m nnlite course reset NN (restore a lesson)."
        )
        return 2
    if args.command == "build":
        from nnlite.course.build import build_course

        return build_course(args.root, force=args.force)
    if args.command == "reset":
        from nnlite.course.work import reset_lesson

        return reset_lesson(args.root, args.lesson)
    if args.command == "check":
        from nnlite.course.check import check_command

        return check_command(args.root)
    if args.command == "release":
        from nnlite.course.release import release_course

        return release_course(args.root, args.out, force=args.force)
    if args.command == "graders":
        from nnlite.course.bundle import graders_command

        return graders_command(args.root, args.out)
    if args.command == "nbgrader":
        from nnlite.course.nbgrader_export import nbgrader_command

        return nbgrader_command(args.root, args.out)
    if args.command == "gradescope":
        from nnlite.course.bundle import gradescope_command

        return gradescope_command(
            args.root, args.lesson, args.out, args.hidden_visibility, wheels=args.wheels
        )
    if args.command == "execute":
        from nnlite.course.execute import execute_command

        return execute_command(args.notebooks, timeout=args.timeout)
    print(USAGE)
    return 2
