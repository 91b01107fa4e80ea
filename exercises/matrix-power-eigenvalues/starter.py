"""Starter for matrix-power-eigenvalues."""
import numpy as np


def power_eigenvalues(M, k):
    """The eigenvalues of M^k for a symmetric M, sorted by modulus, largest first.

    Args:
        M: symmetric, shape (n, n); k: a positive integer.

    Returns:
        dict with eigenvalues, shape (n,).
    """
    # TODO: use the eigenvalues of M (computing those of M^k loses the small ones to rounding).
    return {"eigenvalues": np.zeros(M.shape[0])}
