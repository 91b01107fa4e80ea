"""Starter for power-iteration-alignment in PyTorch:
tensors and operations are allowed, autograd is not (derive the gradients)."""
import torch


def alignment(M, x, ks, eps):
    """How fast M^k x aligns with v_1, the eigenvector of the eigenvalue of largest modulus.

    Args:
        M: symmetric, (n, n); x: (n,); ks: three integers, (3,); eps: a small positive number.

    Returns:
        dict with sin_theta (3,), k_min (an integer) and bound (3,).
    """
    M, x = (torch.as_tensor(a) for a in (M, x))
    # TODO: eigen-coordinates of x, then the ratios (lambda_i / lambda_1)^k.
    return {"sin_theta": torch.zeros(len(ks), dtype=torch.float64), "k_min": 1,
            "bound": torch.zeros(len(ks), dtype=torch.float64)}
