"""The PyTorch twin of solution.py: tensors and operations, no autograd (this exercise asks for the
derivation). MISTAKE selects the same catalogued mistakes; the catalog test runs each through the sandbox."""
import torch

MISTAKE = None


def _by_magnitude(values):
    """Largest |value| first; of two with the same magnitude the positive one first (two stable sorts)."""
    order = torch.argsort(-values, stable=True)
    return order[torch.argsort(-values[order].abs(), stable=True)]


def power_eigenvalues(M, k):
    M = torch.as_tensor(M)
    if MISTAKE == "elementwise-matrix-power":
        values = torch.linalg.eigvalsh(M ** k)
    else:
        lam = torch.linalg.eigvalsh(M)
        values = {"eigen-k-times-lambda": k * lam, "eigen-sign-lost": lam.abs() ** k}.get(MISTAKE, lam ** k)
    if MISTAKE == "eigen-sorted-by-value/descending":
        return {"eigenvalues": torch.sort(values, descending=True).values}
    if MISTAKE == "eigen-sorted-by-value/ascending":
        return {"eigenvalues": torch.sort(values).values}
    return {"eigenvalues": values[_by_magnitude(values)]}
