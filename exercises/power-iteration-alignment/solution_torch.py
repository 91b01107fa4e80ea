"""The PyTorch twin of solution.py: tensors and operations, no autograd (this exercise asks for the
derivation). MISTAKE selects the same catalogued mistakes; the catalog test runs each through the sandbox."""
import torch

MISTAKE = None


def _by_magnitude(values):
    """Largest |value| first; of two with the same magnitude the positive one first (two stable sorts)."""
    order = torch.argsort(-values, stable=True)
    return order[torch.argsort(-values[order].abs(), stable=True)]


def _sin(M, x, lam, V, k):
    if MISTAKE == "elementwise-matrix-power":
        y = (M ** k) @ x
        v1 = V[:, 0]
        return float(torch.linalg.vector_norm(y - (y @ v1) * v1) / torch.linalg.vector_norm(y))
    u = (V.T @ x) * (lam / lam[0]) ** k
    return float(torch.linalg.vector_norm(u[1:]) / torch.linalg.vector_norm(u))


def alignment(M, x, ks, eps):
    M, x = torch.as_tensor(M), torch.as_tensor(x)
    lam, V = torch.linalg.eigh(M)
    order = torch.argsort(-lam) if MISTAKE == "eigen-sorted-by-value" else _by_magnitude(lam)
    lam, V = lam[order], V[:, order]
    c = V.T @ x
    r = abs(float(lam[1])) / abs(float(lam[0]))
    exponent = 2 if MISTAKE == "alignment-squared-rate" else 1
    sin = [_sin(M, x, lam, V, int(k)) for k in ks]
    bound = [r ** (exponent * int(k)) * float(torch.linalg.vector_norm(c[1:])) / abs(float(c[0])) for k in ks]
    # k_min always by the correct definition: the mistakes above concern sin and the bound
    true_lam, true_V = torch.linalg.eigh(M)
    true_order = _by_magnitude(true_lam)
    true_lam, true_V = true_lam[true_order], true_V[:, true_order]
    true_c = true_V.T @ x
    k = 1
    while True:
        u = true_c * (true_lam / true_lam[0]) ** k
        if torch.linalg.vector_norm(u[1:]) / torch.linalg.vector_norm(u) <= eps:
            break
        k += 1
    return {"sin_theta": torch.tensor(sin, dtype=torch.float64), "k_min": k,
            "bound": torch.tensor(bound, dtype=torch.float64)}
