"""Liveness and readiness: storage, catalog and sandbox."""
from flask import current_app
from sqlalchemy.exc import SQLAlchemyError

from grader import sandbox, storage
from grader.api.base import ApiBlueprint
from grader.catalog import get_catalog
from grader.schemas import HealthSchema

blp = ApiBlueprint("health", __name__, description="Liveness and readiness")


@blp.route("/health")
@blp.response(200, HealthSchema)
@blp.alt_response(503, schema=HealthSchema, description="A component is not ready")
def health():
    """Report each component: 503 when storage does not answer; "degraded" when only the sandbox
    (code submissions) is down, since numeric grading still works."""
    checks = {"catalog": {"status": "ok", "exercises": len(get_catalog(current_app))},
              "sandbox": sandbox_check(sandbox.client_of(current_app))}
    queue = current_app.extensions.get("grader.queue")
    if queue is not None:
        checks["queue"] = queue_check(queue)
    try:
        storage.ping(current_app)
        checks["storage"] = {"status": "ok", "backend": storage.engine_of(current_app).dialect.name}
    except SQLAlchemyError as exc:
        current_app.logger.warning("storage not ready: %s", exc)
        checks["storage"] = {"status": "failing", "detail": type(exc).__name__}
        return HealthSchema().dump({"status": "failing", "checks": checks}), 503
    status = "ok" if all(c["status"] == "ok" for c in (checks["sandbox"], checks.get("queue", {"status": "ok"}))) \
        else "degraded"
    return {"status": status, "checks": checks}


def queue_check(queue) -> dict:
    try:
        depth = queue.depth()
    except Exception as exc:  # any broker failure is a failing check, reported, not raised
        return {"status": "failing", "detail": type(exc).__name__}
    return {"status": "ok" if depth < queue.maximum else "full", "depth": depth, "max": queue.maximum}


def sandbox_check(client) -> dict:
    """ok: jobs run with every layer (or the operator's named weaker mode); failing: refused or down."""
    try:
        report = client.status()
    except sandbox.SandboxUnavailable as exc:
        return {"status": "failing", "detail": str(exc)}
    return {"status": "ok" if report["ready"] else "failing", "mode": report["mode"], "layers": report["layers"],
            "missing": report["missing"], "torch": report.get("torch")}
