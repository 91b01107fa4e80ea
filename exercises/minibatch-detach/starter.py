"""Starter for minibatch-detach (d2l code convention: row vectors, time-major minibatches)."""
import numpy as np


def last_minibatch(W_xh, W_hh, b_h, W_hq, b_q, X, Y, theta):
    """train_epoch_ch8 over K sequential minibatches without updates; report the last one.

    Args:
        W_xh: (d, h); W_hh: (h, h); b_h: (h,); W_hq: (h, q); b_q: (q,);
        X: minibatch inputs, shape (K, T, B, d); Y: integer targets, shape (K, T, B); theta: clipping threshold.

    Returns:
        dict with loss (a float), the clipped dW_xh, dW_hh, db_h, dW_hq, db_q, and state (B, h).
    """
    B, h = X.shape[2], W_hh.shape[0]
    # TODO: carry the state over the minibatches, detached; backward of the last; clip.
    return {"loss": 0.0, "dW_xh": np.zeros_like(W_xh), "dW_hh": np.zeros_like(W_hh), "db_h": np.zeros_like(b_h),
            "dW_hq": np.zeros_like(W_hq), "db_q": np.zeros_like(b_q), "state": np.zeros((B, h))}
