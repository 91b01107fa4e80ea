"""Finite-difference checks the exercises use to prove their references (autograd's check_vjp idea)."""
from __future__ import annotations

import numpy as np

FD_STEP = 1e-6


def directional_checks(loss, params: dict, grads: dict, rng: np.random.Generator, directions: int = 2):
    """Yield (label, central difference, analytic) of loss along random directions, per parameter.

    Args:
        loss: callable taking **params and returning a float.
        grads: parameter name -> the claimed gradient, with that parameter's shape.
    """
    for name, grad in grads.items():
        for k in range(directions):
            u = rng.standard_normal(np.shape(params[name]))
            plus = {**params, name: params[name] + FD_STEP * u}
            minus = {**params, name: params[name] - FD_STEP * u}
            yield f"{name}[{k}]", (loss(**plus) - loss(**minus)) / (2 * FD_STEP), float(np.sum(u * grad))
