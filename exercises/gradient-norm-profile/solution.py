"""A learner-style solution of gradient-norm-profile, numpy only. MISTAKE selects a catalogued
mistake (None: the right answer); the catalog test runs each through the real sandbox."""
import numpy as np

MISTAKE = None


def norm_profile(W_hh, W_qh, g, T):
    back = W_hh if MISTAKE == "missing-transpose-in-recurrence" else W_hh.T
    norms = np.zeros(T)
    v = W_qh.T @ g
    for t in range(T - 1, -1, -1):
        norms[t] = np.linalg.norm(v)
        v = back @ v
    if MISTAKE == "growth-time-reversed":
        norms = norms[::-1]
    growth = (norms[0] / norms[-1]) ** (1.0 / (T - 1))
    return {"norms": norms, "growth": float(growth), "regime": "exploding" if growth > 1 else "vanishing"}
