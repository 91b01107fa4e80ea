"""Truncated BPTT of the d2l scratch RNN: sliding windows (keep tau terms) and chunks (d2l detach)."""
from __future__ import annotations

import numpy as np

from grader.reference.tanh_rnn import BackwardRule, cross_entropy, output_grads, tanh_backward, tanh_forward

PARAM_GRADS = ("dW_xh", "dW_hh", "db_h", "dW_hq", "db_q")


def chunked_bptt(W_xh, W_hh, b_h, W_hq, b_q, X, H0, Y, tau, shift=0):
    """Gradients with the state detached every tau steps, state values carried (d2l's
    train_epoch_ch8 over one stream cut into chunks of tau; the last chunk may be shorter).

    shift: every boundary after the first chunk moved that many steps earlier (a mistake's variant).
    Returns the parameter gradients dW_xh, dW_hh, db_h, dW_hq, db_q.
    """
    fwd = tanh_forward(W_xh, W_hh, b_h, W_hq, b_q, X, H0)
    chunk_starts = frozenset({0} | {start - shift for start in range(tau, X.shape[0], tau)})
    grads = tanh_backward(W_hh, W_hq, X, fwd, output_grads(fwd.O, Y), BackwardRule(cut_after=chunk_starts))
    return {name: grads[name] for name in PARAM_GRADS}


def sliding_bptt(W_xh, W_hh, b_h, W_hq, b_q, X, H0, Y, tau):
    """Gradients where the loss at step s reaches back over tau steps: s, s-1, ..., s-tau+1.

    This is the sum (9.7.7) truncated to its last tau terms for every t (tau = 1: local only).
    Returns the parameter gradients dW_xh, dW_hh, db_h, dW_hq, db_q.
    """
    T = X.shape[0]
    fwd = tanh_forward(W_xh, W_hh, b_h, W_hq, b_q, X, H0)
    dO = output_grads(fwd.O, Y)
    total = {name: 0.0 for name in PARAM_GRADS}
    for s in range(T):
        only_s = np.zeros_like(dO)
        only_s[s] = dO[s]
        cut = frozenset({max(s - tau + 1, 0)})
        grads = tanh_backward(W_hh, W_hq, X, fwd, only_s, BackwardRule(cut_after=cut))
        for name in PARAM_GRADS:
            total[name] = total[name] + grads[name]
    return total


def chunked_loss(W_xh, W_hh, b_h, W_hq, b_q, X, H0, Y, tau, carried):
    """The mean cross-entropy with each chunk of tau steps started from a constant state.

    carried: the detached state values entering each step, shape (T, B, h) (H_{t-1} of the full
    forward pass). Differentiating this loss gives chunked_bptt: an independent formulation.
    """
    T = X.shape[0]
    total = 0.0
    for start in range(0, T, tau):
        chunk = tanh_forward(W_xh, W_hh, b_h, W_hq, b_q, X[start:start + tau], carried[start])
        total += cross_entropy(chunk.O, Y[start:start + tau]) * chunk.O.shape[0] / T
    return total


def sliding_loss(W_xh, W_hh, b_h, W_hq, b_q, X, H0, Y, tau, carried):
    """The mean cross-entropy where the loss at step s sees a constant state at step s - tau."""
    T = X.shape[0]
    total = 0.0
    for s in range(T):
        start = max(s - tau + 1, 0)
        window = tanh_forward(W_xh, W_hh, b_h, W_hq, b_q, X[start:s + 1], carried[start])
        total += cross_entropy(window.O[-1:], Y[s:s + 1]) / T
    return total
