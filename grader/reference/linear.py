"""The book's linear, bias-free RNN in column convention, eqs (9.7.9)-(9.7.16) / (8.7.9)-(8.7.16)."""
from __future__ import annotations

import numpy as np


def linear_forward(W_hx, W_hh, W_qh, X, h0):
    """Run h_t = W_hx x_t + W_hh h_{t-1}, o_t = W_qh h_t (9.7.9).

    Args:
        W_hx: (h, d); W_hh: (h, h); W_qh: (q, h); X: inputs, shape (T, d); h0: (h,).

    Returns:
        H: hidden states h_1..h_T, shape (T, h); O: outputs, shape (T, q).
    """
    T = X.shape[0]
    H = np.empty((T, W_hh.shape[0]))
    h_prev = h0
    for t in range(T):
        h_prev = W_hx @ X[t] + W_hh @ h_prev
        H[t] = h_prev
    return H, H @ W_qh.T


def squared_loss(O, Y):
    """L = (1/T) sum_t 1/2 ||o_t - y_t||^2 (9.7.10) with O, Y of shape (T, q)."""
    return 0.5 * np.sum((O - Y) ** 2) / O.shape[0]


def output_grads(O, Y):
    """dL/do_t = (o_t - y_t) / T for every t (9.7.11); shape (T, q)."""
    return (O - Y) / O.shape[0]


def hidden_grads(W_hh, W_qh, dL_dO):
    """Total dL/dh_t by the backward recursion (9.7.13)-(9.7.14).

    Args:
        W_hh: (h, h); W_qh: (q, h); dL_dO: upstream gradients dL/do_t, shape (T, q).

    Returns:
        dL_dH: dL/dh_t for t = 1..T, shape (T, h).
    """
    T = dL_dO.shape[0]
    dL_dH = np.empty((T, W_hh.shape[0]))
    g_next = np.zeros(W_hh.shape[0])
    for t in reversed(range(T)):
        g_next = W_qh.T @ dL_dO[t] + W_hh.T @ g_next
        dL_dH[t] = g_next
    return dL_dH


def hidden_grad_closed_form(W_hh, W_qh, dL_dO, t):
    """dL/dh_t from the closed form (9.7.15), written as sum_{s=t}^T (W_hh^T)^(s-t) W_qh^T dL/do_s.

    Args:
        t: the time step, 1-based as in the book (1 <= t <= T).

    Returns:
        dL/dh_t, shape (h,).
    """
    coeffs = closed_form_coefficients(W_hh, W_qh, dL_dO.shape[0], t)
    return np.einsum("shq,sq->h", coeffs, dL_dO[t - 1:])


def closed_form_coefficients(W_hh, W_qh, T, t):
    """The matrices (W_hh^T)^(s-t) W_qh^T for s = t..T, shape (T - t + 1, h, q)."""
    coeffs = np.empty((T - t + 1, W_hh.shape[0], W_qh.shape[0]))
    power = W_qh.T.copy()
    for k in range(T - t + 1):
        coeffs[k] = power
        power = W_hh.T @ power
    return coeffs


def param_grads(X, H, h0, dL_dO, dL_dH):
    """Parameter gradients from the total dL/dh_t, eqs (9.7.12) and (9.7.16).

    Args:
        X: (T, d); H: (T, h); h0: (h,); dL_dO: (T, q); dL_dH: (T, h).

    Returns:
        dict with dW_qh (q, h), dW_hx (h, d), dW_hh (h, h).
    """
    H_prev = np.vstack([h0[None, :], H[:-1]])
    return {
        "dW_qh": dL_dO.T @ H,
        "dW_hx": dL_dH.T @ X,
        "dW_hh": dL_dH.T @ H_prev,
    }


def linear_bptt(W_hx, W_hh, W_qh, X, h0, Y):
    """Full BPTT for the linear RNN with squared loss.

    Returns:
        dict with dW_qh (q, h), dW_hx (h, d), dW_hh (h, h) and dL_dh (T, h).
    """
    H, O = linear_forward(W_hx, W_hh, W_qh, X, h0)
    dL_dO = output_grads(O, Y)
    dL_dH = hidden_grads(W_hh, W_qh, dL_dO)
    return {**param_grads(X, H, h0, dL_dO, dL_dH), "dL_dh": dL_dH}
