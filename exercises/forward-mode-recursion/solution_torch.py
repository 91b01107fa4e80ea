"""The PyTorch twin of solution.py: tensors and operations, no autograd (this exercise asks for the
derivation). MISTAKE selects the same catalogued mistakes; the catalog test runs each through the sandbox."""
import torch

MISTAKE = None


def forward_mode(w, A, U, v, X, y, h0):
    A, U, v, X, y, h0 = (torch.as_tensor(a) for a in (A, U, v, X, y, h0))
    T, h = X.shape[0], A.shape[0]
    H = torch.zeros((T, h), dtype=X.dtype)
    state = h0
    for t in range(T):
        state = torch.tanh(w * (A @ state) + U @ X[t])
        H[t] = state
    H_prev = torch.cat([h0[None], H[:-1]])
    if MISTAKE == "missing-tanh-derivative":
        slope = torch.ones_like(H)
    elif MISTAKE == "tanh-derivative-wrong-step/previous-step":
        slope = 1.0 - H_prev ** 2
    else:
        slope = 1.0 - H ** 2
    b = [slope[t] * (A @ H_prev[t]) for t in range(T)]
    c = [slope[t][:, None] * (w * A) for t in range(T)]
    a = torch.zeros((T, h), dtype=X.dtype)
    if MISTAKE in ("product-index-off-by-one", "jacobian-product-reversed"):
        first = 0 if MISTAKE == "product-index-off-by-one" else 1
        for t in range(T):
            for i in range(t + 1):
                product = torch.eye(h, dtype=X.dtype)
                for j in range(i + first, t + 1):
                    product = product @ c[j] if MISTAKE == "jacobian-product-reversed" else c[j] @ product
                a[t] += product @ b[i]
    else:
        previous = torch.zeros(h, dtype=X.dtype)
        for t in range(T):
            previous = b[t] if MISTAKE == "no-recurrent-term" else b[t] + c[t] @ previous
            a[t] = previous
    residual = H @ v - y
    dL_dw = torch.sum(residual * (a @ v)) / (1.0 if MISTAKE == "missing-mean-over-time" else T)
    return {"a": a, "dL_dw": float(dL_dw)}
