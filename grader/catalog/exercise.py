"""The exercise plug-in: metadata from info.json, generate/solve/variants from exercise.py."""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Callable

import numpy as np

DISCRIMINATION_RTOL = 1e-3  # a variant closer than this to the answer (or another variant) is hidden
UNCHANGED_RTOL = 1e-12  # below this a variant leaves a part as the reference computes it
MAX_GENERATION_TRIES = 50


@dataclass(frozen=True)
class Part:
    """One answer field: its name, symbolic shape, weight in the score and tolerance."""

    name: str
    shape: str
    weight: float
    rtol: float
    description: str
    time_axis: int | None = None
    time_origin: str | None = None  # param holding the time step of index 0 on time_axis (default 1)


@dataclass(frozen=True)
class MisconceptionInfo:
    """A known mistake: stable slug, title, what to look at, and the equation it concerns."""

    slug: str
    title: str
    message: str
    equation: str


@dataclass(frozen=True)
class Instance:
    """A generated instance: public params, the reference answer and every variant's answer."""

    seed: int
    tries: int
    params: dict[str, Any]
    answer: dict[str, np.ndarray]
    variants: dict[str, dict[str, np.ndarray]]
    scales: dict[str, float] = field(default_factory=dict)


def relative_error(actual, expected):
    """||actual - expected||_F / max(||expected||_F, 1e-300); shapes must agree."""
    return float(np.linalg.norm(actual - expected) / max(np.linalg.norm(expected), 1e-300))


def differs(a, b, rtol):
    """True when a and b have other shapes or a relative difference above rtol (either way round)."""
    if np.shape(a) != np.shape(b):
        return True
    return min(relative_error(a, b), relative_error(b, a)) > rtol


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
        self.statement, self.starter = statement, starter
        self._generate: Callable = module.generate
        self._solve: Callable = module.solve
        self._variants: dict[str, Callable] = dict(module.VARIANTS)
        self._scales: Callable = getattr(module, "scales", lambda params: {})
        self.gradient_checks: Callable = module.gradient_checks
        self.instance = functools.lru_cache(maxsize=cache_size)(self._make_instance)

    @property
    def max_score(self) -> float:
        return float(sum(p.weight for p in self.parts))

    def misconception(self, slug: str) -> MisconceptionInfo:
        """The exercise's own entry for slug, else the catalog-wide generic one (transposes)."""
        return self.misconceptions.get(slug) or self.fallbacks[slug]

    def part(self, name: str) -> Part:
        return next(p for p in self.parts if p.name == name)

    def variant_slugs(self) -> tuple[str, ...]:
        return tuple(self._variants)

    def _make_instance(self, seed: int) -> Instance:
        """Generate from seed, regenerating with [seed, k] until every mistake is visible."""
        for k in range(MAX_GENERATION_TRIES):
            params = self._generate(np.random.default_rng([seed, k]))
            answer = self._solve(params)
            variants = {slug: fn(params) for slug, fn in self._variants.items()}
            if self.hidden_variants(answer, variants) == []:
                return Instance(seed, k, params, answer, variants, self._scales(params))
        raise GenerationError(f"{self.id}: no discriminating instance for seed {seed}")

    @staticmethod
    def hidden_variants(answer, variants) -> list[str]:
        """Slugs of variants that the instance cannot tell apart from the answer or each other.

        A variant must change at least one part clearly (relative difference >= 1e-3) and leave
        every other part either clearly changed or exactly the reference's; two variants must
        differ clearly in at least one part.
        """
        hidden = []
        for slug, variant in variants.items():
            changes = [_change(variant[n], answer[n]) for n in answer]
            if "ambiguous" in changes or "clear" not in changes:
                hidden.append(slug)
        slugs = list(variants)
        for i, first in enumerate(slugs):
            for second in slugs[i + 1:]:
                if not any(differs(variants[first][n], variants[second][n], DISCRIMINATION_RTOL)
                           for n in answer):
                    hidden.extend([first, second])
        return hidden


def _change(variant_part, answer_part) -> str:
    if np.shape(variant_part) != np.shape(answer_part):
        return "clear"
    rel = relative_error(variant_part, answer_part)
    if rel <= UNCHANGED_RTOL:
        return "none"
    return "clear" if rel >= DISCRIMINATION_RTOL else "ambiguous"
