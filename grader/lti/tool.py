"""The tool's configuration for pylti1p3: registrations from the database, one RSA key pair kept in
the instance folder (or named by GRADER_LTI_PRIVATE_KEY_FILE)."""
from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pylti1p3.tool_config import ToolConfDict
from sqlalchemy import select

from grader.storage.models import LtiRegistration


def key_pair(app) -> tuple[str, str]:
    """(private PEM, public PEM): made once with 0600 permissions, shared by every worker."""
    path = Path(app.config["LTI_PRIVATE_KEY_FILE"] or Path(app.instance_path) / "lti_private.pem")
    if not path.exists():
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        draft = path.with_name(f"{path.name}.{os.getpid()}")
        draft.touch(mode=0o600)
        draft.write_bytes(pem)
        try:  # atomic: when several workers start at once, the first key wins
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    private = serialization.load_pem_private_key(path.read_bytes(), password=None)
    public = private.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo)
    return path.read_text(), public.decode()


def tool_conf(app, db) -> ToolConfDict:
    """A ToolConfDict of every registration, each with the tool's key pair."""
    private, public = key_pair(app)
    registrations = db.scalars(select(LtiRegistration)).all()
    data: dict = {}
    for r in registrations:
        data.setdefault(r.issuer, []).append({
            "default": len(data.get(r.issuer, [])) == 0, "client_id": r.client_id,
            "auth_login_url": r.auth_login_url, "auth_token_url": r.auth_token_url,
            "auth_audience": r.audience, "key_set_url": r.key_set_url, "key_set": None,
            "deployment_ids": list(r.deployment_ids)})
    conf = ToolConfDict(data)
    for r in registrations:
        conf.set_private_key(r.issuer, private, client_id=r.client_id)
        conf.set_public_key(r.issuer, public, client_id=r.client_id)
    return conf


def jwks(app) -> dict:
    """The tool's public key set (platforms verify the tool's client assertions and deep links)."""
    from pylti1p3.registration import Registration
    return {"keys": [dict(Registration.get_jwk(key_pair(app)[1]))]}
