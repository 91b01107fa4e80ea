"""Command-line tools: init-db (migrations) and create-key."""
from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from grader import auth, storage
from grader.catalog import CatalogError, load_catalog, selftest
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
def create_key_command(role, learner, label):
    """Create an API key and print it on the last line (it is shown only once)."""
    storage.upgrade(current_app)
    try:
        issued = auth.create_key(storage.session(current_app), role=role, learner=learner, label=label)
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


def init_app(app) -> None:
    app.cli.add_command(check_exercises_command)
    app.cli.add_command(init_db_command)
    app.cli.add_command(create_key_command)
