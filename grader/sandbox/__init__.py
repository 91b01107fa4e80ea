"""Untrusted code runs in the zygote's jobs (zygote.py, runner.py, jail.py), never in the app.

The app only holds a SandboxClient; see client.py. The zygote is started apart from the app
(`make run` does it, and the test suite starts its own).
"""
from __future__ import annotations

from pathlib import Path

from grader.sandbox.client import JobOutcome, SandboxClient, SandboxUnavailable  # noqa: F401

EXTENSION = "grader.sandbox"
ZYGOTE = Path(__file__).with_name("zygote.py")


def init_app(app) -> None:
    path = app.config["SANDBOX_SOCKET"] or str(Path(app.instance_path) / "sandbox.sock")
    app.extensions[EXTENSION] = SandboxClient(path, timeout_s=app.config["SANDBOX_TIMEOUT_S"])


def client_of(app) -> SandboxClient:
    return app.extensions[EXTENSION]
