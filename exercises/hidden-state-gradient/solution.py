"""A learner-style solution of hidden-state-gradient, numpy only. MISTAKE selects a catalogued
mistake (None: the right answer); the catalog test runs each through the real sandbox."""
import numpy as np

MISTAKE = None


def hidden_state_gradient(W_hh, W_qh, dL_do, t):
    T = dL_do.shape[0]
    W = W_hh if MISTAKE == "missing-transpose-in-recurrence" else W_hh.T
    coefficients = []
    for s in range(t, T + 1):
        power = {"closed-form-mispaired": T - s, "closed-form-power-off-by-one": s - t + 1}.get(MISTAKE, s - t)
        coefficients.append(np.linalg.matrix_power(W, power) @ W_qh.T)
    coefficients = np.stack(coefficients)
    dL_dh_t = sum(c @ dL_do[s - 1] for c, s in zip(coefficients, range(t, T + 1)))
    if MISTAKE == "transposed-convention":
        coefficients = coefficients.transpose(0, 2, 1)
    return {"dL_dh_t": dL_dh_t, "coefficients": coefficients}
