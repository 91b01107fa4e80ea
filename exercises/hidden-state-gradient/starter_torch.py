"""Starter for hidden-state-gradient (book convention: column vectors) in PyTorch:
tensors and operations are allowed, autograd is not (derive the gradients)."""
import torch


def hidden_state_gradient(W_hh, W_qh, dL_do, t):
    """dL/dh_t by the closed form (9.7.15) for the linear RNN.

    Args:
        W_hh: (h, h); W_qh: (q, h); dL_do: row s-1 is dL/do_s, shape (T, q); t: 1-based step, 1 <= t <= T.

    Returns:
        dict with dL_dh_t (h,) and coefficients (T - t + 1, h, q), entry s - t multiplying dL/do_s.
    """
    W_hh, W_qh, dL_do = (torch.as_tensor(a) for a in (W_hh, W_qh, dL_do))
    T, h, q = dL_do.shape[0], W_hh.shape[0], W_qh.shape[0]
    # TODO: build each coefficient matrix and sum the terms of (9.7.15).
    return {"dL_dh_t": torch.zeros(h, dtype=torch.float64),
            "coefficients": torch.zeros((T - t + 1, h, q), dtype=torch.float64)}
