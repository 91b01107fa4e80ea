"""BPTT Grader: a grading service for the Backpropagation Through Time exercises of d2l."""
from __future__ import annotations

from flask import Flask

from grader.config import DefaultConfig


def create_app(test_config=None):
    """Build the app: defaults, then GRADER_* environment variables, then test_config."""
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_object(DefaultConfig)
    app.config.from_prefixed_env("GRADER")
    if test_config is not None:
        app.config.update(test_config)

    from grader.api import fastlane
    from grader import (api, catalog, cli, delivery, deploy, errors, guards, keycache, logs, lti, metrics, sandbox,
                        service, storage, tasks, tokens, web)

    if not app.config["SECRET_KEY"]:
        # development secret: made once in the instance folder, never committed
        app.config["SECRET_KEY"] = tokens.load_or_create_secret(app.instance_path)
    fastlane.init_app(app)  # inside ProxyFix: it reads the path and script name ProxyFix sets
    deploy.init_app(app)
    logs.init_app(app)
    errors.init_app(app)
    guards.init_app(app)
    storage.init_app(app)
    keycache.init_app(app)
    catalog.init_app(app)
    sandbox.init_app(app)
    tasks.init_app(app)
    metrics.init_app(app)
    app.extensions["grader.context"] = service.Context(
        catalog=catalog.get_catalog(app), secret=app.config["SECRET_KEY"],
        token_max_age=app.config["TOKEN_MAX_AGE_S"], sandbox=sandbox.client_of(app),
        sandbox_limits=app.config["SANDBOX_LIMITS"], code_instances=app.config["CODE_INSTANCES"],
        rate_limits=dict(app.config["RATE_LIMITS"]), queue=app.extensions.get(tasks.EXTENSION),
        request_id=logs.current_request_id, allow_private_callbacks=app.config["WEBHOOK_ALLOW_PRIVATE"],
        kick_deliveries=lambda: delivery.kick(app), pending_stale_s=float(app.config["QUEUE_SWEEP_AFTER_S"]))
    api.init_app(app)
    web.init_app(app)
    lti.init_app(app)
    cli.init_app(app)
    return app
