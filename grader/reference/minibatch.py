"""d2l 0.17's train_epoch_ch8 over K sequential minibatches, without parameter updates.

Each minibatch starts from the previous one's final state: detached (d2l, sequential
partitioning), not detached (gradients flow into earlier minibatches), or reset to zeros (the
use_random_iter branch). The loss is the mean cross-entropy over the minibatch's B*T tokens, then
backward, then grad_clipping(theta) over all parameters.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from grader.reference import clipping
from grader.reference.tanh_rnn import BackwardRule, cross_entropy, output_grads, tanh_backward, tanh_forward

WEIGHTS = ("W_xh", "W_hh", "b_h", "W_hq", "b_q")


@dataclass(frozen=True)
class Step:
    """One minibatch: its loss, its clipped gradients (dW_xh ... db_q) and the state it passes on (B, h)."""

    loss: float
    grads: dict
    state: np.ndarray


def train_epoch(weights: dict, X: np.ndarray, Y: np.ndarray, theta: float, state: str = "detach",
                rule: BackwardRule = BackwardRule(), clip=clipping.grad_clipping) -> list[Step]:
    """Run K minibatches. X: (K, T, B, d); Y: (K, T, B). state: "detach", "keep" or "reset"."""
    K, T, B, _ = X.shape
    w = [weights[k] for k in WEIGHTS]
    H = np.zeros((B, weights["W_hh"].shape[0]))
    steps = []
    for k in range(K):
        start = np.zeros_like(H) if state == "reset" else H
        if state == "keep":  # the graph reaches back to the epoch's first step
            X_all, Y_all = X[:k + 1].reshape(-1, *X.shape[2:]), Y[:k + 1].reshape(-1, B)
            fwd = tanh_forward(*w, X_all, np.zeros_like(H))
            dO = np.zeros_like(fwd.O)
            dO[-T:] = output_grads(fwd.O[-T:], Y_all[-T:])
            grads = tanh_backward(weights["W_hh"], weights["W_hq"], X_all, fwd, dO, rule)
            O_last, H_last = fwd.O[-T:], fwd.H[-1]
        else:
            fwd = tanh_forward(*w, X[k], start)
            grads = tanh_backward(weights["W_hh"], weights["W_hq"], X[k], fwd, output_grads(fwd.O, Y[k]), rule)
            O_last, H_last = fwd.O, fwd.H[-1]
        names = ["d" + n for n in WEIGHTS]
        clipped, _ = clip([grads[n] for n in names], theta)
        steps.append(Step(loss=float(cross_entropy(O_last, Y[k])), grads=dict(zip(names, clipped)), state=H_last))
        H = H_last
    return steps
