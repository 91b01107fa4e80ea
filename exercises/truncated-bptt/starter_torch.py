"""Starter for truncated-bptt (d2l code convention: row vectors, time-major arrays) in PyTorch:
tensors and operations are allowed, autograd is not (derive the gradients)."""
import torch


def truncated_bptt(W_xh, W_hh, b_h, W_hq, b_q, X, H0, Y, mode, tau):
    """Truncated gradients of the mean cross-entropy of the d2l scratch RNN.

    Args:
        W_xh: (d, h); W_hh: (h, h); b_h: (h,); W_hq: (h, q); b_q: (q,); X: (T, B, d);
        H0: (B, h); Y: integer targets (T, B); mode: "sliding" or "chunked"; tau: the window.

    Returns:
        dict with dW_xh (d, h), dW_hh (h, h), db_h (h,).
    """
    W_xh, W_hh, b_h, W_hq, b_q, X, H0, Y = (torch.as_tensor(a) for a in (W_xh, W_hh, b_h, W_hq, b_q, X, H0, Y))
    # TODO: forward pass; then, per mode, stop the backward recursion where the state is detached.
    return {"dW_xh": torch.zeros_like(W_xh), "dW_hh": torch.zeros_like(W_hh), "db_h": torch.zeros_like(b_h)}
