"""Frozen dataclasses of a grade report; the API dumps them with marshmallow schemas."""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Verdict(StrEnum):
    CORRECT = "correct"
    PARTIALLY_CORRECT = "partially_correct"
    INCORRECT = "incorrect"
    INVALID = "invalid"
    ERROR = "error"
    TIMEOUT = "timeout"
    PENDING = "pending"  # queued for a grading worker


@dataclass(frozen=True)
class Location:
    """Where the error is largest: the index into the part, and the 1-based time step if any."""

    index: tuple[int, ...]
    time_step: int | None = None


@dataclass(frozen=True)
class Relation:
    """A generic relation of a wrong part to the reference (scale, sign, time reversal, range)."""

    kind: str
    detail: str
    factor: float | None = None
    time_steps: tuple[int, int] | None = None


@dataclass(frozen=True)
class PartResult:
    name: str
    verdict: Verdict
    score: float
    max_score: float
    message: str
    relative_error: float | None = None
    location: Location | None = None
    misconceptions: tuple[str, ...] = ()
    relation: Relation | None = None


@dataclass(frozen=True)
class MisconceptionMatch:
    slug: str
    title: str
    message: str
    equation: str
    parts: tuple[str, ...]


@dataclass(frozen=True)
class InstanceSummary:
    """One hidden instance of a code submission: its sizes and verdict, never its inputs."""

    index: int
    kind: str  # "regular" or "edge"
    sizes: dict
    verdict: Verdict
    score: float
    message: str


@dataclass(frozen=True)
class Report:
    verdict: Verdict
    score: float
    max_score: float
    parts: tuple[PartResult, ...]
    misconceptions: tuple[MisconceptionMatch, ...] = ()
    hints: tuple[str, ...] = field(default_factory=tuple)
    message: str = ""
    instances: tuple[InstanceSummary, ...] = ()
