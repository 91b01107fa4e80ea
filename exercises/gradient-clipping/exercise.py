"""gradient-clipping: d2l's grad_clipping on two sets of gradients, one above theta, one below."""
import numpy as np

from grader.reference import clipping

NAMES = ("dW", "dU", "db")


def generate(rng):
    """Set a: global norm 2..5 theta, db below theta, some entry above theta. Set b: norm 0.3..0.9 theta."""
    while True:
        m, n = int(rng.integers(2, 5)), int(rng.integers(2, 5))
        theta = float(rng.uniform(0.5, 2.0))
        shapes = ((m, n), (n, n), (n,))
        a = [rng.standard_normal(s) for s in shapes]
        a[2] *= 0.2 * theta / np.linalg.norm(a[2])
        scale = rng.uniform(2.0, 5.0) * theta / clipping.global_norm(a)
        a = [a[0] * scale, a[1] * scale, a[2]]
        b = [rng.standard_normal(s) for s in shapes]
        b_scale = rng.uniform(0.3, 0.9) * theta / clipping.global_norm(b)
        b = [g * b_scale for g in b]
        if clipping.global_norm(a) > 2 * theta and max(np.abs(a[0]).max(), np.abs(a[1]).max()) > theta:
            return {"theta": theta, **{f"{k}_a": g for k, g in zip(NAMES, a)}, **{f"{k}_b": g for k, g in zip(NAMES, b)}}


def edge_cases(rng):
    """All-zero gradients (no division by zero), a norm exactly at theta (left alone), 1-element tensors."""
    zeros = {"theta": 1.0, **{f"{k}_{c}": np.zeros(s) for c in "ab" for k, s in zip(NAMES, ((2, 3), (3, 3), (3,)))}}
    at_theta = {"theta": 2.0, **{f"{k}_{c}": np.full(s, 2.0 / np.sqrt(16)) for c in "ab"
                                 for k, s in zip(NAMES, ((2, 3), (3, 3), (1,)))}}
    tiny = {"theta": 0.5, **{f"{k}_{c}": rng.standard_normal(s) for c in "ab" for k, s in zip(NAMES, ((1, 1), (1, 1), (1,)))}}
    return [zeros, at_theta, tiny]


def _clip_each(p, clip):
    answer = {}
    for case in ("a", "b"):
        grads = [p[f"{k}_{case}"] for k in NAMES]
        clipped = clip(grads, p["theta"])
        answer.update({f"{k}_{case}": g for k, g in zip(NAMES, clipped)})
        answer[f"norm_{case}"] = np.float64(clipping.global_norm(grads))
    return {name: answer[name] for name in _ORDER}


_ORDER = ("dW_a", "dU_a", "db_a", "norm_a", "dW_b", "dU_b", "db_b", "norm_b")


def solve(p):
    """The clipped dW, dU, db and the pre-clip global norm of each set (a and b)."""
    return _clip_each(p, lambda grads, theta: clipping.grad_clipping(grads, theta)[0])


def _per_tensor(grads, theta):
    return [clipping.grad_clipping([g], theta)[0][0] for g in grads]


VARIANTS = {
    "clipping-per-tensor": lambda p: _clip_each(p, _per_tensor),
    "clipping-by-value": lambda p: _clip_each(p, lambda grads, theta: [np.clip(g, -theta, theta) for g in grads]),
    "clipping-always-rescale": lambda p: _clip_each(
        p, lambda grads, theta: [g * theta / clipping.global_norm(grads) for g in grads]),
    "clipping-torch-epsilon": lambda p: _clip_each(
        p, lambda grads, theta: clipping.grad_clipping(grads, theta, eps=1e-6)[0]),
}


def gradient_checks(p, answer, rng):
    """An independent formulation: concatenate every gradient into one vector, scale it by
    min(1, theta / ||g||), split it back; and the clipped norm is theta for set a."""
    for case in ("a", "b"):
        grads = [p[f"{k}_{case}"] for k in NAMES]
        flat = np.concatenate([g.ravel() for g in grads])
        flat = flat * min(1.0, p["theta"] / np.linalg.norm(flat))
        pieces = np.split(flat, np.cumsum([g.size for g in grads])[:-1])
        for name, piece in zip(NAMES, pieces):
            for i, (x, y) in enumerate(zip(piece, answer[f"{name}_{case}"].ravel())):
                yield f"{name}_{case}[{i}]", float(x), float(y)
    clipped = [answer[f"{k}_a"] for k in NAMES]
    yield "clipped norm of set a", clipping.global_norm(clipped), p["theta"]
