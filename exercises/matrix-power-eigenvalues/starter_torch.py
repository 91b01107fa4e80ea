"""Starter for matrix-power-eigenvalues in PyTorch:
tensors and operations are allowed, autograd is not (derive the gradients)."""
import torch


def power_eigenvalues(M, k):
    """The eigenvalues of M^k for a symmetric M, sorted by modulus, largest first.

    Args:
        M: symmetric, shape (n, n); k: a positive integer.

    Returns:
        dict with eigenvalues, shape (n,).
    """
    M = torch.as_tensor(M)
    # TODO: use the eigenvalues of M (computing those of M^k loses the small ones to rounding).
    return {"eigenvalues": torch.zeros(M.shape[0], dtype=torch.float64)}
