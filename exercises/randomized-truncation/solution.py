"""A learner-style solution of randomized-truncation, numpy only. MISTAKE selects a catalogued
mistake (None: the right answer); the catalog test runs each through the real sandbox."""
import numpy as np

MISTAKE = None
SAMPLES = 4000


def randomized_truncation(b, c, pi, xi, seed):
    T = len(b)
    keep = 1.0 - pi if MISTAKE in ("randomized-pi-swapped/everywhere", "randomized-pi-swapped/keep-probability") else pi
    weight = np.ones(T) if MISTAKE == "randomized-no-reweighting" else \
        1.0 / pi if MISTAKE == "randomized-pi-swapped/keep-probability" else 1.0 / keep
    if MISTAKE == "randomized-no-reweighting":
        xi = (xi > 0).astype(float)
    elif MISTAKE == "randomized-pi-swapped/everywhere":
        xi = np.where(xi > 0, 1.0 / keep, 0.0)
    if MISTAKE == "no-recurrent-term":
        return {"z_T": float(b[-1]), "mean": float(b[-1]), "second_moment": float(b[-1] ** 2),
                "samples": np.full(SAMPLES, b[-1])}
    z = m = s = 0.0
    for t in range(T):
        e1, e2 = keep[t] * weight[t], keep[t] * weight[t] ** 2
        z = b[t] + xi[t] * c[t] * z
        m, s = b[t] + e1 * c[t] * m, b[t] ** 2 + 2 * b[t] * c[t] * e1 * m + c[t] ** 2 * e2 * s
    if MISTAKE == "randomized-not-recursive":
        a_prev = 0.0
        for t in range(T - 1):
            a_prev = b[t] + c[t] * a_prev
        z = b[-1] + xi[-1] * c[-1] * a_prev
        m = b[-1] + c[-1] * a_prev
        s = b[-1] ** 2 + 2 * b[-1] * c[-1] * a_prev + c[-1] ** 2 * a_prev ** 2 / pi[-1]
    rng = np.random.default_rng(seed)
    draws = np.where(rng.random((SAMPLES, T)) < keep, weight, 0.0)
    samples = np.zeros(SAMPLES)
    for t in range(T):
        samples = b[t] + draws[:, t] * c[t] * samples
    return {"z_T": float(z), "mean": float(m), "second_moment": float(s), "samples": samples}
