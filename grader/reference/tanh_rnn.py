"""The d2l scratch RNN in code convention (row vectors, tanh, biases, batch, mean cross-entropy).

H_t = tanh(X_t W_xh + H_{t-1} W_hh + b_h), O_t = H_t W_hq + b_q, L = mean over the B*T tokens of
the cross-entropy of softmax(O_t) against the integer targets Y. Every gradient here is the
transpose of its book-convention twin (section 1.4 of the d2l notes).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np


@dataclass(frozen=True)
class Forward:
    """Cached forward pass. A, H: (T, B, h) pre-activations and states; O: (T, B, q); H0: (B, h)."""

    A: np.ndarray
    H: np.ndarray
    O: np.ndarray
    H0: np.ndarray

    @property
    def H_prev(self):
        """H_{t-1} for t = 1..T, shape (T, B, h)."""
        return np.concatenate([self.H0[None], self.H[:-1]], axis=0)


def tanh_forward(W_xh, W_hh, b_h, W_hq, b_q, X, H0):
    """Forward pass; X: (T, B, d), H0: (B, h). Returns a Forward."""
    T, B, _ = X.shape
    A = np.empty((T, B, W_hh.shape[0]))
    H = np.empty_like(A)
    H_prev = H0
    for t in range(T):
        A[t] = X[t] @ W_xh + H_prev @ W_hh + b_h
        H_prev = H[t] = np.tanh(A[t])
    return Forward(A=A, H=H, O=H @ W_hq + b_q, H0=H0)


def softmax(O):
    """Softmax over the last axis, stabilized by the row maximum."""
    Z = np.exp(O - O.max(axis=-1, keepdims=True))
    return Z / Z.sum(axis=-1, keepdims=True)


def cross_entropy(O, Y):
    """Mean cross-entropy over the T*B tokens; O: (T, B, q), Y: integer targets (T, B)."""
    shifted = O - O.max(axis=-1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    return -np.take_along_axis(log_p, Y[..., None], axis=-1).mean()


def output_grads(O, Y):
    """dL/dO_t = (softmax(O_t) - onehot(Y_t)) / (B*T), shape (T, B, q)."""
    dO = softmax(O)
    np.put_along_axis(dO, Y[..., None], np.take_along_axis(dO, Y[..., None], axis=-1) - 1.0, axis=-1)
    return dO / (Y.shape[0] * Y.shape[1])


@dataclass(frozen=True)
class BackwardRule:
    """How the backward pass is taken. The defaults are the correct rule; misconception variants
    change one knob each so that every wrong variant shares the reference's code path.

    tanh_grad(fwd, t) gives the factor multiplying dL/dH_t to get dL/dA_t, shape (B, h).
    recurrence: "transpose" (dL/dH_{t-1} += Delta_t W_hh^T), "no-transpose" or "none".
    output_term: whether dL/dH_t receives the output gradient at every t (else only at T).
    dW_hh_state: "prev" pairs Delta_t with H_{t-1}; "current" with H_t.
    skip_first_in_dW_hh: drop the t = 1 term (the one with H0) from dW_hh.
    cut_after: steps t (0-based) whose Delta is not passed on to t - 1 (chunked truncation).
    """

    tanh_grad: Callable = staticmethod(lambda fwd, t: 1.0 - fwd.H[t] ** 2)
    recurrence: str = "transpose"
    output_term: bool = True
    dW_hh_state: str = "prev"
    skip_first_in_dW_hh: bool = False
    cut_after: frozenset = frozenset()


def tanh_backward(W_hh, W_hq, X, fwd, dO, rule=BackwardRule()):
    """Reverse-mode BPTT through a cached forward pass.

    Args:
        W_hh: (h, h); W_hq: (h, q); X: (T, B, d); fwd: Forward; dO: dL/dO_t, shape (T, B, q).

    Returns:
        dict with dW_xh (d, h), dW_hh (h, h), db_h (h,), dW_hq (h, q), db_q (q,), dH0 (B, h)
        and dL_dH (T, B, h), the total gradients dL/dH_t.
    """
    T = X.shape[0]
    W_rec = {"transpose": W_hh.T, "no-transpose": W_hh, "none": None}[rule.recurrence]
    dH_out = dO @ W_hq.T
    Delta = np.empty_like(fwd.H)
    dL_dH = np.empty_like(fwd.H)
    carry = np.zeros_like(fwd.H0)
    for t in reversed(range(T)):
        local = dH_out[t] if (rule.output_term or t == T - 1) else 0.0
        dL_dH[t] = local + carry
        Delta[t] = dL_dH[t] * rule.tanh_grad(fwd, t)
        passes = W_rec is not None and t not in rule.cut_after
        carry = Delta[t] @ W_rec if passes else np.zeros_like(fwd.H0)
    # dL/dH0 is the one recurrent step every rule takes (even "none" keeps the t = 1 Jacobian)
    dH0 = Delta[0] @ (W_hh if rule.recurrence == "no-transpose" else W_hh.T)
    states = fwd.H_prev if rule.dW_hh_state == "prev" else fwd.H
    first = 1 if rule.skip_first_in_dW_hh else 0
    return {
        "dW_xh": np.einsum("tbd,tbh->dh", X, Delta),
        "dW_hh": np.einsum("tbi,tbj->ij", states[first:], Delta[first:]),
        "db_h": Delta.sum(axis=(0, 1)),
        "dW_hq": np.einsum("tbh,tbq->hq", fwd.H, dO),
        "db_q": dO.sum(axis=(0, 1)),
        "dH0": dH0,
        "dL_dH": dL_dH,
    }


def tanh_bptt(W_xh, W_hh, b_h, W_hq, b_q, X, H0, Y, rule=BackwardRule()):
    """Full BPTT of the mean cross-entropy; see tanh_backward for the returned gradients."""
    fwd = tanh_forward(W_xh, W_hh, b_h, W_hq, b_q, X, H0)
    return tanh_backward(W_hh, W_hq, X, fwd, output_grads(fwd.O, Y), rule)
