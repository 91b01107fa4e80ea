"""The behavioural fingerprint of a code submission: what it returned on the exercise version's
probe instances (derived from the service secret, never shown), read by the app from the validated
result document and kept as numbers only. Two fingerprints agree when every part of every probe
agrees within the part's tolerance."""
from __future__ import annotations

import hashlib
import json
import math
from dataclasses import replace

import numpy as np

from grader import tokens
from grader.catalog.exercise import ARRAY, CHOICES, INTEGER, LABEL, SAMPLES, Z_CRIT, Exercise, Instance
from grader.grading import results
from grader.grading.ladder import climb, read_choices, read_integer, read_label

PROBES = 2  # instances per exercise version; each wrong submission runs on them once more
PROBE_LEARNER = "\x00probe"  # no learner id can hold a NUL: the seeds are no learner's instance
FORMAT = 1


def probe_seeds(secret: str, exercise: Exercise) -> list[int]:
    """The probe instances' seeds: fixed per exercise version, so all its submissions are comparable."""
    return [tokens.derive_seed(secret, exercise.id, exercise.version, PROBE_LEARNER, k) for k in range(PROBES)]


def probe_instances(secret: str, exercise: Exercise) -> list[Instance]:
    return [exercise.instance(seed) for seed in probe_seeds(secret, exercise)]


def split_outcome(outcome, graded: int, probes: int, budget: int):
    """(the outcome of the graded instances, the validated probe entries or None). A document of
    another length goes whole to the report, which calls it malformed; malformed probe entries
    only cost the fingerprint."""
    if outcome.status != "ok" or not isinstance(outcome.results, list) or len(outcome.results) != graded + probes:
        return outcome, None
    try:
        entries = results.validate(outcome.results[graded:], probes, budget)
    except results.Malformed:
        entries = None
    return replace(outcome, results=outcome.results[:graded]), entries


def from_entries(exercise: Exercise, probes: list[Instance], entries: list) -> dict:
    """The fingerprint from validated result entries (results.Returned or results.Raised), one per
    probe: per part the value read as the grader reads answers (None when the probe raised, or the
    part is missing or unreadable), a samples part by its mean."""
    outputs = [_outputs(exercise, probe, entry) for probe, entry in zip(probes, entries)]
    return {"format": FORMAT, "exercise_version": exercise.version, "probe_set": probe_set(probes),
            "hash": _digest(exercise, outputs), "probes": outputs}


def probe_set(probes: list[Instance]) -> str:
    """Which probe instances a fingerprint was taken on (a new secret or version makes others)."""
    return hashlib.sha256(",".join(str(p.seed) for p in probes).encode()).hexdigest()[:16]


def _outputs(exercise, probe, entry) -> dict:
    if not isinstance(entry, results.Returned):
        return {part.name: None for part in exercise.parts}
    return {part.name: _read(part, entry.value.get(part.name), probe.answer[part.name]) for part in exercise.parts}


def _read(part, value, expected):
    if value is None:
        return None
    if part.kind in (ARRAY, SAMPLES):
        shape = (expected.count,) if part.kind == SAMPLES else np.shape(expected)
        rung = climb(part.name, value, shape)
        if rung.problem:
            return None
        array = np.swapaxes(rung.array, -1, -2) if rung.transposed else rung.array  # as returned
        return float(np.mean(array)) if part.kind == SAMPLES else array.tolist()
    reader = {INTEGER: lambda: read_integer(part.name, value), LABEL: lambda: read_label(part.name, value, part.labels),
              CHOICES: lambda: read_choices(part.name, value, part.options)}[part.kind]
    rung = reader()
    if rung.problem:
        return None
    return sorted(rung.array) if part.kind == CHOICES else rung.array


def _digest(exercise, outputs) -> str:
    """A hash of the outputs quantised to a few digits below each part's tolerance: equal
    hashes group at once; near a rounding edge two equal behaviours may still hash apart, which
    the tolerance match then joins."""
    quantised = [{p.name: _quantise(probe[p.name], p.rtol if p.kind != SAMPLES else 1e-3) for p in exercise.parts}
                 for probe in outputs]
    return hashlib.sha256(json.dumps(quantised, sort_keys=True).encode()).hexdigest()[:24]


def _quantise(value, rtol):
    digits = max(1, int(-math.log10(rtol)) - 2)
    if isinstance(value, list):
        return [_quantise(v, rtol) for v in value]
    if isinstance(value, float):
        return float(f"{value:.{digits}e}")
    return value


def agree(exercise: Exercise, probes: list[Instance], first: dict, second: dict) -> bool:
    """True when both fingerprints were taken on these probe instances and every part of every probe agrees
    within the part's tolerance (samples: means within Z_CRIT standard errors of the reference)."""
    current = probe_set(probes)
    if first is None or second is None or first.get("probe_set") != current or second.get("probe_set") != current:
        return False  # taken on other probe instances (another version or secret): not comparable
    if first["hash"] == second["hash"]:
        return True
    return all(_part_agrees(part, probe.answer[part.name], a[part.name], b[part.name])
               for probe, a, b in zip(probes, first["probes"], second["probes"]) for part in exercise.parts)


def _part_agrees(part, expected, a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if part.kind == SAMPLES:
        return abs(a - b) <= Z_CRIT * expected.standard_error
    if part.kind != ARRAY:
        return a == b
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape:
        return False
    # symmetric: the larger of the two relative distances must be within the tolerance
    return max(part.distance(a, b), part.distance(b, a)) <= part.rtol
