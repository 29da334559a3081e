"""The Gradescope side of an autograder zip (``course gradescope``): grade one submission.

``run_autograder`` calls ``python -m nnlite.grading.gradescope --root /autograder --config
/autograder/source/config.json``. It finds the student's notebook in ``ROOT/submission``
(recursively; the one named like the lesson when there are several), grades it with the
course's graders, and writes ``ROOT/results/results.json``. It writes a valid results.json in
every case, with a message the student can act on when there is nothing to grade, and exits 0
(Gradescope reads the file, not the status).
"""

from __future__ import annotations

import argparse
import json
import sys
import traceback
from pathlib import Path
from typing import Any

from nnlite.grading.report import atomic_write, gradescope


def find_submission(folder: Path, lesson: str) -> tuple[Path | None, str]:
    """The notebook to grade in ``folder`` and, when there is none, why (a sentence)."""
    notebooks = sorted(
        p
        for p in folder.rglob("*.ipynb")
        if p.is_file() and not p.is_symlink()
        and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )  # fmt: skip
    if len(notebooks) == 1:
        return notebooks[0], ""
    named = [p for p in notebooks if p.name == f"{lesson}.ipynb"]
    if len(named) == 1:
        return named[0], ""
    if not notebooks:
        return None, f"No notebook (.ipynb) was found in your submission: upload {lesson}.ipynb."
    listed = ", ".join(str(p.relative_to(folder)) for p in notebooks[:10])
    return None, (
        f"Your submission has {len(notebooks)} notebooks ({listed}) and none is named "
        f"{lesson}.ipynb: submit only {lesson}.ipynb."
    )


def _empty_results(message: str) -> dict[str, Any]:
    return {"score": 0, "output": message, "output_format": "text", "visibility": "visible",
            "stdout_visibility": "hidden", "tests": []}  # fmt: skip


def run(root: Path, config: dict[str, Any]) -> dict[str, Any]:
    """Grade the submission under ``root``; returns the results.json content."""
    from nnlite.grading.runner import grade_notebook

    lesson = config["lesson"]
    notebook, why = find_submission(root / "submission", lesson)
    if notebook is None:
        return _empty_results(why)
    report = grade_notebook(notebook, lesson=lesson, student=notebook.stem, root=root)
    results = gradescope(report, config.get("hidden_visibility", "after_published"))
    if report.get("grader_faults"):
        # Faults are the course's, not the student's: say so, and keep the details for staff.
        results["output"] += (
            "\nSome tests could not run because of a problem in the autograder, not in your "
            "notebook; your instructor has been told."
        )
        results["extra_data"] = {"grader_faults": report["grader_faults"][:20]}
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nnlite.grading.gradescope")
    parser.add_argument("--root", type=Path, default=Path("/autograder"))
    parser.add_argument("--config", type=Path, required=True)
    args = parser.parse_args(argv)
    out = args.root / "results" / "results.json"
    try:
        config = json.loads(args.config.read_text(encoding="utf-8"))
        results = run(args.root, config)
    except Exception:  # the autograder's own failure: still a valid results.json
        traceback.print_exc()
        results = _empty_results(
            "The autograder failed before it could grade your notebook (a problem in the "
            "autograder, not in your work). Please tell your instructor."
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(out, json.dumps(results, indent=1, allow_nan=False) + "\n")
    print(f"results: {out} (score {results.get('score')})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
