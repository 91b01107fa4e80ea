"""Starter for tanh-rnn-bptt (d2l code convention: row vectors, time-major arrays) in PyTorch:
tensors and operations are allowed, autograd is not (derive the gradients)."""
import torch


def rnn_bptt(W_xh, W_hh, b_h, W_hq, b_q, X, H0, Y):
    """Gradients of the mean cross-entropy over all B*T tokens of the d2l scratch RNN.

    H_t = tanh(X_t W_xh + H_{t-1} W_hh + b_h), O_t = H_t W_hq + b_q.

    Args:
        W_xh: (d, h); W_hh: (h, h); b_h: (h,); W_hq: (h, q); b_q: (q,);
        X: inputs, shape (T, B, d); H0: initial state, shape (B, h); Y: integer targets, shape (T, B).

    Returns:
        dict with dW_xh (d, h), dW_hh (h, h), db_h (h,), dW_hq (h, q), db_q (q,), dH0 (B, h).
    """
    W_xh, W_hh, b_h, W_hq, b_q, X, H0, Y = (torch.as_tensor(a) for a in (W_xh, W_hh, b_h, W_hq, b_q, X, H0, Y))
    # TODO: forward pass keeping every H_t, then the backward pass from t = T down to 1.
    return {"dW_xh": torch.zeros_like(W_xh), "dW_hh": torch.zeros_like(W_hh), "db_h": torch.zeros_like(b_h),
            "dW_hq": torch.zeros_like(W_hq), "db_q": torch.zeros_like(b_q), "dH0": torch.zeros_like(H0)}
