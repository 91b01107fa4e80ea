"""The PyTorch twin of solution.py: tensors and operations, no autograd (this exercise asks for the
derivation). MISTAKE selects the same catalogued mistakes; the catalog test runs each through the sandbox."""
import torch

MISTAKE = None
REMEDIES = ["truncated-bptt", "gated-units", "orthogonal-init", "spectral-constraint", "gradient-norm-penalty",
            "skip-connections-in-time"]


def remedies(W, c):
    W = torch.as_tensor(W)
    if MISTAKE == "spectral-rescale-wrong-norm/frobenius":
        norm = torch.linalg.matrix_norm(W)
    elif MISTAKE == "spectral-rescale-wrong-norm/radius":
        norm = torch.linalg.eigvals(W).abs().max()
    else:
        norm = torch.linalg.matrix_norm(W, ord=2)
    return {"remedies": REMEDIES, "W_rescaled": W * min(1.0, c / float(norm))}
