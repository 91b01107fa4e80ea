"""The PyTorch twin of solution.py: tensors and operations, no autograd (this exercise asks for the
derivation). MISTAKE selects the same catalogued mistakes; the catalog test runs each through the sandbox."""
import torch

MISTAKE = None


def norm_profile(W_hh, W_qh, g, T):
    W_hh, W_qh, g = (torch.as_tensor(a) for a in (W_hh, W_qh, g))
    back = W_hh if MISTAKE == "missing-transpose-in-recurrence" else W_hh.T
    norms = torch.zeros(T, dtype=g.dtype)
    v = W_qh.T @ g
    for t in range(T - 1, -1, -1):
        norms[t] = torch.linalg.vector_norm(v)
        v = back @ v
    if MISTAKE == "growth-time-reversed":
        norms = norms.flip(0)
    growth = float((norms[0] / norms[-1]) ** (1.0 / (T - 1)))
    return {"norms": norms, "growth": growth, "regime": "exploding" if growth > 1 else "vanishing"}
