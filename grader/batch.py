"""grade-batch: grade a folder of submissions (one .py or .ipynb per learner) into a course."""
from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from grader import courses, service, storage
from grader.courses import gradebook
from grader.auth import Principal
from grader.problems import GraderError


@click.command("grade-batch")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--course", "course_id", required=True)
@click.option("--exercise", "exercise_id", required=True)
@click.option("--assignment", "assignment_id", type=int, help="default: the exercise's only assignment in the course")
@click.option("--out", type=click.Path(path_type=Path), help="gradebook CSV (default: FOLDER/gradebook.csv)")
@with_appcontext
def grade_batch_command(folder, course_id, exercise_id, assignment_id, out):
    """Grade every FOLDER/<learner>.py and .ipynb as that learner's code submission, store them in the
    course, and write the course gradebook as CSV. A file that cannot be graded is reported by name
    and does not stop the batch."""
    db = storage.session(current_app)
    ctx = current_app.extensions["grader.context"]
    # the batch acts as the course's instructor: learners must be enrolled, the assignment's rules hold
    principal = Principal(key_id=None, role="instructor", learner=None, course_id=course_id)
    files = sorted(p for p in folder.iterdir() if p.suffix in (".py", ".ipynb"))
    failures = []
    with click.progressbar(files, label=f"grading {len(files)} files", item_show_func=lambda p: p and p.name) as bar:
        for path in bar:
            try:
                body = _body(path, exercise_id, assignment_id)
                courses.enroll(db, course_id, [path.stem])
                service.submit(db, ctx, principal, body)
            except (GraderError, OSError, UnicodeDecodeError) as exc:
                db.rollback()
                failures.append((path.name, getattr(exc, "detail", str(exc))))
    out = out or folder / "gradebook.csv"
    with open(out, "w") as csv_file:
        csv_file.writelines(gradebook.csv_lines(db, course_id))
    click.echo(f"graded {len(files) - len(failures)} of {len(files)} files; gradebook written to {out}")
    for name, reason in failures:
        click.echo(f"  not graded: {name}: {reason}")


def _body(path: Path, exercise_id: str, assignment_id: int | None) -> dict:
    body = {"exercise_id": exercise_id, "kind": "code", "learner": path.stem}
    if assignment_id is not None:
        body["assignment_id"] = assignment_id
    text = path.read_text()
    body["notebook" if path.suffix == ".ipynb" else "source"] = text
    return body
