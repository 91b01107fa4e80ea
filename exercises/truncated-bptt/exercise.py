"""truncated-bptt: truncated gradients of the d2l RNN, sliding (keep tau terms) or chunked (detach)."""
import numpy as np

from grader.reference import tanh_rnn, truncation
from grader.reference.checks import directional_checks

WEIGHTS = ("W_xh", "W_hh", "b_h", "W_hq", "b_q")
DATA = ("X", "H0", "Y")
PARTS = ("dW_xh", "dW_hh", "db_h")
OTHER_MODE = {"sliding": "chunked", "chunked": "sliding"}


def generate(rng):
    """T not a multiple of tau, 3 <= tau < T - 1, spectral radius of W_hh 0.9..1.2, mean |h| 0.2..0.8."""
    while True:
        T = int(rng.integers(7, 11))
        tau = int(rng.choice([n for n in (3, 4, 5) if T % n and n + 1 < T]))
        B, h, d, q = int(rng.choice([2, 3])), int(rng.integers(4, 6)), 3, 4  # d != h
        W_hh = rng.standard_normal((h, h))
        W_hh *= rng.uniform(0.9, 1.2) / max(abs(np.linalg.eigvals(W_hh)))
        p = {"W_xh": 0.8 * rng.standard_normal((d, h)) / np.sqrt(d), "W_hh": W_hh,
             "b_h": 0.1 * rng.standard_normal(h), "W_hq": rng.standard_normal((h, q)) / np.sqrt(h),
             "b_q": 0.1 * rng.standard_normal(q), "X": rng.standard_normal((T, B, d)),
             "H0": 0.5 * rng.standard_normal((B, h)), "Y": rng.integers(0, q, size=(T, B)),
             "mode": str(rng.choice(["sliding", "chunked"])), "tau": tau}
        H = tanh_rnn.tanh_forward(*(p[k] for k in WEIGHTS + DATA[:2])).H
        if 0.2 <= np.mean(np.abs(H)) <= 0.8 and np.linalg.norm(p["H0"]) >= 0.2:
            return p


def edge_cases(rng):
    """tau >= T (full BPTT), tau = 1 (each step alone), T = 1, and chunks of 3 in T = 8, so every
    submission meets a chunked instance whose boundaries show (the regular ones may all slide)."""
    def case(T, mode, tau, B=2, h=3, d=3, q=4):
        return {"W_xh": rng.standard_normal((d, h)) / np.sqrt(d), "W_hh": 0.9 * rng.standard_normal((h, h)) / np.sqrt(h),
                "b_h": 0.1 * rng.standard_normal(h), "W_hq": rng.standard_normal((h, q)) / np.sqrt(h),
                "b_q": 0.1 * rng.standard_normal(q), "X": rng.standard_normal((T, B, d)),
                "H0": 0.5 * rng.standard_normal((B, h)), "Y": rng.integers(0, q, size=(T, B)), "mode": mode, "tau": tau}
    return [case(6, "chunked", 9), case(6, "sliding", 1), case(1, "sliding", 3), case(8, "chunked", 3)]


def _truncated(p, mode, tau):
    grads = getattr(truncation, f"{mode}_bptt")(*(p[k] for k in WEIGHTS + DATA), tau=tau)
    return {name: grads[name] for name in PARTS}


def solve(p):
    """dW_xh (d, h), dW_hh (h, h), db_h (h,) under the asked mode and tau."""
    return _truncated(p, p["mode"], p["tau"])


def _shifted_chunks(p):
    """Chunked mode with every boundary one step early (a 1-based slip): chunks start at steps
    1, tau, 2 tau, ... instead of 1, tau + 1, 2 tau + 1, ...; sliding windows have no boundary."""
    if p["mode"] != "chunked":
        return None
    grads = truncation.chunked_bptt(*(p[k] for k in WEIGHTS + DATA), tau=p["tau"], shift=1)
    return {name: grads[name] for name in PARTS}


def _full(p):
    grads = tanh_rnn.tanh_bptt(*(p[k] for k in WEIGHTS + DATA))
    return {name: grads[name] for name in PARTS}


# evaluated on the edge cases too: named from the chunked one when every regular instance slides
EDGE_VARIANTS = ("truncation-off-by-one/shifted-chunks",)

VARIANTS = {
    "truncation-off-by-one/more": lambda p: _truncated(p, p["mode"], p["tau"] + 1),
    "truncation-off-by-one/fewer": lambda p: _truncated(p, p["mode"], p["tau"] - 1),
    "truncation-off-by-one/shifted-chunks": _shifted_chunks,
    "truncation-wrong-mode": lambda p: _truncated(p, OTHER_MODE[p["mode"]], p["tau"]),
    "no-recurrent-term": lambda p: _truncated(p, p["mode"], 1),
    "no-detach": _full,
}


def gradient_checks(p, answer, rng):
    """Central differences of the loss whose earlier states are held constant (detached)."""
    carried = tanh_rnn.tanh_forward(*(p[k] for k in WEIGHTS + DATA[:2])).H_prev
    loss_of = getattr(truncation, f"{p['mode']}_loss")
    args = {k: p[k] for k in WEIGHTS + DATA}

    def loss(**params):
        return loss_of(**params, tau=p["tau"], carried=carried)

    yield from directional_checks(loss, args, {n[1:]: answer[n] for n in PARTS}, rng)
