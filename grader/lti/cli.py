"""LTI commands: register a platform (or update it), add or remove deployments, sync a roster."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from grader import storage
from grader.lti import registrations, roster
from grader.problems import GraderError


@click.command("lti-register")
@click.option("--issuer", required=True)
@click.option("--client-id", required=True)
@click.option("--login-url", required=True, help="the platform's OIDC authorization endpoint")
@click.option("--token-url", required=True)
@click.option("--jwks-url", required=True)
@click.option("--audience", help="the token endpoint's audience, when it is not the token URL")
@click.option("--deployment", "deployments", multiple=True, required=True)
@with_appcontext
def lti_register_command(issuer, client_id, login_url, token_url, jwks_url, audience, deployments):
    """Register an LTI 1.3 platform (what its administrator gave you); run again to update its
    endpoints or add deployments."""
    body = {"issuer": issuer, "client_id": client_id, "auth_login_url": login_url, "auth_token_url": token_url,
            "key_set_url": jwks_url, "audience": audience, "deployment_ids": list(deployments)}
    try:
        row, created = registrations.create(storage.session(current_app), body, update=True)
    except GraderError as exc:
        raise click.UsageError(exc.detail) from exc
    click.echo(f"{'registered' if created else 'updated'} {issuer} (client {client_id}, deployments "
               f"{', '.join(row.deployment_ids)})")


@click.command("lti-deployments")
@click.option("--issuer", required=True)
@click.option("--client-id", required=True)
@click.option("--add", "added", multiple=True, help="a deployment id to accept launches from")
@click.option("--remove", "removed", multiple=True, help="a deployment id to refuse from now on")
@with_appcontext
def lti_deployments_command(issuer, client_id, added, removed):
    """List, add or remove the deployment ids of a registration."""
    db = storage.session(current_app)
    row = registrations.find(db, issuer, client_id)
    if row is None:
        raise click.UsageError(f"{issuer} with client {client_id} is not registered (lti-register).")
    try:
        for deployment in added:
            registrations.add_deployment(db, row, deployment)
        for deployment in removed:
            registrations.remove_deployment(db, row, deployment)
    except GraderError as exc:
        raise click.UsageError(exc.detail) from exc
    click.echo(f"{issuer} (client {client_id}) deployments: {', '.join(row.deployment_ids) or 'none'}")


@click.command("lti-sync-roster")
@click.argument("course_id")
@with_appcontext
def lti_sync_roster_command(course_id):
    """Enrol the learners of the LMS course behind COURSE_ID (Names and Role Provisioning Services)."""
    try:
        result = roster.sync(current_app, course_id)
    except GraderError as exc:
        raise click.ClickException(exc.detail) from exc
    click.echo(f"{result['learners']} learners in the LMS roster ({result['members']} members), "
               f"{result['new']} newly enrolled in {course_id}")


COMMANDS = (lti_register_command, lti_deployments_command, lti_sync_roster_command)
