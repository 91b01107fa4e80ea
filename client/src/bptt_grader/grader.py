"""The client: Grader(url, key) with exercises, instance, submit, submit_code, history and report."""
from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bptt_grader import credentials, source, values
from bptt_grader.http import Http, say
from bptt_grader.report import Report


@dataclass
class Instance:
    """An issued instance: its parameters (numpy arrays, or tensors), answer fields and signed token."""

    exercise_id: str
    token: str
    params: dict
    fields: dict  # name -> {"kind", "shape", "description", "rtol", ...}
    attempt: int = 1
    raw: dict = field(default_factory=dict, repr=False)

    @property
    def shapes(self) -> dict[str, tuple]:
        """The shape each array answer field must have."""
        return {name: tuple(f["shape"]) for name, f in self.fields.items() if "shape" in f}

    def __getitem__(self, name):
        return self.params[name]


class Grader:
    """A session with the service. key: argument, else BPTT_GRADER_KEY, else `bptt-grader login`'s file.

    retries: attempts after a connection error (a submission keeps its Idempotency-Key across them);
    max_wait: the longest Retry-After of a 429 the client waits out; notify: where waiting messages go.
    """

    def __init__(self, url: str | None = None, key: str | None = None, *, retries: int = 3, backoff: float = 0.5,
                 max_wait: float = 120.0, timeout: float = 60.0, notify=say):
        self.url, key = credentials.resolve(url, key)
        self.http = Http(self.url, key, retries=retries, backoff=backoff, max_wait=max_wait, timeout=timeout,
                         notify=notify)
        self._details: dict[str, dict] = {}

    def exercises(self) -> list[dict]:
        """The catalog: id, title, section, equations, kinds, max score."""
        return self.http.call("GET", "/api/v1/exercises")[0]

    def exercise(self, exercise_id: str) -> dict:
        """Statement, answer fields, entry point and starter of one exercise (kept for the session)."""
        if exercise_id not in self._details:
            self._details[exercise_id] = self.http.call("GET", f"/api/v1/exercises/{exercise_id}")[0]
        return self._details[exercise_id]

    def instance(self, exercise_id: str, attempt: int = 1, *, as_torch: bool = False) -> Instance:
        """Your instance of the exercise for this attempt (the same attempt gives the same instance)."""
        body = self.http.call("POST", f"/api/v1/exercises/{exercise_id}/instances", json={"attempt": attempt})[0]
        raw = body["instance"]
        return Instance(exercise_id=raw["exercise_id"], token=raw["token"], attempt=raw.get("attempt", attempt),
                        params=values.params_from_json(raw["params"], as_torch), fields=raw["answer_fields"], raw=raw)

    def submit(self, instance: Instance, answer: dict, *, assignment_id: int | None = None,
               steps: bool = True) -> Report:
        """Grade a numeric answer: a dict of numpy arrays, tensors (any device, with grad or not),
        lists or numbers. Returns the stored report (with its per-step errors when steps=True)."""
        body = {"exercise_id": instance.exercise_id, "kind": "numeric", "instance_token": instance.token,
                "answer": values.answer_to_json(answer)}
        if assignment_id is not None:
            body["assignment_id"] = assignment_id
        return self._post_submission(body, steps=steps)

    def submit_code(self, fn_or_source, exercise_id: str | None = None, *, wait: float = 30.0,
                    assignment_id: int | None = None) -> Report:
        """Grade code: a function (its source with the helpers it uses), a .py or .ipynb path, or source text.
        Without exercise_id, the exercise whose entry point the function is named after."""
        body = {"kind": "code"}
        if callable(fn_or_source):
            exercise_id = exercise_id or self._exercise_of(fn_or_source.__name__)
            entry = self.exercise(exercise_id)["entry_point"]
            body["source"] = source.with_entry_point(source.function_source(fn_or_source), fn_or_source.__name__, entry)
        elif isinstance(fn_or_source, Path) or (isinstance(fn_or_source, str) and "\n" not in fn_or_source
                                                 and fn_or_source.endswith((".py", ".ipynb"))):
            path = Path(fn_or_source)
            text = path.read_text()
            body.update({"notebook": json.loads(text)} if path.suffix == ".ipynb" else {"source": text})
        else:
            body["source"] = fn_or_source
        if exercise_id is None:
            raise ValueError("Name the exercise: submit_code(..., exercise_id='tanh-rnn-bptt').")
        body["exercise_id"] = exercise_id
        if assignment_id is not None:
            body["assignment_id"] = assignment_id
        return self._post_submission(body, steps=False, wait=wait)

    def history(self, exercise_id: str | None = None, limit: int = 50) -> list[Report]:
        """Your stored reports, newest first."""
        params = {"limit": limit, **({"exercise_id": exercise_id} if exercise_id else {})}
        return [Report(r) for r in self.http.call("GET", "/api/v1/submissions", params=params)[0]]

    def report(self, submission_id: str, *, steps: bool = True) -> Report:
        data = self.http.call("GET", f"/api/v1/submissions/{submission_id}")[0]
        return Report(data, self._steps(data) if steps else None)

    def wait_for(self, report, timeout: float = 60.0) -> Report:
        """The report of a queued submission once graded (polled every second), or still pending."""
        submission_id = report["id"] if isinstance(report, Mapping) else report
        return Report(self._poll(f"/api/v1/submissions/{submission_id}", time.monotonic() + timeout))

    def _post_submission(self, body, *, steps: bool, wait: float = 0.0) -> Report:
        """POST /submissions; queued code is waited for up to `wait` seconds (?wait, then polling)."""
        deadline = time.monotonic() + wait
        data, response = self.http.call("POST", "/api/v1/submissions", json=body,
                                        params={"wait": wait} if wait else None)
        replayed = response.headers.get("Idempotent-Replayed") == "true"
        if response.status_code == 202 and wait:
            data = self._poll(response.headers["Location"], deadline)
        return Report(data, self._steps(data) if steps else None, replayed=replayed)

    def _poll(self, location: str, deadline: float) -> dict:
        data = self.http.call("GET", location)[0]
        while data["verdict"] == "pending" and time.monotonic() < deadline:
            time.sleep(1.0)
            data = self.http.call("GET", location)[0]
        return data

    def _steps(self, data) -> dict | None:
        if data.get("kind") != "numeric" or data.get("verdict") in ("invalid", "pending"):
            return None
        return self.http.call("GET", f"/api/v1/submissions/{data['id']}/steps")[0]["parts"]

    def _exercise_of(self, function_name: str) -> str:
        for summary in self.exercises():
            if self.exercise(summary["id"])["entry_point"] == function_name:
                return summary["id"]
        raise ValueError(f"No exercise has the entry point {function_name}(...); pass exercise_id=.")

