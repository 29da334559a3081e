"""``python -m nnlite grade``: grade one notebook or a folder of submissions.

Exit status: 0 when every notebook got a report (whatever its score), 1 when the grader itself
failed somewhere (a broken grader file, a sandbox that could not start, a crashed worker), 2 for
bad command-line usage.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import select
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from nnlite.grading.notebook import file_kind

USAGE_EXAMPLES = """examples:
  python -m nnlite grade lessons/01_autograd.ipynb
  python -m nnlite grade NB.ipynb --json report.json --gradescope results.json
  python -m nnlite grade submissions/ -j 2 --csv grades.csv --out feedback/
  python -m nnlite grade submissions/ -j 2 --out reports/ --summary class.html
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
    p.add_argument(
        "--out",
        metavar="DIR",
        help="write per notebook STUDENT.json and STUDENT.txt (the full report) and "
        "STUDENT.md and STUDENT.html (feedback to return to the student)",
    )
    p.add_argument(
        "--summary",
        metavar="HTML",
        help="write one page of class insights (and the same counts as JSON beside it, "
        "HTML's name with .json); no student names (python -m nnlite report --names adds them)",
    )
    p.add_argument(
        "-j", "--jobs", type=int, default=1, metavar="N", help="grade N notebooks in parallel"
    )
    p.add_argument(
        "--exercise",
        metavar="ID",
        action="append",
        help="grade only this exercise (its grade_id; repeat for several)",
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


@dataclasses.dataclass
class Found:
    """What a command line names: notebooks to grade and what was skipped, with reasons."""

    notebooks: list[tuple[Path, Path | None]]  # (notebook, batch folder or None)
    skipped: list[tuple[Path, Path | None, str]]  # (path, batch folder, reason)
    hidden: list[tuple[Path, int]]  # hidden folders (.name) holding notebooks, and how many


def _is_notebook_name(name: str) -> bool:
    return name.lower().endswith(".ipynb")


def _count_notebooks(folder: str, cap: int = 10_000) -> int:
    """Notebook files below ``folder`` (links not followed; stops counting at ``cap``)."""
    n = 0
    for _, _, files in os.walk(folder):
        n += sum(1 for f in files if _is_notebook_name(f))
        if n >= cap:
            break
    return n


def find_notebooks(paths: list[str]) -> Found:
    """Notebooks named on the command line; folders are searched recursively.

    Only regular files are graded: a symbolic link, FIFO, socket or device named ``*.ipynb`` is
    never opened and is listed in ``skipped``; symbolic links to folders are not followed.
    Hidden folders (``.name``, e.g. ``.ipynb_checkpoints``) and hidden files are not graded and
    are listed too, so that nothing is left out silently. A notebook named explicitly may be a
    link to a regular file (the instructor chose it).
    """
    found = Found([], [], [])
    for raw in paths:
        p = Path(raw)
        try:
            st = p.stat()
        except OSError:
            raise FileNotFoundError(raw) from None
        if stat.S_ISDIR(st.st_mode):
            _walk_batch(p, found)
        elif stat.S_ISREG(st.st_mode):
            found.notebooks.append((p, None))
        else:
            found.skipped.append((p, None, f"{file_kind(st.st_mode)}, not a regular file"))
    return found


def _walk_batch(root: Path, found: Found) -> None:
    batch = []
    for dirpath, dirnames, filenames in os.walk(root):
        keep = []
        for d in sorted(dirnames):
            full = Path(dirpath) / d
            if full.is_symlink():
                if _is_notebook_name(d) or _count_notebooks(str(full), 1):
                    found.skipped.append((full, root, "a symbolic link to a folder: not followed"))
            elif d.startswith(".") or d == "__pycache__":
                n = _count_notebooks(str(full))
                if n:
                    found.hidden.append((full, n))
            else:
                keep.append(d)
        dirnames[:] = keep
        for f in sorted(filenames):
            if not _is_notebook_name(f):
                continue
            full = Path(dirpath) / f
            try:
                mode = full.lstat().st_mode
            except OSError:
                continue
            if not stat.S_ISREG(mode):
                reason = f"{file_kind(mode)}, not a regular file: only regular files are graded"
                found.skipped.append((full, root, reason))
            elif f.startswith("."):
                found.skipped.append((full, root, "a hidden file (its name starts with '.')"))
            else:
                batch.append(full)
    found.notebooks.extend((f, root) for f in sorted(batch))


def batch_lesson(root: Path, notebooks: list[Path], known: list[str]) -> tuple[str | None, str]:
    """The lesson of a folder of submissions, and how it was found (for the terminal).

    From the folder's own name (``01_autograd/``), else the lesson most of the notebooks' file
    names give, else the lesson most of their metadata give. Every notebook of the folder is
    then graded as that lesson, whatever its own name or metadata say (a lesson-02 notebook
    saved as ``01_autograd-x.ipynb`` is graded as lesson 01, and its report says so).
    """
    from collections import Counter

    from nnlite.grading.notebook import lesson_from_filename, read_notebook

    by_folder = lesson_from_filename(root.resolve().name, known)
    if by_folder:
        return by_folder, "from the folder's name"
    for what, lessons in (
        ("file names", lambda: [lesson_from_filename(str(p), known) for p in notebooks]),
        ("metadata", lambda: [read_notebook(p).lesson for p in notebooks]),
    ):
        counts = Counter(x for x in lessons() if x in known).most_common(2)
        if counts and (len(counts) == 1 or counts[0][1] > counts[1][1]):
            return counts[0][0], f"from {counts[0][1]} of {len(notebooks)} notebooks' {what}"
    return None, "cannot tell from the folder's name, file names or metadata"


def report_names(labels: list[str]) -> list[str]:
    """Distinct file names (no extension) for the reports of these notebooks.

    ``labels`` are the notebooks' paths relative to their batch folder (``alice/01.ipynb``).
    Each is escaped reversibly (``%XX`` for every byte outside ``[A-Za-z0-9_-]``, and for a
    ``.`` in first place), so ``alice./01_autograd`` and ``01_autograd-alice`` or ``bob_x`` and
    ``bob/x`` stay apart; a name too long keeps a prefix and a hash of the whole label; a name
    equal to an earlier one but for letter case (or after shortening) gets ``~2``, ``~3``...
    """
    out: list[str] = []
    used: set[str] = set()
    for label in labels:
        if _is_notebook_name(label):
            label = label[: -len(".ipynb")]
        raw = label.encode("utf-8", "surrogateescape")
        name = "".join(chr(b) if b in _SAFE_BYTES else f"%{b:02X}" for b in raw)
        if name.startswith("."):
            name = "%2E" + name[1:]
        if len(name) > 120:
            name = name[:100] + "~" + hashlib.sha256(raw).hexdigest()[:16]
        base, k = name, 1
        while name.casefold() in used:
            k += 1
            name = f"{base}~{k}"
        used.add(name.casefold())
        out.append(name)
    return out


_SAFE_BYTES = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")


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
                lesson=job.get("lesson") or args.lesson,
                graders_dir=args.graders,
                isolation=args.isolation,
                limits=_limits(args),
                student=job["student"],
                only=args.exercise,
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
    for gid in args.exercise or []:
        out += ["--exercise", gid]
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
    from nnlite.grading.feedback import feedback_html, feedback_markdown
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
        found = find_notebooks(args.paths)
    except FileNotFoundError as exc:
        print(f"nnlite grade: no such file or folder: {exc}", file=sys.stderr)
        return 2
    for path, n in found.hidden:
        print(_printable(f"not graded: {n} notebook(s) in the hidden folder {path}"))
    for path, _, reason in found.skipped:
        print(_printable(f"not graded: {path}: {reason}"))
    if not found.notebooks:
        print("nnlite grade: no notebooks (.ipynb) to grade", file=sys.stderr)
        return 2
    if len(found.notebooks) > 1 and (args.json or args.gradescope):
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
    from nnlite.grading.sandbox import SandboxError, choose_isolation

    try:
        if choose_isolation(args.isolation) == "process":
            print(
                "nnlite grade: isolation 'process' (no root, no Landlock): student code can read "
                "what this user can read; see nnlite/grading/__init__.py",
                file=sys.stderr,
            )
    except SandboxError:
        pass  # each report says why the sandbox could not start
    # A folder is a batch for one lesson: every notebook in it is graded as that lesson.
    lessons: dict[Path, str] = {}
    for root in dict.fromkeys(r for _, r in found.notebooks if r is not None):
        if args.lesson:
            lessons[root] = args.lesson
            continue
        members = [nb for nb, r in found.notebooks if r == root]
        lesson, how = batch_lesson(root, members, known)
        if lesson is None:
            print(
                _printable(f"nnlite grade: which lesson does {root} hold? {how}; pass --lesson"),
                file=sys.stderr,
            )
            return 2
        lessons[root] = lesson
        print(_printable(f"grading {root} as lesson {lesson} ({how}; --lesson chooses)"))
    color = args.color == "always" or (
        args.color == "auto" and sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    )

    def on_term(signum, frame):  # noqa: ARG001
        raise KeyboardInterrupt

    old = signal.signal(signal.SIGTERM, on_term)
    try:
        from nnlite.grading.notebook import lesson_from_filename

        jobs = []
        used: set[str] = set()
        labels: list[str] = []  # per report: the notebook's path within its batch
        entries = [(nb, root, None) for nb, root in found.notebooks]
        entries += [(path, root, why) for path, root, why in found.skipped if root is not None]
        skipped_reports = []
        for i, (nb, root, why) in enumerate(entries):
            lesson = lessons.get(root) if root is not None else args.lesson
            sid = _unique(
                student_id(nb, lesson or lesson_from_filename(str(nb), known), root), used
            )
            labels.append(nb.relative_to(root).as_posix() if root is not None else nb.name)
            if why is None:
                jobs.append({"i": i, "path": str(nb), "student": sid, "lesson": lesson})
            else:
                rep = _fault_report(str(nb), sid, "")
                rep["grader_faults"], rep["lesson"] = [], lesson
                rep["error"] = f"not graded: {why}"
                skipped_reports.append(rep)

        single = len(jobs) == 1 and not skipped_reports

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
                        lesson=job["lesson"],
                        graders_dir=graders,
                        isolation=args.isolation,
                        limits=_limits(args),
                        student=job["student"],
                        only=args.exercise,
                    )
                except KeyboardInterrupt:
                    raise
                except Exception as exc:  # noqa: BLE001
                    rep = _fault_report(job["path"], job["student"], f"{type(exc).__name__}: {exc}")
                reports.append(rep)
                progress(rep)
        reports += skipped_reports
        if args.json:
            atomic_write(args.json, to_json(reports[0]))
        if args.gradescope:
            atomic_write(args.gradescope, to_json(gradescope(reports[0])))
        if args.csv:
            atomic_write(args.csv, gradebook_csv(reports))
        if args.out:
            for rep, name in zip(reports, report_names(labels), strict=True):
                atomic_write(Path(args.out) / f"{name}.json", to_json(rep))
                atomic_write(Path(args.out) / f"{name}.txt", render_text(rep))
                atomic_write(Path(args.out) / f"{name}.md", feedback_markdown(rep))
                atomic_write(Path(args.out) / f"{name}.html", feedback_html(rep))
        if args.summary:
            from nnlite.grading.insights import write_class_page

            write_class_page(reports, args.summary)
        if not single:
            total = len(jobs)
            bad = sum(1 for r in reports[:total] if r.get("error"))
            line = f"graded {total} notebook(s); {bad} could not be read or graded"
            skipped = len(skipped_reports) + sum(n for _, n in found.hidden)
            if skipped:
                line += f"; {skipped} not graded (listed above)"
            print(line)
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


def _unique(sid: str, used: set[str]) -> str:
    """``sid``, or ``sid-2``, ``sid-3``... : the first not in ``used`` (then added to it)."""
    base, k = sid, 1
    while sid in used:
        k += 1
        sid = f"{base}-{k}"
    used.add(sid)
    return sid


if __name__ == "__main__":
    sys.exit(main())
