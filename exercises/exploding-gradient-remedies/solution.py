"""A learner-style solution of exploding-gradient-remedies, numpy only. MISTAKE selects a
catalogued mistake (None: the right answer); the catalog test runs each through the real sandbox."""
import numpy as np

MISTAKE = None
REMEDIES = ["truncated-bptt", "gated-units", "orthogonal-init", "spectral-constraint", "gradient-norm-penalty",
            "skip-connections-in-time"]


def remedies(W, c):
    if MISTAKE == "spectral-rescale-wrong-norm/frobenius":
        norm = np.linalg.norm(W)
    elif MISTAKE == "spectral-rescale-wrong-norm/radius":
        norm = max(abs(np.linalg.eigvals(W)))
    else:
        norm = np.linalg.norm(W, 2)
    return {"remedies": REMEDIES, "W_rescaled": W * min(1.0, c / norm)}
