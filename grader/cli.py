"""Command-line tools: init-db (migrations) and create-key."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from grader import auth, storage
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


def init_app(app) -> None:
    app.cli.add_command(init_db_command)
    app.cli.add_command(create_key_command)
