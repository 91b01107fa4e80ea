"""d2l's grad_clipping: one global L2 norm over all gradients, rescaled by min(1, theta / norm)."""
from __future__ import annotations

import numpy as np


def global_norm(grads: list[np.ndarray]) -> float:
    return float(np.sqrt(sum(np.sum(g ** 2) for g in grads)))


def grad_clipping(grads: list[np.ndarray], theta: float, eps: float = 0.0):
    """d2l semantics (eps = 0): unchanged when the norm is at most theta, else scaled to norm theta.

    eps = 1e-6 gives PyTorch's clip_grad_norm_, which scales by min(1, theta / (norm + eps)).

    Returns:
        (the clipped gradients, same shapes; the global norm before clipping).
    """
    norm = global_norm(grads)
    scale = min(1.0, theta / (norm + eps)) if eps else (theta / norm if norm > theta else 1.0)
    return [g * scale for g in grads], norm
