"""Starter for forward-mode-recursion (column vectors) in PyTorch:
tensors and operations are allowed, autograd is not (derive the gradients)."""
import torch


def forward_mode(w, A, U, v, X, y, h0):
    """Forward-mode derivatives for h_t = tanh(w A h_{t-1} + U x_t), o_t = v . h_t,
    L = (1/T) sum_t 1/2 (o_t - y_t)^2.

    Args:
        w: the scalar parameter; A: (h, h); U: (h, d); v: (h,); X: (T, d); y: (T,); h0: (h,).

    Returns:
        dict with a (T, h), row t-1 being dh_t/dw, and dL_dw (a float).
    """
    A, U, v, X, y, h0 = (torch.as_tensor(a) for a in (A, U, v, X, y, h0))
    T, h = X.shape[0], A.shape[0]
    # TODO: b_t and c_t of (9.7.6), the recursion (9.7.5) from a_0 = 0, then dL/dw.
    return {"a": torch.zeros((T, h), dtype=torch.float64), "dL_dw": 0.0}
