"""Exercise 1 of the section: eigenvalues of M^k and the alignment of M^k x with v_1, computed
from the eigendecomposition of M (never of M^k, whose small eigenvalues drown in rounding)."""
from __future__ import annotations

import numpy as np


def symmetric_with_eigenvalues(rng: np.random.Generator, eigenvalues: np.ndarray) -> np.ndarray:
    """V diag(eigenvalues) V^T with V a random orthogonal matrix; exactly symmetric, shape (n, n)."""
    V, _ = np.linalg.qr(rng.standard_normal((len(eigenvalues), len(eigenvalues))))
    M = (V * eigenvalues) @ V.T
    return (M + M.T) / 2


def by_modulus(values: np.ndarray) -> np.ndarray:
    """Sorted by |value| descending, ties broken by value descending."""
    return values[np.lexsort((-values, -np.abs(values)))]


def power_eigenvalues(M: np.ndarray, k: int) -> np.ndarray:
    """Eigenvalues of M^k: lambda_i^k from eigh(M), sorted by modulus descending; shape (n,)."""
    return by_modulus(np.linalg.eigvalsh(M) ** k)


def eigen_coordinates(M: np.ndarray, x: np.ndarray):
    """(lambda, c): eigenvalues by modulus descending and x's coordinates c = V^T x in that order."""
    lam, V = np.linalg.eigh(M)
    order = np.lexsort((-lam, -np.abs(lam)))
    return lam[order], V[:, order].T @ x


def alignment_sin(M: np.ndarray, x: np.ndarray, k: int) -> float:
    """sin of the angle between M^k x and the line of v_1, from ratios (lambda_i / lambda_1)^k.

    No 1 - cos^2 cancellation and no overflow: the components are c_i (lambda_i/lambda_1)^k.
    """
    lam, c = eigen_coordinates(M, x)
    u = c * (lam / lam[0]) ** k
    return float(np.linalg.norm(u[1:]) / np.linalg.norm(u))


def alignment_bound(M: np.ndarray, x: np.ndarray, k: int) -> float:
    """r^k ||x_perp|| / |c_1| with r = |lambda_2| / |lambda_1|: an upper bound on tan, hence sin."""
    lam, c = eigen_coordinates(M, x)
    r = abs(lam[1]) / abs(lam[0])
    return float(r ** k * np.linalg.norm(c[1:]) / abs(c[0]))


def smallest_aligned_k(M: np.ndarray, x: np.ndarray, eps: float, k_max: int = 100_000) -> int:
    """The smallest k >= 1 with sin theta_k <= eps (sin theta_k decreases when |lambda_1| > |lambda_2|)."""
    for k in range(1, k_max + 1):
        if alignment_sin(M, x, k) <= eps:
            return k
    raise ValueError("no k up to k_max reaches eps")
