"""Signed instance tokens: exercise, version, seed, learner, attempt and issue time, tamper-proof."""
from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from grader.problems import ForeignToken, InvalidToken

SALT = "bptt-grader.instance"


@dataclass(frozen=True)
class InstanceClaim:
    exercise_id: str
    version: int
    seed: int
    learner: str
    attempt: int
    issued_at: int


def derive_seed(secret: str, exercise_id: str, version: int, learner: str, attempt: int) -> int:
    """A 62-bit seed from the secret: the same learner and attempt always get the same instance."""
    message = f"{exercise_id}\x1f{version}\x1f{learner}\x1f{attempt}".encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") >> 2


def issue(secret: str, claim: InstanceClaim) -> str:
    payload = [claim.exercise_id, claim.version, claim.seed, claim.learner, claim.attempt, claim.issued_at]
    return _serializer(secret).dumps(payload)


def verify(secret: str, token: str, *, learner: str, max_age: int) -> InstanceClaim:
    """Decode a token, or raise InvalidToken (tampered, malformed, expired) or ForeignToken."""
    try:
        payload = _serializer(secret).loads(token, max_age=max_age)
    except SignatureExpired as exc:
        raise InvalidToken("The instance token has expired; fetch a new instance.") from exc
    except BadSignature as exc:
        raise InvalidToken("The instance token is not one this service issued (bad signature).") from exc
    claim = InstanceClaim(*payload)
    if claim.learner != learner:
        raise ForeignToken("This instance was issued to another learner; fetch your own instance.")
    return claim


@lru_cache(maxsize=8)
def _serializer(secret: str) -> URLSafeTimedSerializer:
    """One serializer per secret (it keeps no state between tokens)."""
    return URLSafeTimedSerializer(secret, salt=SALT)


def now() -> int:
    return int(time.time())


def load_or_create_secret(instance_path: str) -> str:
    """The development secret: created once in the instance folder, readable by the owner only."""
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f"secret_key.{os.getpid()}")
        draft.touch(mode=0o600)
        draft.write_text(secrets.token_urlsafe(48))
        try:  # link is atomic: when several workers start at once, the first secret wins
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip()
