"""Starter for linear-bptt (book convention: column vectors, weights act on the left) in PyTorch:
tensors and operations are allowed, autograd is not (derive the gradients)."""
import torch


def linear_bptt(W_hx, W_hh, W_qh, X, h0, Y):
    """Gradients of L = (1/T) sum_t 1/2 ||o_t - y_t||^2 for h_t = W_hx x_t + W_hh h_{t-1}, o_t = W_qh h_t.

    Args:
        W_hx: (h, d); W_hh: (h, h); W_qh: (q, h); X: inputs x_1..x_T, shape (T, d);
        h0: initial state, shape (h,); Y: targets y_1..y_T, shape (T, q).

    Returns:
        dict with dW_qh (q, h), dW_hx (h, d), dW_hh (h, h) and dL_dh (T, h), row t-1 being dL/dh_t.
    """
    W_hx, W_hh, W_qh, X, h0, Y = (torch.as_tensor(a) for a in (W_hx, W_hh, W_qh, X, h0, Y))
    T, h = X.shape[0], W_hh.shape[0]
    # TODO: forward pass, dL/do_t (9.7.11), the recursion (9.7.13)-(9.7.14), then (9.7.12), (9.7.16).
    return {"dW_qh": torch.zeros_like(W_qh), "dW_hx": torch.zeros_like(W_hx),
            "dW_hh": torch.zeros_like(W_hh), "dL_dh": torch.zeros((T, h), dtype=torch.float64)}
