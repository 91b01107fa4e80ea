"""A learner-style solution of forward-mode-recursion, numpy only. MISTAKE selects a catalogued
mistake (None: the right answer); the catalog test runs each through the real sandbox."""
import numpy as np

MISTAKE = None


def forward_mode(w, A, U, v, X, y, h0):
    T, h = X.shape[0], A.shape[0]
    H = np.zeros((T, h))
    state = h0
    for t in range(T):
        state = np.tanh(w * (A @ state) + U @ X[t])
        H[t] = state
    H_prev = np.vstack([h0, H[:-1]])
    if MISTAKE == "missing-tanh-derivative":
        slope = np.ones_like(H)
    elif MISTAKE == "tanh-derivative-wrong-step/previous-step":
        slope = 1.0 - H_prev ** 2
    else:
        slope = 1.0 - H ** 2
    b = [slope[t] * (A @ H_prev[t]) for t in range(T)]
    c = [slope[t][:, None] * (w * A) for t in range(T)]
    a = np.zeros((T, h))
    if MISTAKE in ("product-index-off-by-one", "jacobian-product-reversed"):
        first = 0 if MISTAKE == "product-index-off-by-one" else 1
        for t in range(T):
            for i in range(t + 1):
                product = np.eye(h)
                for j in range(i + first, t + 1):
                    product = product @ c[j] if MISTAKE == "jacobian-product-reversed" else c[j] @ product
                a[t] += product @ b[i]
    else:
        previous = np.zeros(h)
        for t in range(T):
            previous = b[t] if MISTAKE == "no-recurrent-term" else b[t] + c[t] @ previous
            a[t] = previous
    residual = H @ v - y
    dL_dw = np.sum(residual * (a @ v)) / (1.0 if MISTAKE == "missing-mean-over-time" else T)
    return {"a": a, "dL_dw": float(dL_dw)}
