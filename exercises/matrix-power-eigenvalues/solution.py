"""A learner-style solution of matrix-power-eigenvalues, numpy only. MISTAKE selects a catalogued
mistake (None: the right answer); the catalog test runs each through the real sandbox."""
import numpy as np

MISTAKE = None


def power_eigenvalues(M, k):
    if MISTAKE == "elementwise-matrix-power":
        values = np.linalg.eigvalsh(M ** k)
    else:
        lam = np.linalg.eigvalsh(M)
        values = {"eigen-k-times-lambda": k * lam, "eigen-sign-lost": np.abs(lam) ** k}.get(MISTAKE, lam ** k)
    if MISTAKE == "eigen-sorted-by-value/descending":
        return {"eigenvalues": np.sort(values)[::-1]}
    if MISTAKE == "eigen-sorted-by-value/ascending":
        return {"eigenvalues": np.sort(values)}
    return {"eigenvalues": values[np.lexsort((-values, -np.abs(values)))]}
