"""Starter for power-iteration-alignment."""
import numpy as np


def alignment(M, x, ks, eps):
    """How fast M^k x aligns with v_1, the eigenvector of the eigenvalue of largest modulus.

    Args:
        M: symmetric, (n, n); x: (n,); ks: three integers, (3,); eps: a small positive number.

    Returns:
        dict with sin_theta (3,), k_min (an integer) and bound (3,).
    """
    # TODO: eigen-coordinates of x, then the ratios (lambda_i / lambda_1)^k.
    return {"sin_theta": np.zeros(len(ks)), "k_min": 1, "bound": np.zeros(len(ks))}
