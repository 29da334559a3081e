"""``python -m nnlite grade``: grade one notebook or a folder of submissions.

Exit status: 0 when every notebook got a report (whatever its score), 1 when the grader itself
failed somewhere (a broken grader file, a sandbox that could not start, a crashed worker), 2 for
bad command-line usage.
"""

from __future__ import annotations

import argparse
import json
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

USAGE_EXAMPLES = """examples:
  python -m nnlite grade lessons/01_autograd.ipynb
  python -m nnlite grade NB.ipynb --json report.json --gradescope results.json
  python -m nnlite grade submissions/ -j 2 --csv grades.csv --out feedback/
"""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m nnlite grade",
        description="Score notebooks with the hidden graders in tests/graders/ "
        "(student code runs sandboxed).",
        epilog=USAGE_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("paths", nargs="+", help="notebooks (.ipynb) and/or folders of notebooks")
    p.add_argument("--json", metavar="FILE", help="write the JSON report (one notebook)")
    p.add_argument(
        "--gradescope", metavar="FILE", help="write Gradescope results.json (one notebook)"
    )
    p.add_argument("--csv", metavar="FILE", help="write a gradebook: one row per notebook")
    p.add_argument("--out", metavar="DIR", help="write STUDENT.json and STUDENT.txt per notebook")
    p.add_argument(
        "-j", "--jobs", type=int, default=1, metavar="N", help="grade N notebooks in parallel"
    )
    p.add_argument("--lesson", help="grade as this lesson (NN_topic) instead of guessing")
    p.add_argument(
        "--graders", metavar="DIR", help="folder of grader files (default: tests/graders)"
    )
    p.add_argument(
        "--isolation",
        choices=["auto", "namespaces", "landlock", "process"],
        help="sandbox level (default: auto = strongest available; env NNLITE_GRADING_ISOLATION)",
    )
    p.add_argument(
        "--timeout", type=float, metavar="S", help="default wall-clock limit per call (s)"
    )
    p.add_argument(
        "-q", "--quiet", action="store_true", help="print only a one-line summary per notebook"
    )
    p.add_argument("-v", "--verbose", action="store_true", help="list passed tests too")
    p.add_argument("--color", choices=["auto", "always", "never"], default="auto")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    return p


def find_notebooks(paths: list[str]) -> list[tuple[Path, Path | None]]:
    """(notebook, batch root) pairs; folders are searched recursively, checkpoints skipped."""
    out: list[tuple[Path, Path | None]] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            found = []
            for dirpath, dirnames, filenames in os.walk(p):
                dirnames[:] = sorted(
                    d for d in dirnames if not d.startswith(".") and d != "__pycache__"
                )
                for f in sorted(filenames):
                    if f.lower().endswith(".ipynb") and not f.startswith("."):
                        found.append(Path(dirpath) / f)
            out.extend((f, p) for f in sorted(found))
        elif p.exists():
            out.append((p, None))
        else:
            raise FileNotFoundError(raw)
    return out


def _limits(args: argparse.Namespace):
    from nnlite.grading.sandbox import Limits

    lim = Limits()
    if args.timeout:
        lim.call_timeout = float(args.timeout)
    return lim


def _fault_report(path: str, student: str, message: str) -> dict[str, Any]:
    from nnlite.grading.report import build_report

    rep = build_report(
        notebook=path,
        student=student,
        lesson=None,
        exercises={},
        outcomes=[],
        isolation="none",
        features=[],
        duration=0.0,
        error="the grader failed on this notebook; it was not graded",
    )
    rep["grader_faults"] = [message]
    return rep


# ----------------------------------------------------------------------------- workers


def _worker_main(args: argparse.Namespace) -> int:
    """Read JSON job lines on stdin, answer JSON report lines on the original stdout."""
    from nnlite.grading.runner import grade_notebook

    proto = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    for line in sys.stdin:
        job = json.loads(line)
        try:
            rep = grade_notebook(
                job["path"],
                lesson=args.lesson,
                graders_dir=args.graders,
                isolation=args.isolation,
                limits=_limits(args),
                student=job["student"],
            )
        except Exception as exc:  # noqa: BLE001
            rep = _fault_report(job["path"], job["student"], f"{type(exc).__name__}: {exc}")
        proto.write(json.dumps({"i": job["i"], "report": rep}, allow_nan=False) + "\n")
        proto.flush()
    return 0


class _Worker:
    def __init__(self, argv: list[str]):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "nnlite.grading.cli", "--worker", *argv],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            bufsize=1,
        )
        self.job: dict | None = None
        self.started = 0.0
        self.buf = ""

    def send(self, job: dict) -> None:
        self.job = job
        self.started = time.monotonic()
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(job) + "\n")
        self.proc.stdin.flush()

    def kill(self) -> None:
        try:
            self.proc.kill()
        except OSError:
            pass
        self.proc.wait()
        for f in (self.proc.stdin, self.proc.stdout):
            try:
                f.close()
            except (OSError, AttributeError):
                pass

    def close(self) -> None:
        try:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            self.proc.wait(timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            self.kill()
        try:
            self.proc.stdout.close()  # type: ignore[union-attr]
        except OSError:
            pass


def _run_parallel(
    jobs: list[dict], n: int, argv: list[str], per_notebook: float, progress
) -> list[dict]:
    reports: dict[int, dict] = {}
    pending = list(reversed(jobs))
    workers = [_Worker(argv) for _ in range(min(n, len(jobs)))]
    try:
        while len(reports) < len(jobs):
            for w in workers:
                if w.job is None and pending:
                    w.send(pending.pop())
            busy = [w for w in workers if w.job is not None]
            fds = {w.proc.stdout.fileno(): w for w in busy}  # type: ignore[union-attr]
            ready, _, _ = select.select(list(fds), [], [], 1.0)
            for fd in ready:
                w = fds[fd]
                line = w.proc.stdout.readline()  # type: ignore[union-attr]
                job = w.job
                assert job is not None
                if not line:
                    reports[job["i"]] = _fault_report(
                        job["path"], job["student"], "the grading worker died"
                    )
                    w.kill()
                    workers[workers.index(w)] = _Worker(argv)
                    progress(reports[job["i"]])
                    continue
                try:
                    msg = json.loads(line)
                    rep = msg["report"]
                    if msg["i"] != job["i"]:
                        raise ValueError("out of order")
                except (ValueError, KeyError, TypeError):
                    rep = _fault_report(
                        job["path"], job["student"], "the grading worker answered garbage"
                    )
                reports[job["i"]] = rep
                w.job = None
                progress(rep)
            now = time.monotonic()
            for i, w in enumerate(workers):
                if w.job is not None and now - w.started > per_notebook:
                    job = w.job
                    reports[job["i"]] = _fault_report(
                        job["path"], job["student"], f"grading took longer than {per_notebook:g} s"
                    )
                    w.kill()
                    workers[i] = _Worker(argv)
                    progress(reports[job["i"]])
    finally:
        for w in workers:
            w.close()
    return [reports[j["i"]] for j in jobs]


# ----------------------------------------------------------------------------- main


def _forward_argv(args: argparse.Namespace) -> list[str]:
    out = []
    if args.lesson:
        out += ["--lesson", args.lesson]
    if args.graders:
        out += ["--graders", args.graders]
    if args.isolation:
        out += ["--isolation", args.isolation]
    if args.timeout:
        out += ["--timeout", str(args.timeout)]
    return out + ["-"]


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m nnlite grade``; returns the exit status."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return 0 if exc.code in (0, None) else 2
    if args.worker:
        return _worker_main(args)
    from nnlite.grading.report import (
        _printable,
        atomic_write,
        gradebook_csv,
        gradescope,
        render_text,
        to_json,
    )
    from nnlite.grading.runner import default_graders_dir, grade_notebook, known_lessons, student_id
    from nnlite.grading.sandbox import kill_all

    try:
        notebooks = find_notebooks(args.paths)
    except FileNotFoundError as exc:
        print(f"nnlite grade: no such file or folder: {exc}", file=sys.stderr)
        return 2
    if not notebooks:
        print("nnlite grade: no notebooks (.ipynb) found", file=sys.stderr)
        return 2
    if len(notebooks) > 1 and (args.json or args.gradescope):
        print(
            "nnlite grade: --json/--gradescope take one notebook; use --out DIR for several",
            file=sys.stderr,
        )
        return 2
    if args.jobs < 1:
        print("nnlite grade: -j needs N >= 1", file=sys.stderr)
        return 2
    graders = args.graders or str(default_graders_dir())
    known = known_lessons(graders)
    if args.lesson and args.lesson not in known:
        print(
            f"nnlite grade: unknown lesson {args.lesson!r}; known: {', '.join(known) or 'none'}",
            file=sys.stderr,
        )
        return 2
    color = args.color == "always" or (
        args.color == "auto" and sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    )

    def on_term(signum, frame):  # noqa: ARG001
        raise KeyboardInterrupt

    old = signal.signal(signal.SIGTERM, on_term)
    try:
        from nnlite.grading.notebook import lesson_from_filename

        jobs = []
        seen: dict[str, int] = {}
        for i, (nb, root) in enumerate(notebooks):
            lesson = args.lesson or lesson_from_filename(str(nb), known)
            sid = student_id(nb, lesson, root)
            if sid in seen:
                seen[sid] += 1
                sid = f"{sid}-{seen[sid]}"
            else:
                seen[sid] = 1
            jobs.append({"i": i, "path": str(nb), "student": sid})

        single = len(jobs) == 1

        def progress(rep: dict) -> None:
            if single and not args.quiet:
                sys.stdout.write(render_text(rep, color=color, verbose=args.verbose))
            else:
                status = "error" if rep.get("error") else ""
                score = f"{rep['score']:>6g}/{rep['max_score']:<6g}"
                line = f"{rep['student']:<24} {score} {status} {rep['notebook']}"
                print(_printable(line.rstrip()))
                if args.verbose:
                    sys.stdout.write(render_text(rep, color=color, verbose=True))
            sys.stdout.flush()

        if args.jobs > 1 and len(jobs) > 1:
            reports = _run_parallel(jobs, args.jobs, _forward_argv(args), 900.0, progress)
        else:
            reports = []
            for job in jobs:
                try:
                    rep = grade_notebook(
                        job["path"],
                        lesson=args.lesson,
                        graders_dir=graders,
                        isolation=args.isolation,
                        limits=_limits(args),
                        student=job["student"],
                    )
                except KeyboardInterrupt:
                    raise
                except Exception as exc:  # noqa: BLE001
                    rep = _fault_report(job["path"], job["student"], f"{type(exc).__name__}: {exc}")
                reports.append(rep)
                progress(rep)
        if args.json:
            atomic_write(args.json, to_json(reports[0]))
        if args.gradescope:
            atomic_write(args.gradescope, to_json(gradescope(reports[0])))
        if args.csv:
            atomic_write(args.csv, gradebook_csv(reports))
        if args.out:
            for rep in reports:
                name = _safe_filename(rep["student"])
                atomic_write(Path(args.out) / f"{name}.json", to_json(rep))
                atomic_write(Path(args.out) / f"{name}.txt", render_text(rep))
        if not single:
            total = len(reports)
            bad = sum(1 for r in reports if r.get("error"))
            print(f"graded {total} notebook(s); {bad} could not be read or graded")
        faults = [f for r in reports for f in r.get("grader_faults", [])]
        if faults:
            print(f"nnlite grade: {len(faults)} grader fault(s); see the reports", file=sys.stderr)
            return 1
        return 0
    except KeyboardInterrupt:
        print("nnlite grade: interrupted", file=sys.stderr)
        return 130
    finally:
        kill_all()
        signal.signal(signal.SIGTERM, old)


def _safe_filename(name: str) -> str:
    out = "".join(ch if ch.isalnum() or ch in "-_.@" else "_" for ch in name).strip(".")
    return out[:100] or "student"


if __name__ == "__main__":
    sys.exit(main())
