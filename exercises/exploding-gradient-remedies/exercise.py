"""exploding-gradient-remedies: exercise 2, remedies besides clipping, and a spectral rescale."""
import json
from pathlib import Path

import numpy as np

OPTIONS = json.loads((Path(__file__).parent / "info.json").read_text())["parts"][0]["options"]
RIGHT = frozenset(o["id"] for o in OPTIONS if o["correct"])


def generate(rng):
    """A non-normal W (n in 3..6) and c between 0.3 and 0.8 of its spectral norm, so the rescale acts
    and the spectral norm, the Frobenius norm and the spectral radius all give other answers."""
    n = int(rng.integers(3, 7))
    W = rng.standard_normal((n, n)) / np.sqrt(n)
    return {"W": W, "c": float(rng.uniform(0.3, 0.8) * np.linalg.norm(W, 2))}


def edge_cases(rng):
    """A W already within c (left alone), and a 1 x 1 W."""
    W = rng.standard_normal((3, 3))
    return [{"W": W, "c": float(2 * np.linalg.norm(W, 2))}, {"W": np.array([[-4.0]]), "c": 1.5}]


def _rescaled(p, norm):
    return {"remedies": RIGHT, "W_rescaled": p["W"] * min(1.0, p["c"] / norm(p["W"]))}


def solve(p):
    """The right remedies, and W * min(1, c / sigma_max(W)) with sigma_max the largest singular value."""
    return _rescaled(p, lambda W: np.linalg.norm(W, 2))


VARIANTS = {
    "spectral-rescale-wrong-norm/frobenius": lambda p: _rescaled(p, np.linalg.norm),
    "spectral-rescale-wrong-norm/radius": lambda p: _rescaled(p, lambda W: max(abs(np.linalg.eigvals(W)))),
}


def gradient_checks(p, answer, rng):
    """The rescaled matrix has spectral norm exactly c (by an SVD of its own), is parallel to W, and
    power iteration on W^T W finds the same sigma_max."""
    W, Wr = p["W"], answer["W_rescaled"]
    yield "sigma_max(W_rescaled) = c", float(np.linalg.svd(Wr, compute_uv=False)[0]), p["c"]
    ratio = Wr / W
    yield "W_rescaled is parallel to W", float(np.ptp(ratio)), 0.0, 1e-12
    v = rng.standard_normal(W.shape[1])
    for _ in range(2000):
        v = W.T @ (W @ v)
        v /= np.linalg.norm(v)
    yield "sigma_max by power iteration", float(np.linalg.norm(W @ v)), float(np.linalg.norm(W, 2)), 1e-8
