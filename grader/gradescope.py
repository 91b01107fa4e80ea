"""Gradescope autograder mode: grade /autograder/submission with the service's grading path and write
/autograder/results/results.json (one test per answer part, scores, visibility, output)."""
from __future__ import annotations

import json
import time
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from grader import codegrading, notebooks, service
from grader.problems import GraderError


def find_source(folder: Path, entry_point: str) -> tuple[str, str]:
    """(source, note) from the one .py or .ipynb in the folder (a file defining the entry point wins)."""
    files = sorted(p for p in folder.rglob("*") if p.suffix in (".py", ".ipynb") and p.is_file())
    if not files:
        raise click.ClickException(f"no .py or .ipynb file in {folder}")
    def text_of(path):
        return notebooks.to_source(path.read_text())[0] if path.suffix == ".ipynb" else path.read_text()
    chosen = next((p for p in files if f"def {entry_point}(" in text_of(p)), files[0])
    note = f"graded {chosen.relative_to(folder)}" + (f" (one of {len(files)} files)" if len(files) > 1 else "")
    return text_of(chosen), note


def results(report, scale: float, visibility: str, note: str, seconds: float) -> dict:
    """Gradescope's results.json from a report: a test per part, or one failed test when ungradable."""
    factor = scale / report.max_score if report.max_score else 0.0
    lines = [f"Verdict: {report.verdict.value}. {report.message}", note]
    lines += [f"Mistake: {m.title} ({m.equation}). {m.message}" for m in report.misconceptions]
    tests = []
    gradable = report.verdict.value not in ("invalid", "error", "timeout")
    for number, part in enumerate(report.parts if gradable else (), 1):
        tests.append({"name": part.name, "number": str(number), "score": round(part.score * factor, 6),
                      "max_score": round(part.max_score * factor, 6),
                      "status": "passed" if part.verdict.value == "correct" else "failed",
                      "output": part.message, "visibility": visibility})
    if not tests:
        detail = " ".join(p.message for p in report.parts) or report.message
        tests.append({"name": "submission", "number": "1", "score": 0.0, "max_score": scale, "status": "failed",
                      "output": detail, "visibility": visibility})
    return {"score": round(report.score * factor, 6), "execution_time": round(seconds, 3),
            "output": "\n".join(line for line in lines if line), "output_format": "text",
            "visibility": visibility, "stdout_visibility": "hidden", "tests": tests}


@click.command("gradescope")
@click.option("--exercise", "exercise_id", required=True)
@click.option("--submission", type=click.Path(exists=True, file_okay=False, path_type=Path),
              default="/autograder/submission", show_default=True)
@click.option("--results", "results_path", type=click.Path(path_type=Path),
              default="/autograder/results/results.json", show_default=True)
@click.option("--scale", type=float, default=10.0, show_default=True, help="points for a full score")
@click.option("--visibility", type=click.Choice(["visible", "hidden", "after_due_date", "after_published"]),
              default="visible", show_default=True)
@with_appcontext
def gradescope_command(exercise_id, submission, results_path, scale, visibility):
    """Grade a Gradescope submission folder and write its results.json."""
    ctx = current_app.extensions["grader.context"]
    exercise = service.find_exercise(ctx, exercise_id)
    source, note = find_source(submission, exercise.info["entry_point"])
    started = time.monotonic()
    try:
        report = codegrading.grade_code_submission(ctx, exercise, source, codegrading.draw_seeds(ctx))
    except GraderError as exc:  # the sandbox is down: say so in results.json rather than crash the harness
        raise click.ClickException(f"{exc.title}: {exc.detail}") from exc
    payload = results(report, scale, visibility, note, time.monotonic() - started)
    results_path.parent.mkdir(parents=True, exist_ok=True)
    results_path.write_text(json.dumps(payload, indent=2))
    click.echo(f"{report.verdict.value}: {payload['score']:g} of {scale:g} points; wrote {results_path}")
