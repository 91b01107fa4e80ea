"""Command-line tools: init-db (migrations), create-key, courses, deliveries; the LTI ones are in lti/cli.py."""
from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from grader import auth, batch, courses, delivery, gradescope, storage
from grader.catalog import CatalogError, load_catalog, selftest
from grader.lti import cli as lti_cli
from grader.problems import GraderError


@click.command("init-db")
@with_appcontext
def init_db_command():
    """Create or upgrade the database schema (alembic upgrade head)."""
    storage.upgrade(current_app)
    click.echo(f"database ready: {storage.engine_of(current_app).url.render_as_string(hide_password=True)}")


@click.command("create-key")
@with_appcontext
@click.option("--role", type=click.Choice(auth.ROLES), required=True)
@click.option("--learner", help="the learner a learner key stands for")
@click.option("--label", help="a note to recognise the key by")
@click.option("--course", "course_id", help="the course an instructor (or learner) key is bound to")
def create_key_command(role, learner, label, course_id):
    """Create an API key and print it on the last line (it is shown only once)."""
    storage.upgrade(current_app)
    try:
        issued = auth.create_key(storage.session(current_app), role=role, learner=learner, label=label,
                                 course_id=course_id)
    except GraderError as exc:
        raise click.UsageError(exc.detail) from exc
    click.echo(f"created {role} key {issued.id}; store it now, it is not shown again:")
    click.echo(issued.key)


@click.command("check-exercises")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--seeds", default=12, show_default=True, help="generated instances to check per exercise")
@with_appcontext
def check_exercises_command(paths, seeds):
    """Run the catalog self-test on exercise folders (default: the configured EXERCISE_DIRS).

    A PATH may be one exercise folder or a folder of exercise folders.
    """
    roots = [p.parent if (p / "info.json").is_file() else p for p in paths] or \
        [Path(p) for p in current_app.config["EXERCISE_DIRS"]]
    try:
        catalog = load_catalog(roots, Path(current_app.config["MISCONCEPTION_SLUGS"]), cache_size=0)
    except CatalogError as exc:
        raise click.ClickException(str(exc)) from exc
    wanted = {p.name for p in paths if (p / "info.json").is_file()}
    failed = 0
    for exercise in catalog.values():
        if wanted and exercise.id not in wanted:
            continue
        failures = selftest.self_test(exercise, seeds=range(seeds))
        failed += bool(failures)
        click.echo(f"{exercise.id}: " + ("ok" if not failures else f"{len(failures)} failures"))
        for failure in failures:
            click.echo(f"  {failure.check}: {failure.detail}")
    if failed:
        raise click.ClickException(f"{failed} exercise(s) failed the self-test")


@click.command("create-course")
@click.argument("course_id")
@click.option("--title", required=True)
@with_appcontext
def create_course_command(course_id, title):
    """Create a course."""
    try:
        courses.create_course(storage.session(current_app), id=course_id, title=title)
    except GraderError as exc:
        raise click.UsageError(exc.detail) from exc
    click.echo(f"created course {course_id}")


@click.command("add-learners")
@click.argument("course_id")
@click.argument("learners_file", type=click.File("r"))
@click.option("--keys-csv", type=click.File("w"), help="write learner,key for each learner (keys shown once)")
@with_appcontext
def add_learners_command(course_id, learners_file, keys_csv):
    """Enroll the learners listed one per line (or the first CSV column) in LEARNERS_FILE."""
    names = [line.split(",")[0].strip() for line in learners_file if line.strip()]
    names = [n for n in names if n.lower() not in ("learner", "id")]
    rows = courses.enroll(storage.session(current_app), course_id, names, with_keys=keys_csv is not None)
    if keys_csv is not None:
        keys_csv.write("learner,key\n" + "".join(f"{r['learner']},{r['key']}\n" for r in rows))
    click.echo(f"{sum(r['new'] for r in rows)} new learners in {course_id} ({len(rows)} listed)")


@click.command("webhook-secret")
@with_appcontext
def webhook_secret_command():
    """Print the whsec_ secret that signs webhooks (give it to the receivers)."""
    import base64
    click.echo("whsec_" + base64.b64encode(delivery.webhook_secret(current_app)).decode())


@click.command("deliver")
@with_appcontext
def deliver_command():
    """Send every due webhook and passback now (the service also does it in the background)."""
    click.echo(f"{delivery.deliver_due(current_app, limit=10_000)} deliveries attempted")


@click.command("regrade")
@click.argument("exercise_id")
@click.option("--course", "course_id", help="only this course's submissions")
@with_appcontext
def regrade_command(exercise_id, course_id):
    """Regrade the submissions made against an older version of EXERCISE_ID, in the foreground,
    committing batch by batch (resumes an unfinished regrade of the same exercise and course)."""
    from grader.courses import regrade
    from grader.auth import Principal
    db = storage.session(current_app)
    ctx = current_app.extensions["grader.context"]
    try:
        job = regrade.start(db, ctx, Principal(key_id=None, role="admin", learner=None), exercise_id, course_id)
    except GraderError as exc:
        raise click.ClickException(exc.detail) from exc
    job = regrade.run(db, ctx, job.id)
    click.echo(f"regrade {job.id}: {job.status}, {job.done} of {job.total} regraded, {job.changed} changed"
               + (f" ({job.error})" if job.error else ""))
    if job.status != "done":
        raise SystemExit(1)


@click.command("sweep-pending")
@click.option("--older-than", "older_than_s", type=float, default=None,
              help="seconds a submission may stay pending (default GRADER_QUEUE_SWEEP_AFTER_S)")
@with_appcontext
def sweep_pending_command(older_than_s):
    """Enqueue again the code submissions left pending (queued grading only)."""
    from grader import tasks
    if tasks.EXTENSION not in current_app.extensions:
        raise click.ClickException("No queue is configured (GRADER_QUEUE_URL): nothing is ever pending.")
    click.echo(f"{tasks.sweep_pending(current_app, older_than_s)} pending submissions enqueued again")


@click.command("rebuild-summaries")
@with_appcontext
def rebuild_summaries_command():
    """Recompute the statistics' summaries from the stored submissions (after rows were loaded or
    edited in the database directly, bypassing the service)."""
    from grader import storage
    from grader.courses import summaries
    with storage.engine_of(current_app).begin() as connection:
        summaries.rebuild(connection)
    click.echo("summaries rebuilt")


def init_app(app) -> None:
    for command in lti_cli.COMMANDS:
        app.cli.add_command(command)
    app.cli.add_command(webhook_secret_command)
    app.cli.add_command(gradescope.gradescope_command)
    app.cli.add_command(deliver_command)
    app.cli.add_command(sweep_pending_command)
    app.cli.add_command(rebuild_summaries_command)
    app.cli.add_command(regrade_command)
    app.cli.add_command(create_course_command)
    app.cli.add_command(add_learners_command)
    app.cli.add_command(batch.grade_batch_command)
    app.cli.add_command(check_exercises_command)
    app.cli.add_command(init_db_command)
    app.cli.add_command(create_key_command)
