"""Outbound deliveries from an outbox table: webhooks signed per Standard Webhooks (and, for LTI,
score passbacks). A row is written in the same transaction as the result; a background loop sends
due rows, claims each with a lease so several processes never send one twice, and retries with
exponential backoff. The id and timestamp of a message are fixed once and replayed on retries."""
from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import logging
import socket
import threading
import time
import uuid
from datetime import timedelta
from urllib.parse import urlsplit

import requests
from sqlalchemy import or_, select, update

from grader import metrics, storage
from grader.problems import InvalidRequest
from grader.storage.models import Delivery, utcnow

logger = logging.getLogger(__name__)
EXTENSION = "grader.delivery"
SENDERS = {}  # kind -> function(app, delivery) -> (done: bool, error: str | None); registered below
KICK_LOCK = threading.Lock()


def check_callback_url(url: str, allow_private: bool) -> str:
    """Refuse non-HTTP(S) URLs and, unless allowed, hosts that resolve to private or loopback addresses."""
    try:
        parts = urlsplit(url)
        port = parts.port  # raises ValueError when out of range (http://127.0.0.1:99999/)
    except ValueError:
        raise InvalidRequest("callback_url is not a valid URL (its port must be 1 to 65535).",
                             errors={"callback_url": ["not a valid URL"]}) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidRequest("callback_url must be an http(s) URL.", errors={"callback_url": ["not an http(s) URL"]})
    if not allow_private:
        try:
            addresses = {info[4][0] for info in socket.getaddrinfo(parts.hostname, port or 443)}
        except OSError as exc:
            raise InvalidRequest(f"callback_url's host does not resolve ({exc}).",
                                 errors={"callback_url": ["unresolvable"]}) from exc
        if any(not ipaddress.ip_address(a.split("%")[0]).is_global for a in addresses):
            raise InvalidRequest("callback_url points to a private or loopback address.",
                                 errors={"callback_url": ["not a public address"]})
    return url


def add(db, *, kind: str, submission_id: str, target: str, payload: dict) -> Delivery:
    """Queue a message in the caller's transaction (committed with the result it carries)."""
    delivery = Delivery(id=f"msg_{uuid.uuid4().hex}", kind=kind, submission_id=submission_id, target=target,
                        payload=payload, event_timestamp=int(time.time()), status="pending", attempts=0,
                        next_attempt_at=utcnow())
    db.add(delivery)
    return delivery


def webhook_secret(app) -> bytes:
    """The whsec_ signing key: GRADER_WEBHOOK_SECRET, else derived from the service secret."""
    configured = app.config["WEBHOOK_SECRET"]
    if configured:
        return base64.b64decode(configured.removeprefix("whsec_"))
    return hmac.new(app.config["SECRET_KEY"].encode(), b"bptt-grader webhooks", hashlib.sha256).digest()


def sign(secret: bytes, message_id: str, timestamp: int, body: str) -> str:
    """Standard Webhooks: v1,base64(HMAC-SHA256(secret, "{id}.{timestamp}.{body}"))."""
    digest = hmac.new(secret, f"{message_id}.{timestamp}.{body}".encode(), hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def send_webhook(app, delivery: Delivery):
    body = json.dumps(delivery.payload, separators=(",", ":"))
    headers = {"content-type": "application/json", "webhook-id": delivery.id,
               "webhook-timestamp": str(delivery.event_timestamp),
               "webhook-signature": sign(webhook_secret(app), delivery.id, delivery.event_timestamp, body)}
    response = requests.post(delivery.target, data=body, headers=headers, timeout=10, allow_redirects=False)
    if 200 <= response.status_code < 300:
        return True, None
    permanent = 400 <= response.status_code < 500 and response.status_code not in (408, 409, 425, 429)
    return (None if permanent else False), f"HTTP {response.status_code}"


SENDERS["webhook"] = send_webhook


def deliver_due(app, limit: int = 50) -> int:
    """Send every due message once; returns how many were attempted."""
    db = storage.session(app)
    now = utcnow()
    due = db.scalars(select(Delivery.id).where(
        or_(Delivery.status == "pending", (Delivery.status == "sending") & (Delivery.lease_until < now)),
        Delivery.next_attempt_at <= now).order_by(Delivery.next_attempt_at).limit(limit)).all()
    sent = 0
    for delivery_id in due:
        claimed = db.execute(update(Delivery).where(
            Delivery.id == delivery_id,
            or_(Delivery.status == "pending", (Delivery.status == "sending") & (Delivery.lease_until < now)))
            .values(status="sending", lease_until=now + timedelta(seconds=60))).rowcount
        db.commit()
        if claimed:
            _attempt(app, db, db.get(Delivery, delivery_id))
            sent += 1
    _backlog(db)
    return sent


def _attempt(app, db, delivery):
    try:
        done, error = SENDERS[delivery.kind](app, delivery)
    except requests.RequestException as exc:
        done, error = False, f"{type(exc).__name__}: {exc}"
    delivery.attempts += 1
    delivery.last_error = error
    if done is None or (done is False and delivery.attempts >= app.config["DELIVERY_MAX_ATTEMPTS"]):
        delivery.status = "failed"
    elif done:
        delivery.status, delivery.delivered_at = ("done" if error else "delivered"), utcnow()
    else:
        delivery.status = "pending"
        delay = min(app.config["DELIVERY_BACKOFF_S"] * 2 ** (delivery.attempts - 1), 600)
        delivery.next_attempt_at = utcnow() + timedelta(seconds=delay)
    db.commit()
    logger.info("delivery attempt", extra={"delivery_id": delivery.id, "kind": delivery.kind,
                                           "status": delivery.status, "error": error})


def _backlog(db):
    from sqlalchemy import func
    waiting = db.scalar(select(func.count()).select_from(Delivery).where(
        Delivery.kind == "passback", Delivery.status.in_(("pending", "sending"))))
    metrics.PASSBACK_BACKLOG.set(waiting or 0)


def delivery_states(db, course_id: str, kind: str = "passback", limit: int | None = None) -> list[dict]:
    """Deliveries of the course's submissions, newest first, as an instructor reads them (the newest
    `limit` of them for a page)."""
    from grader.storage.models import Submission
    rows = db.execute(select(Delivery, Submission.learner).join(Submission, Submission.id == Delivery.submission_id)
                      .where(Submission.course_id == course_id, Delivery.kind == kind)
                      .order_by(Delivery.created_at.desc()).limit(limit)).all()
    return [{"id": d.id, "submission_id": d.submission_id, "learner": learner, "status": d.status,
             "attempts": d.attempts, "last_error": d.last_error, "score": d.payload.get("score_given"),
             "next_attempt_at": d.next_attempt_at.isoformat() if d.status == "pending" else None}
            for d, learner in rows]


class Loop(threading.Thread):
    """A daemon thread that sends due deliveries while any are waiting, then ends; the next kick
    starts another. (`flask deliver` sends what a restarted process left waiting.)"""

    def __init__(self, app, interval: float):
        super().__init__(daemon=True, name="deliveries")
        self.app, self.interval, self.wake, self.done = app, interval, threading.Event(), False

    def run(self):
        while True:
            with self.app.app_context():
                try:
                    deliver_due(self.app)
                    waiting = _waiting(storage.session(self.app))
                except Exception:  # the loop must survive a bad round; the rows stay due and are retried
                    logger.exception("delivery round failed")
                    waiting = True
                finally:
                    storage.session(self.app).close()
            with KICK_LOCK:  # decided under the lock, so a kick never lands on a loop that is ending
                if not waiting and not self.wake.is_set():
                    self.done = True
                    return
            self.wake.wait(self.interval)
            self.wake.clear()


def _waiting(db) -> bool:
    return db.scalar(select(Delivery.id).where(Delivery.status.in_(("pending", "sending"))).limit(1)) is not None


def kick(app) -> None:
    """Wake this process's delivery loop, starting one when none is running."""
    if not app.config["DELIVERY_THREAD"]:
        return
    with KICK_LOCK:
        loop = app.extensions.get(EXTENSION)
        if loop is None or loop.done:
            loop = app.extensions[EXTENSION] = Loop(app, app.config["DELIVERY_INTERVAL_S"])
            loop.start()
        else:
            loop.wake.set()
