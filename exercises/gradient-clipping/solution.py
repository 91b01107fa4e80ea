"""A learner-style solution of gradient-clipping, numpy only. MISTAKE selects a catalogued mistake
(None: the right answer); the catalog test runs each through the real sandbox."""
import numpy as np

MISTAKE = None


def _clip(grads, theta):
    if MISTAKE == "clipping-per-tensor":
        return [g * min(1.0, theta / np.linalg.norm(g)) for g in grads]
    if MISTAKE == "clipping-by-value":
        return [np.clip(g, -theta, theta) for g in grads]
    norm = np.sqrt(sum(float(np.sum(g * g)) for g in grads))
    if MISTAKE == "clipping-always-rescale":
        return [g * theta / norm for g in grads]
    if MISTAKE == "clipping-torch-epsilon":
        return [g * min(1.0, theta / (norm + 1e-6)) for g in grads]
    return [g * theta / norm for g in grads] if norm > theta else [g.copy() for g in grads]


def grad_clipping(theta, dW_a, dU_a, db_a, dW_b, dU_b, db_b):
    answer = {}
    for case, grads in (("a", [dW_a, dU_a, db_a]), ("b", [dW_b, dU_b, db_b])):
        clipped = _clip(grads, theta)
        answer.update({f"dW_{case}": clipped[0], f"dU_{case}": clipped[1], f"db_{case}": clipped[2],
                       f"norm_{case}": float(np.sqrt(sum(float(np.sum(g * g)) for g in grads)))})
    return answer
