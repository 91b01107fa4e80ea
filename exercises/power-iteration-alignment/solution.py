"""A learner-style solution of power-iteration-alignment, numpy only. MISTAKE selects a catalogued
mistake (None: the right answer); the catalog test runs each through the real sandbox."""
import numpy as np

MISTAKE = None


def _sin(M, x, lam, V, k):
    if MISTAKE == "elementwise-matrix-power":
        y = (M ** k) @ x
        v1 = V[:, 0]
        return np.linalg.norm(y - (y @ v1) * v1) / np.linalg.norm(y)
    c = V.T @ x
    u = c * (lam / lam[0]) ** k
    return np.linalg.norm(u[1:]) / np.linalg.norm(u)


def alignment(M, x, ks, eps):
    lam, V = np.linalg.eigh(M)
    order = np.argsort(-lam) if MISTAKE == "eigen-sorted-by-value" else np.lexsort((-lam, -np.abs(lam)))
    lam, V = lam[order], V[:, order]
    c = V.T @ x
    r = abs(lam[1]) / abs(lam[0])
    exponent = 2 if MISTAKE == "alignment-squared-rate" else 1
    sin = [_sin(M, x, lam, V, int(k)) for k in ks]
    bound = [r ** (exponent * int(k)) * np.linalg.norm(c[1:]) / abs(c[0]) for k in ks]
    # k_min always by the correct definition: the mistakes above concern sin and the bound
    true_lam, true_V = np.linalg.eigh(M)
    true_order = np.lexsort((-true_lam, -np.abs(true_lam)))
    true_lam, true_V = true_lam[true_order], true_V[:, true_order]
    true_c = true_V.T @ x
    k = 1
    while True:
        u = true_c * (true_lam / true_lam[0]) ** k
        if np.linalg.norm(u[1:]) / np.linalg.norm(u) <= eps:
            break
        k += 1
    return {"sin_theta": np.array(sin), "k_min": k, "bound": np.array(bound)}
