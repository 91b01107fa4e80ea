"""The PyTorch twin of solution.py: tensors and operations, no autograd (this exercise asks for the
derivation). MISTAKE selects the same catalogued mistakes; the catalog test runs each through the sandbox."""
import torch

MISTAKE = None


def linear_bptt(W_hx, W_hh, W_qh, X, h0, Y):
    W_hx, W_hh, W_qh, X, h0, Y = (torch.as_tensor(a) for a in (W_hx, W_hh, W_qh, X, h0, Y))
    T = X.shape[0]
    H = torch.zeros((T, W_hh.shape[0]), dtype=X.dtype)
    h = h0
    for t in range(T):
        h = W_hx @ X[t] + W_hh @ h
        H[t] = h
    O = H @ W_qh.T
    per_step = {"missing-mean-over-time": 1.0, "double-mean-over-time": 1.0 / T ** 2}.get(MISTAKE, 1.0 / T)
    dO = (O - Y) * per_step
    dH = torch.zeros_like(H)
    if MISTAKE == "closed-form-mispaired":
        for t in range(T):
            for i in range(t, T):
                dH[t] += torch.linalg.matrix_power(W_hh.T, T - 1 - i) @ W_qh.T @ dO[i]
    else:
        back = W_hh if MISTAKE == "missing-transpose-in-recurrence" else W_hh.T
        g = torch.zeros(W_hh.shape[0], dtype=X.dtype)
        for t in reversed(range(T)):
            local = W_qh.T @ dO[t] if (MISTAKE != "missing-output-term" or t == T - 1) else 0.0
            g = local + (back @ g if MISTAKE != "no-recurrent-term" else 0.0)
            dH[t] = g
    H_prev = torch.cat([h0[None], H[:-1]])
    pairs = H if MISTAKE == "h-t-instead-of-h-prev" else H_prev
    first = 1 if MISTAKE == "sum-range-off-by-one" else 0
    grads = {"dW_qh": dO.T @ H, "dW_hx": dH.T @ X, "dW_hh": dH[first:].T @ pairs[first:], "dL_dh": dH}
    if MISTAKE == "transposed-convention":
        grads = {k: (v if k == "dL_dh" else v.T) for k, v in grads.items()}
    return grads
