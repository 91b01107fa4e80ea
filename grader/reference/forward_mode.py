"""Forward-mode accumulation (real-time recurrent learning), the recursion (9.7.4)-(9.7.7)."""
from __future__ import annotations

import numpy as np


def accumulate(b, c):
    """Run a_t = b_t + c_t a_{t-1} from a_0 = 0, the lemma (9.7.5).

    Args:
        b: partials df/dw at each step, shape (T, h, p); c: Jacobians df/dh_{t-1}, shape (T, h, h).

    Returns:
        a: total derivatives dh_t/dw, shape (T, h, p).
    """
    a = np.empty_like(b)
    a_prev = np.zeros_like(b[0])
    for t in range(b.shape[0]):
        a_prev = a[t] = b[t] + c[t] @ a_prev
    return a


def scalar_rnn_forward(w, A, U, X, h0):
    """h_t = tanh(w A h_{t-1} + U x_t); A: (h, h), U: (h, d), X: (T, d), h0: (h,). Returns H (T, h)."""
    H = np.empty((X.shape[0], A.shape[0]))
    h_prev = h0
    for t in range(X.shape[0]):
        h_prev = H[t] = np.tanh(w * (A @ h_prev) + U @ X[t])
    return H


def scalar_rnn_partials(w, A, H, h0):
    """b_t = (1 - h_t^2) * (A h_{t-1}), shape (T, h, 1); c_t = diag(1 - h_t^2) w A, shape (T, h, h)."""
    H_prev = np.vstack([h0[None], H[:-1]])
    slope = 1.0 - H ** 2
    b = (slope * (H_prev @ A.T))[:, :, None]
    c = slope[:, :, None] * (w * A)[None]
    return b, c


def scalar_rnn_loss(w, A, U, v, X, y, h0):
    """L = (1/T) sum_t 1/2 (v . h_t - y_t)^2 for the scalar-parameter RNN."""
    o = scalar_rnn_forward(w, A, U, X, h0) @ v
    return 0.5 * np.mean((o - y) ** 2)


def scalar_rnn_gradient(w, A, U, v, X, y, h0):
    """Forward mode for the scalar parameter w.

    Returns:
        a: dh_t/dw for t = 1..T, shape (T, h); dL_dw: float.
    """
    H = scalar_rnn_forward(w, A, U, X, h0)
    b, c = scalar_rnn_partials(w, A, H, h0)
    a = accumulate(b, c)[:, :, 0]
    residual = H @ v - y
    return a, float(np.mean(residual * (a @ v)))
