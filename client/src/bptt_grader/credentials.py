"""Where the client finds its service URL and key: arguments, environment, then the login file."""
from __future__ import annotations

import json
import os
from pathlib import Path

DEFAULT_URL = "http://127.0.0.1:8000"


def config_path() -> Path:
    """$BPTT_GRADER_CONFIG, else $XDG_CONFIG_HOME/bptt-grader/config.json (~/.config by default)."""
    if os.environ.get("BPTT_GRADER_CONFIG"):
        return Path(os.environ["BPTT_GRADER_CONFIG"])
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "bptt-grader" / "config.json"


def saved() -> dict:
    path = config_path()
    return json.loads(path.read_text()) if path.is_file() else {}


def save(url: str, key: str) -> Path:
    """Write the URL and key for later sessions, readable by the user only."""
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        json.dump({"url": url, "key": key}, file)
    return path


def resolve(url: str | None, key: str | None) -> tuple[str, str | None]:
    """The explicit values win, then BPTT_GRADER_URL / BPTT_GRADER_KEY, then the login file."""
    url, key = url or os.environ.get("BPTT_GRADER_URL"), key or os.environ.get("BPTT_GRADER_KEY")
    stored = saved() if not (url and key) else {}
    return url or stored.get("url") or DEFAULT_URL, key or stored.get("key")
