"""Starter for gradient-norm-profile (book convention: column vectors) in PyTorch:
tensors and operations are allowed, autograd is not (derive the gradients)."""
import torch


def norm_profile(W_hh, W_qh, g, T):
    """Norms of dL/dh_t for the linear RNN when only o_T carries a loss, with dL/do_T = g.

    Args:
        W_hh: (h, h); W_qh: (q, h); g: dL/do_T, shape (q,); T: the number of steps.

    Returns:
        dict with norms (T,), growth (a float) and regime ("vanishing" or "exploding").
    """
    W_hh, W_qh, g = (torch.as_tensor(a) for a in (W_hh, W_qh, g))
    # TODO: start from dL/dh_T and go back in time.
    return {"norms": torch.zeros(T, dtype=torch.float64), "growth": 1.0, "regime": "vanishing"}
