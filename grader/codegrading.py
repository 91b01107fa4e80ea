"""Grading a code submission: static checks, then its hidden instances (and the probe instances of
answer groups) in the sandbox, each job's results turned into a report."""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

from grader import metrics, tokens
from grader.catalog import Exercise
from grader.grading import code
from grader.grading.report import Report, Verdict
from grader.groups import fingerprint
from grader.problems import Unavailable
from grader.sandbox.client import SandboxUnavailable

if TYPE_CHECKING:
    from grader.service import Context


def draw_seeds(ctx: Context) -> list[int]:
    """Seeds of a code submission's hidden instances: fresh for every submission, so inputs that a
    job manages to learn are of no use to the next one; stored with the submission for replay."""
    return [secrets.randbits(62) for _ in range(ctx.code_instances)]


def legacy_seeds(ctx: Context, exercise: Exercise, learner: str) -> list[int]:
    """The per-learner seeds that submissions stored before hidden_seeds existed were graded on."""
    return [tokens.derive_seed(ctx.secret, exercise.id, exercise.version, learner, -(k + 1))
            for k in range(ctx.code_instances)]


def sandbox_limits(ctx: Context, exercise: Exercise) -> dict:
    return {**ctx.sandbox_limits, **exercise.info.get("limits", {})}


@dataclass(frozen=True)
class CodeGrade:
    """A code submission's report, and its fingerprint on the probe instances when it is wrong."""

    report: Report
    fingerprint: dict | None = None


def grade_code_submission(ctx: Context, exercise: Exercise, source: str, seeds: list[int], request_id=None):
    """The report of grade_code, without probes (for callers that keep no fingerprint)."""
    return grade_code(ctx, exercise, source, seeds, request_id, probes=False).report


def grade_code(ctx: Context, exercise: Exercise, source: str, seeds: list[int], request_id=None, *,
               probes: bool = True) -> CodeGrade:
    """Static checks, then the hidden instances of these seeds (never shown) in the sandbox; with
    probes, the exercise version's probe instances in the same job (same limits): a wrong
    submission's outputs on them are its fingerprint for answer groups. Groups are per course, so
    callers ask for probes only for a submission of a course."""
    early = code.static_report(exercise, source)
    if early is not None:
        return CodeGrade(early)
    if ctx.sandbox is None:
        raise Unavailable("Code submissions need the sandbox, and none is configured.")
    regular = [exercise.instance(seed) for seed in seeds]
    edges = exercise.edge_instances(seeds[0])
    probes = fingerprint.probe_instances(ctx.secret, exercise) if probes else []
    limits = sandbox_limits(ctx, exercise)
    try:
        with metrics.timed_grading(exercise.id, "code"):
            outcome = ctx.sandbox.run(source, exercise.info["entry_point"],
                                      [i.params for i in regular + edges + probes], limits, request_id=request_id,
                                      autograd=exercise.info["autograd"] == "allowed", torch=code.names_torch(source))
        metrics.sandbox_outcome(outcome.status)
    except SandboxUnavailable as exc:
        metrics.sandbox_outcome("unavailable")
        raise Unavailable(f"Code submissions cannot be graded now: {exc}", headers={"Retry-After": "30"}) from exc
    if outcome.status == "setup-failed":
        raise Unavailable("The sandbox could not set up its isolation layers; nothing was run.",
                          headers={"Retry-After": "30"})
    graded, probe_entries = fingerprint.split_outcome(outcome, len(regular) + len(edges), len(probes),
                                                      int(limits.get("result_bytes", 4 << 20)) // 8)
    report = code.outcome_report(exercise, regular, edges, graded, limits, source)
    wrong = report.verdict in (Verdict.INCORRECT, Verdict.PARTIALLY_CORRECT) and bool(probes) \
        and probe_entries is not None
    return CodeGrade(report, fingerprint.from_entries(exercise, probes, probe_entries) if wrong else None)
