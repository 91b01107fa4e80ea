"""The PyTorch twin of solution.py: tensors and operations, no autograd (this exercise asks for the
derivation). MISTAKE selects the same catalogued mistakes; the catalog test runs each through the sandbox."""
import torch

MISTAKE = None


def rnn_bptt(W_xh, W_hh, b_h, W_hq, b_q, X, H0, Y):
    W_xh, W_hh, b_h, W_hq, b_q, X, H0, Y = (torch.as_tensor(a) for a in (W_xh, W_hh, b_h, W_hq, b_q, X, H0, Y))
    T, B, _ = X.shape
    A, H = [], []
    H_prev = H0
    for t in range(T):
        A.append(X[t] @ W_xh + H_prev @ W_hh + b_h)
        H_prev = torch.tanh(A[-1])
        H.append(H_prev)
    H_prevs = [H0] + H[:-1]
    dO = []
    for t in range(T):
        P = torch.softmax(H[t] @ W_hq + b_q, dim=1)
        P[torch.arange(B), Y[t]] -= 1.0
        scale = {"missing-mean-over-time": 1.0 / B, "double-mean-over-time": 1.0 / (B * T * T),
                 "batch-reduction/sum-over-batch": 1.0 / T}.get(MISTAKE, 1.0 / (B * T))
        dO.append(P * scale)
    grads = {"dW_xh": torch.zeros_like(W_xh), "dW_hh": torch.zeros_like(W_hh), "db_h": torch.zeros_like(b_h),
             "dW_hq": torch.zeros_like(W_hq), "db_q": torch.zeros_like(b_q)}
    dH_next = torch.zeros_like(H0)
    for t in reversed(range(T)):
        grads["dW_hq"] += H[t].T @ dO[t]
        grads["db_q"] += dO[t].sum(dim=0)
        dH = dH_next + (dO[t] @ W_hq.T if MISTAKE != "missing-output-term" or t == T - 1 else 0.0)
        slope = {"missing-tanh-derivative": torch.ones_like(H[t]),
                 "tanh-derivative-wrong-step/previous-step": 1.0 - H_prevs[t] ** 2,
                 "tanh-derivative-of-preactivation/preactivation": 1.0 - A[t] ** 2,
                 "tanh-derivative-of-preactivation/tanh-of-state": 1.0 - torch.tanh(H[t]) ** 2,
                 }.get(MISTAKE, 1.0 - H[t] ** 2)
        delta = dH * slope
        grads["dW_xh"] += X[t].T @ delta
        if not (MISTAKE == "sum-range-off-by-one" and t == 0):
            grads["dW_hh"] += (H[t] if MISTAKE == "h-t-instead-of-h-prev" else H_prevs[t]).T @ delta
        grads["db_h"] += delta.sum(dim=0)
        back = delta @ (W_hh if MISTAKE == "missing-transpose-in-recurrence" else W_hh.T)
        dH_next = torch.zeros_like(back) if MISTAKE == "no-recurrent-term" else back
        if t == 0:
            grads["dH0"] = back
    if MISTAKE == "transposed-convention":
        for name in ("dW_xh", "dW_hh", "dW_hq"):
            grads[name] = grads[name].T
    return grads
