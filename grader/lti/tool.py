"""The tool's configuration for pylti1p3: registrations from the database and the tool's RSA key.

Every replica must sign with the same key, so in production the key comes from LTI_PRIVATE_KEY (PEM
text, e.g. from a secret store) or LTI_PRIVATE_KEY_FILE; only a development install falls back to a
key made once in the instance folder. LTI_ROTATION_KEY[_FILE] names a second key that the JWKS
publishes without signing with it: the next key before a rotation, the previous one after it."""
from __future__ import annotations

import logging
import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pylti1p3.registration import Registration
from pylti1p3.tool_config import ToolConfDict
from sqlalchemy import select

from grader.storage.models import LtiRegistration

logger = logging.getLogger(__name__)


def key_pair(app) -> tuple[str, str]:
    """(private PEM, public PEM) of the signing key."""
    private = app.config.get("LTI_PRIVATE_KEY") or _read(app.config["LTI_PRIVATE_KEY_FILE"]) or _instance_key(app)
    return private, _public_pem(private)


def published_keys(app) -> list[str]:
    """Public PEMs the JWKS lists: the signing key, then the rotation key if one is configured."""
    keys = [key_pair(app)[1]]
    rotation = app.config.get("LTI_ROTATION_KEY") or _read(app.config.get("LTI_ROTATION_KEY_FILE"))
    if rotation:
        keys.append(_public_pem(rotation))
    return keys


def _read(path) -> str | None:
    return Path(path).read_text() if path else None


def _public_pem(pem: str) -> str:
    """The public half of a private PEM; a public PEM as it is."""
    if "PRIVATE KEY" in pem:
        public = serialization.load_pem_private_key(pem.encode(), password=None).public_key()
    else:
        public = serialization.load_pem_public_key(pem.encode())
    return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def _instance_key(app) -> str:
    """A development key made once with 0600 permissions in the instance folder (this host only)."""
    path = Path(app.instance_path) / "lti_private.pem"
    if not path.exists():
        logger.warning("LTI: no LTI_PRIVATE_KEY configured; made %s, which no other replica shares", path)
        path.parent.mkdir(parents=True, exist_ok=True)
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
    return path.read_text()


def tool_conf(app, db) -> ToolConfDict:
    """A ToolConfDict of every registration, each with the tool's key pair."""
    private, public = key_pair(app)
    registrations = db.scalars(select(LtiRegistration).order_by(LtiRegistration.id)).all()
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
    return {"keys": [dict(Registration.get_jwk(pem)) for pem in published_keys(app)]}
