"""Benchmark of the autograder (``python -m nnlite grade``): prints wall-clock figures.

Budget (LESSON_STANDARD.md, issue 4): grading one lesson notebook takes <= 2 s wall on 2 cores;
a folder of 100 submissions with ``-j 2`` takes <= 2 min.

    python benchmarks/bench_grading.py            # fixture lesson + every real lesson
    python benchmarks/bench_grading.py --quick    # fewer repetitions, 20 submissions
    python benchmarks/bench_grading.py --summary --lesson 01_autograd
        # the batch also writes --out reports/ and --summary class.html (the class page), and
        # `python -m nnlite report` is timed alone on those reports
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FIXTURE = REPO / "tests" / "grading" / "fixture"


def children_cpu() -> float:
    """CPU seconds (user + system) used so far by finished child processes and theirs."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def cli(args: list[str]) -> tuple[float, subprocess.CompletedProcess]:
    t0 = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-m", "nnlite", "grade", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        env=dict(os.environ, NO_COLOR="1"),
    )
    return time.perf_counter() - t0, out


def single(nb: Path, graders: Path, reps: int, tmp: Path) -> dict:
    times = []
    report = {}
    for _ in range(reps):
        dt, out = cli([str(nb), "--graders", str(graders), "--json", str(tmp / "r.json"), "-q"])
        if out.returncode != 0:
            raise SystemExit(f"grading {nb} failed ({out.returncode}):\n{out.stdout}\n{out.stderr}")
        times.append(dt)
        report = json.loads((tmp / "r.json").read_text())
    return {
        "median_s": statistics.median(times),
        "max_s": max(times),
        "in_grader_s": report["duration"],
        "score": f"{report['score']}/{report['max_score']}",
        "isolation": report["isolation"],
    }


def batch(
    sources: list[Path],
    lesson: str,
    graders: Path,
    n: int,
    jobs: int,
    tmp: Path,
    summary: bool = False,
) -> dict:
    folder = tmp / f"subs-{lesson}"
    folder.mkdir()
    for i in range(n):
        shutil.copy(sources[i % len(sources)], folder / f"{lesson}-student{i:03d}.ipynb")
    extra = []
    if summary:
        extra = ["--out", str(tmp / f"reports-{lesson}"), "--summary", str(tmp / f"{lesson}.html")]
    cpu0 = children_cpu()
    dt, out = cli(
        [
            str(folder),
            "--graders",
            str(graders),
            "-j",
            str(jobs),
            "--csv",
            str(tmp / f"{lesson}.csv"),
            *extra,
        ]
    )
    if out.returncode != 0:
        raise SystemExit(
            f"batch failed ({out.returncode}):\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}"
        )
    cpu = children_cpu() - cpu0  # the whole batch: workers and sandboxes included
    rows = (tmp / f"{lesson}.csv").read_text().strip().splitlines()
    report_s = None
    if summary:
        t0 = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "nnlite", "report", str(tmp / f"reports-{lesson}"),
             "--out", str(tmp / "again.html"), "--json", str(tmp / "again.json")],
            cwd=REPO, capture_output=True, text=True,
        )  # fmt: skip
        report_s = time.perf_counter() - t0
        if done.returncode != 0:
            raise SystemExit(f"nnlite report failed:\n{done.stdout}\n{done.stderr}")
    return {
        "report_s": report_s,
        "cpu_s": cpu,
        "notebooks": n,
        "jobs": jobs,
        "wall_s": dt,
        "per_notebook_s": dt / n,
        "csv_rows": len(rows) - 1,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("-n", type=int, default=None, help="submissions in the batch (default 100)")
    ap.add_argument("--lesson", action="append", help="only these lessons (repeatable)")
    ap.add_argument(
        "--summary", action="store_true", help="the batch also writes reports and the class page"
    )
    args = ap.parse_args()
    reps = 3 if args.quick else 5
    n = args.n or (20 if args.quick else 100)
    sys.path.insert(0, str(REPO))
    from nnlite.grading.runner import known_lessons

    lessons = [("99_fixture", FIXTURE / "graders", FIXTURE / "solutions", FIXTURE / "lessons")]
    for name in known_lessons(REPO / "tests" / "graders"):
        lessons.append((name, REPO / "tests" / "graders", REPO / "solutions", REPO / "lessons"))
    print(
        f"nnlite grading benchmark: {os.cpu_count()} CPUs, load average "
        f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}, "
        "budget 2 s per notebook, 120 s per 100 with -j 2"
    )
    with tempfile.TemporaryDirectory(prefix="nnlite-bench-") as t:
        tmp = Path(t)
        for name, graders, sols, stubs in lessons:
            if args.lesson and name not in args.lesson:
                continue
            sol = sols / f"{name}.ipynb"
            if not sol.exists():
                continue
            r = single(sol, graders, reps, tmp)
            print(
                f"{name:<14} one notebook (CLI, solution): median {r['median_s']:.2f} s, "
                f"max {r['max_s']:.2f} s (in-grader {r['in_grader_s']:.2f} s), "
                f"score {r['score']}, isolation {r['isolation']}"
            )
            sources = [sol] + (
                [stubs / f"{name}.ipynb"] if (stubs / f"{name}.ipynb").exists() else []
            )
            b = batch(sources, name, graders, n, 2, tmp, summary=args.summary)
            ok = "OK" if b["wall_s"] * 100 / n <= 120 else "OVER BUDGET"
            print(
                f"{name:<14} {b['notebooks']} submissions, -j {b['jobs']}: "
                f"{b['wall_s']:.1f} s wall ({b['per_notebook_s']:.2f} s/notebook; "
                f"{b['wall_s'] * 100 / n:.0f} s per 100) {ok}, "
                f"{b['csv_rows']} CSV rows"
                + (" (with --out and --summary)" if args.summary else "")
            )
            print(
                f"{name:<14} the batch used {b['cpu_s']:.1f} CPU s: "
                f"{b['cpu_s'] / 2 * 100 / n:.0f} s per 100 on 2 idle cores; load average now "
                f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}"
            )
            if b["report_s"] is not None:
                print(
                    f"{name:<14} python -m nnlite report on the {n} reports: {b['report_s']:.2f} s"
                )


if __name__ == "__main__":
    main()
