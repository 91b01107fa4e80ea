"""Platform registrations (issuer + client id) and their deployments, for the admin API and the CLI.
A registration holds several deployment ids: each course or account that installs the app is one."""
from __future__ import annotations

from sqlalchemy import select

from grader.problems import Conflict, InvalidRequest, NotFound
from grader.storage.models import LtiRegistration

ENDPOINTS = ("auth_login_url", "auth_token_url", "key_set_url", "audience")
REQUIRED = ("issuer", "client_id", "auth_login_url", "auth_token_url", "key_set_url", "deployment_ids")


def as_dict(r: LtiRegistration) -> dict:
    return {"id": r.id, "issuer": r.issuer, "client_id": r.client_id, "auth_login_url": r.auth_login_url,
            "auth_token_url": r.auth_token_url, "key_set_url": r.key_set_url, "audience": r.audience,
            "deployment_ids": list(r.deployment_ids)}


def find(db, issuer: str, client_id: str) -> LtiRegistration | None:
    return db.scalar(select(LtiRegistration).where(LtiRegistration.issuer == issuer,
                                                   LtiRegistration.client_id == client_id))


def get(db, registration_id: int) -> LtiRegistration:
    row = db.get(LtiRegistration, registration_id)
    if row is None:
        raise NotFound(f"There is no LTI registration {registration_id}.")
    return row


def create(db, body: dict, *, update: bool = False) -> tuple[LtiRegistration, bool]:
    """A new registration, or (update=True) the existing one for this issuer and client updated with
    the endpoints given and the deployments added; (row, created). Without update, 409 if it exists."""
    missing = [f for f in REQUIRED if not body.get(f)]
    if missing:
        raise InvalidRequest("A registration needs " + ", ".join(missing) + ".",
                             errors={f: ["required"] for f in missing})
    deployments = _deployments(body["deployment_ids"])
    row = find(db, body["issuer"], body["client_id"])
    if row is not None and not update:
        raise Conflict(f"{body['issuer']} with client {body['client_id']} is registered already (id {row.id}); "
                       f"PATCH /api/v1/lti/registrations/{row.id} changes it and POST .../deployments adds one.")
    created = row is None
    if created:
        row = LtiRegistration(issuer=body["issuer"], client_id=body["client_id"], deployment_ids=[])
        db.add(row)
    for field in ENDPOINTS:
        if body.get(field) is not None or created:
            setattr(row, field, body.get(field))
    row.deployment_ids = list(dict.fromkeys([*(row.deployment_ids or []), *deployments]))
    db.commit()
    return row, created


def change(db, registration_id: int, body: dict) -> LtiRegistration:
    """Change a registration's endpoints (issuer and client id are its identity, not changeable)."""
    row = get(db, registration_id)
    unknown = sorted(set(body) - set(ENDPOINTS) - {"deployment_ids"})
    if unknown:
        raise InvalidRequest("Only " + ", ".join(ENDPOINTS) + " and deployment_ids can be changed.",
                             errors={f: ["not changeable"] for f in unknown})
    for field in ENDPOINTS:
        if field in body:
            setattr(row, field, body[field])
    if "deployment_ids" in body:
        row.deployment_ids = _deployments(body["deployment_ids"])
    db.commit()
    return row


def add_deployment(db, row: LtiRegistration, deployment_id) -> LtiRegistration:
    (deployment_id,) = _deployments([deployment_id])
    if deployment_id not in row.deployment_ids:
        row.deployment_ids = [*row.deployment_ids, deployment_id]
        db.commit()
    return row


def remove_deployment(db, row: LtiRegistration, deployment_id: str) -> LtiRegistration:
    if deployment_id not in row.deployment_ids:
        raise NotFound(f"Registration {row.id} has no deployment {deployment_id!r}.")
    row.deployment_ids = [d for d in row.deployment_ids if d != deployment_id]
    db.commit()
    return row


def _deployments(values) -> list[str]:
    if not isinstance(values, list) or not values or not all(isinstance(v, str) and v for v in values):
        raise InvalidRequest("deployment_ids must be a non-empty list of strings.",
                             errors={"deployment_ids": ["a non-empty list of strings"]})
    return list(dict.fromkeys(values))
