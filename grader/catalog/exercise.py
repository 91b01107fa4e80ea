"""The exercise plug-in: metadata from info.json, generate/solve/variants from exercise.py."""
from __future__ import annotations

import copy
import functools
import math
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Callable

import numpy as np

DISCRIMINATION_RTOL = 1e-3  # a variant closer than this to the answer (or another variant) is hidden
UNCHANGED_RTOL = 1e-12  # below this a variant leaves a part as the reference computes it
MAX_GENERATION_TRIES = 50
ARRAY, INTEGER, LABEL, CHOICES, SAMPLES = "array", "integer", "label", "choices", "samples"
Z_CRIT = 4.0  # a samples part passes when its mean is within 4 standard errors: false rejection 6.3e-5
SAMPLES_CLEAR = 2.5  # two sample targets are told apart when their means are 10 standard errors apart


@dataclass(frozen=True)
class SampleTarget:
    """What a samples part is checked against: the estimator's exact mean and variance.

    samples: one honest draw of count samples (what the reference submits in self-tests).
    """

    mean: float
    variance: float
    count: int
    samples: np.ndarray = field(repr=False, compare=False, default=None)

    @property
    def standard_error(self) -> float:
        return float(np.sqrt(self.variance / self.count))

    def z(self, samples: np.ndarray) -> float:
        return float((np.mean(samples) - self.mean) / self.standard_error)


@dataclass(frozen=True)
class Part:
    """One answer field: name, kind, symbolic shape, weight in the score and tolerance.

    kind: "array" (numbers compared by metric), "integer" and "label" (exact), "choices" (a set of
    option ids with partial credit), "samples" (draws of an estimator, tested for unbiasedness). metric: "frobenius" (relative Frobenius error) or
    "elementwise" (largest relative error of any entry, for values spanning many magnitudes).
    """

    name: str
    shape: str
    weight: float
    rtol: float
    description: str
    kind: str = ARRAY
    metric: str = "frobenius"
    time_axis: int | None = None
    time_origin: str | None = None  # param holding the time step of index 0 on time_axis (default 1)
    labels: tuple[str, ...] = ()
    options: tuple[dict, ...] = ()  # {"id", "text", "correct", "why"}
    plot: str | None = None  # "values-log": the report page plots the values against the reference
    float32_rtol: float = 1e-5  # a float32-valued answer this close is right to float32 precision

    def distance(self, actual, expected) -> float:
        """How far actual is from expected in this part's own measure (0 means equal)."""
        if self.kind == SAMPLES:
            return _sample_distance(actual, expected)
        if self.kind != ARRAY:
            return 0.0 if _same(actual, expected) else float("inf")
        if np.shape(actual) != np.shape(expected):
            return float("inf")
        if self.metric == "elementwise":
            return float(np.max(np.abs(actual - expected) / np.maximum(np.abs(expected), 1e-300), initial=0.0))
        return relative_error(actual, expected)


@dataclass(frozen=True)
class MisconceptionInfo:
    """A known mistake: stable slug, title, what to look at, and the equation it concerns.

    accepted: a near miss (another library's convention, say) that is credited as correct and named.
    forms: every form of the mistake (misconception-forms.json, plus the exercise's own); each one
    not exempted must be a variant `slug/form` (checked by the self-test).
    """

    slug: str
    title: str
    message: str
    equation: str
    accepted: bool = False
    forms: tuple[str, ...] = ()  # the forms the self-test requires as variants `slug/form`
    forms_exempt: tuple[tuple[str, str], ...] = ()  # (form, why it cannot occur in this exercise)


@dataclass(frozen=True)
class Instance:
    """A generated instance: public params, the reference answer and every variant's answer."""

    seed: int
    tries: int
    params: dict[str, Any]
    answer: dict[str, Any]
    variants: dict[str, dict[str, Any]]
    scales: dict[str, float] = field(default_factory=dict)


def relative_error(actual, expected):
    """||actual - expected||_F / max(||expected||_F, 1e-300); shapes must agree. Infinite when a huge
    (finite) answer overflows the norm: the callers describe that in words."""
    with np.errstate(over="ignore", invalid="ignore"):
        if not (isinstance(actual, np.ndarray) and isinstance(expected, np.ndarray)
                and actual.dtype == expected.dtype == np.float64):
            return float(np.linalg.norm(actual - expected) / max(np.linalg.norm(expected), 1e-300))
        # what np.linalg.norm computes for float64 (the square root of x . x), without its checks;
        # vdot reads in C order, which is the order K that norm reads a C-contiguous array in
        difference = actual - expected
        if difference.flags.c_contiguous and expected.flags.c_contiguous:
            return math.sqrt(np.vdot(difference, difference)) / max(math.sqrt(np.vdot(expected, expected)), 1e-300)
        difference, expected = difference.ravel(order="K"), expected.ravel(order="K")
        return float(np.sqrt(difference.dot(difference)) / max(np.sqrt(expected.dot(expected)), 1e-300))


def slug_of(variant_key: str) -> str:
    """VARIANTS keys are a slug, or slug/name when one mistake has several forms."""
    return variant_key.split("/", 1)[0]


def _sample_distance(actual, expected: SampleTarget) -> float:
    """In units of the test's threshold: |z| / Z_CRIT for samples, the same for two targets' means."""
    if isinstance(actual, SampleTarget):
        return abs(actual.mean - expected.mean) / expected.standard_error / Z_CRIT
    return abs(expected.z(np.asarray(actual))) / Z_CRIT


def _same(a, b) -> bool:
    if isinstance(a, (frozenset, set)) or isinstance(b, (frozenset, set)):
        return set(a) == set(b)
    return a == b


class GenerationError(RuntimeError):
    """No discriminating instance was found in MAX_GENERATION_TRIES derived seeds."""


class Exercise:
    """An exercise: metadata plus the module that generates, solves and errs on purpose."""

    def __init__(self, info: dict, module: ModuleType, statement: str, starter: str,
                 misconceptions: tuple[MisconceptionInfo, ...], fallbacks: dict[str, MisconceptionInfo],
                 cache_size: int = 1024):
        self.id: str = info["id"]
        self.version: int = info["version"]
        self.title: str = info["title"]
        self.info = info
        self.parts: tuple[Part, ...] = tuple(Part(**p) for p in info["parts"])
        self.misconceptions = {m.slug: m for m in misconceptions}
        self.fallbacks = fallbacks
        self.hints: tuple[str, ...] = tuple(info["hints"])
        self.float32_credit: bool = info.get("float32_credit", True)  # credit answers right to float32 precision
        self.statement, self.starter = statement, starter
        self._generate: Callable = module.generate
        self._solve: Callable = module.solve
        self._variants: dict[str, Callable] = dict(module.VARIANTS)
        self._scales: Callable = getattr(module, "scales", lambda params: {})
        self.gradient_checks: Callable = module.gradient_checks
        self._edge_cases: Callable = getattr(module, "edge_cases", lambda rng: [])
        self._edge_variants: tuple[str, ...] = tuple(getattr(module, "EDGE_VARIANTS", ()))
        self.solution: str | None = None  # solution.py of a code exercise: the reference written as a student would
        self.torch_solution: str | None = None  # solution_torch.py: its PyTorch twin, same MISTAKE switch
        self.starters: dict[str, str] = {"numpy": starter}  # and "torch" when starter_torch.py exists
        self.instance = functools.lru_cache(maxsize=cache_size)(self._make_instance)
        self.edge_instances = functools.lru_cache(maxsize=cache_size)(self._make_edge_instances)

    @property
    def rules(self) -> dict:
        """What code submissions may use: torch's autograd only where the exercise is about it."""
        if self.info.get("autograd") == "allowed":
            summary = ("Code may use numpy or PyTorch, autograd included: this exercise is about its semantics "
                       "(backward, detach_, gradient clipping).")
        else:
            summary = ("Code may use numpy or PyTorch tensors and operations, but not autograd (backward, "
                       "torch.autograd, torch.func transforms, requires_grad gradients): derive the gradients "
                       "yourself. A submission that reaches autograd is graded invalid.")
        return {"autograd": self.info.get("autograd", "refused"), "summary": summary}

    @property
    def max_score(self) -> float:
        return float(sum(p.weight for p in self.parts))

    def misconception(self, slug: str) -> MisconceptionInfo:
        """The exercise's own entry for slug, else the catalog-wide generic one (transposes)."""
        return self.misconceptions.get(slug) or self.fallbacks[slug]

    def with_float32_credit(self, credit: bool) -> Exercise:
        """This exercise under an assignment's policy: float32 credit only if both allow it (the copy
        shares the instance caches)."""
        if credit or not self.float32_credit:
            return self
        strict = copy.copy(self)
        strict.float32_credit = False
        return strict

    def part(self, name: str) -> Part:
        return next(p for p in self.parts if p.name == name)

    def variant_keys(self) -> tuple[str, ...]:
        return tuple(self._variants)

    def generate(self, rng: np.random.Generator) -> dict:
        return self._generate(rng)

    def solve(self, params: dict) -> dict:
        return self._solve(params)

    def variants_for(self, params: dict) -> dict[str, dict]:
        """Every variant's answer on params; a variant returning None cannot occur on this instance
        (a chunk-boundary slip when the instance asks for sliding windows) and is left out."""
        answers = {key: fn(params) for key, fn in self._variants.items()}
        return {key: answer for key, answer in answers.items() if answer is not None}

    def _make_edge_instances(self, seed: int) -> list[Instance]:
        """The exercise's edge cases (T = 1, B = 1, h = 1, ...), graded for correctness; only accepted
        near misses are evaluated on them (mistakes are diagnosed on the regular instances), and the
        variants the module lists in EDGE_VARIANTS: mistakes that only some instances can show (a
        chunk-boundary slip on chunked instances), named from an edge case that shows them when no
        regular instance did."""
        accepted = {key: fn for key, fn in self._variants.items()
                    if key in self._edge_variants
                    or slug_of(key) in self.misconceptions and self.misconceptions[slug_of(key)].accepted}
        instances = []
        for params in self._edge_cases(np.random.default_rng([seed, 1 << 20])):
            variants = {key: fn(params) for key, fn in accepted.items()}
            instances.append(Instance(seed, 0, params, self._solve(params),
                                      {key: answer for key, answer in variants.items() if answer is not None},
                                      self._scales(params)))
        return instances

    def _make_instance(self, seed: int) -> Instance:
        """Generate from seed, regenerating with [seed, k] until every mistake is visible."""
        for k in range(MAX_GENERATION_TRIES):
            params = self._generate(np.random.default_rng([seed, k]))
            answer = self._solve(params)
            variants = self.variants_for(params)
            if self.hidden_variants(answer, variants) == []:
                return Instance(seed, k, params, answer, variants, self._scales(params))
        raise GenerationError(f"{self.id}: no discriminating instance for seed {seed}")

    def hidden_variants(self, answer, variants) -> list[str]:
        """Keys of variants that the instance cannot tell apart from the answer or each other.

        A variant must change at least one part clearly (by 1e-3, or by ten times the part's
        tolerance for an accepted near miss) and leave every other part either clearly changed or
        exactly the reference's; two variants must differ clearly in at least one part.
        """
        hidden = []
        for key, variant in variants.items():
            accepted = self.misconception(slug_of(key)).accepted if slug_of(key) in self.misconceptions else False
            changes = [self._change(part, variant[part.name], answer[part.name], accepted) for part in self.parts]
            if "ambiguous" in changes or "clear" not in changes:
                hidden.append(key)
        keys = list(variants)
        for i, first in enumerate(keys):
            for second in keys[i + 1:]:
                if all(p.distance(variants[first][p.name], variants[second][p.name])
                       <= (SAMPLES_CLEAR if p.kind == SAMPLES else DISCRIMINATION_RTOL) for p in self.parts):
                    hidden.extend([first, second])
        return hidden + self._samples_taken_for_others(answer, variants)

    def _samples_taken_for_others(self, answer, variants) -> list[str]:
        """Keys of variants whose own draws of a samples part pass the test of another mistake's
        estimator (the report would name both): a sampler's mean is random, so the instance is."""
        taken = []
        for part in (p for p in self.parts if p.kind == SAMPLES):
            for key, variant in variants.items():
                drawn = getattr(variant[part.name], "samples", None)
                if drawn is None:
                    continue
                if any(slug_of(other) != slug_of(key) and part.distance(theirs[part.name], answer[part.name]) > UNCHANGED_RTOL
                       and part.distance(drawn, theirs[part.name]) <= 1.0 for other, theirs in variants.items()):
                    taken.append(key)
        return taken

    @staticmethod
    def _change(part: Part, variant_part, answer_part, accepted: bool) -> str:
        distance = part.distance(variant_part, answer_part)
        if distance <= UNCHANGED_RTOL:
            return "none"
        clear = 10 * part.rtol if accepted else SAMPLES_CLEAR if part.kind == SAMPLES else DISCRIMINATION_RTOL
        return "clear" if distance >= clear and (not accepted or distance < DISCRIMINATION_RTOL) else "ambiguous"
