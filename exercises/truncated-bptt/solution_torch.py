"""The PyTorch twin of solution.py: tensors and operations, no autograd (this exercise asks for the
derivation). MISTAKE selects the same catalogued mistakes; the catalog test runs each through the sandbox."""
import torch

MISTAKE = None


def _forward(W_xh, W_hh, b_h, X, H0):
    H, H_prev = [], H0
    for t in range(X.shape[0]):
        H_prev = torch.tanh(X[t] @ W_xh + H_prev @ W_hh + b_h)
        H.append(H_prev)
    return H, [H0] + H[:-1]


def _output_grads(H, W_hq, b_q, Y):
    T, B = Y.shape
    dO = []
    for t in range(T):
        P = torch.softmax(H[t] @ W_hq + b_q, dim=1)
        P[torch.arange(B), Y[t]] -= 1.0
        dO.append(P / (B * T))
    return dO


def truncated_bptt(W_xh, W_hh, b_h, W_hq, b_q, X, H0, Y, mode, tau):
    W_xh, W_hh, b_h, W_hq, b_q, X, H0, Y = (torch.as_tensor(a) for a in (W_xh, W_hh, b_h, W_hq, b_q, X, H0, Y))
    T = X.shape[0]
    if MISTAKE == "truncation-off-by-one/more":
        tau += 1
    elif MISTAKE == "truncation-off-by-one/fewer":
        tau -= 1
    elif MISTAKE == "truncation-wrong-mode":
        mode = "chunked" if mode == "sliding" else "sliding"
    elif MISTAKE == "no-recurrent-term":
        tau = 1
    elif MISTAKE == "no-detach":
        tau = T
    H, H_prevs = _forward(W_xh, W_hh, b_h, X, H0)
    dO = _output_grads(H, W_hq, b_q, Y)
    grads = {"dW_xh": torch.zeros_like(W_xh), "dW_hh": torch.zeros_like(W_hh), "db_h": torch.zeros_like(b_h)}
    for s in range(T):  # the loss at step s, sent back as far as the truncation lets it go
        first = s - tau + 1 if mode == "sliding" else (s // tau) * tau
        if mode == "chunked" and MISTAKE == "truncation-off-by-one/shifted-chunks":
            first = max((s + 1) // tau * tau - 1, 0)  # boundaries at 1-based steps tau, 2 tau, ...
        dH = dO[s] @ W_hq.T
        for t in range(s, max(first, 0) - 1, -1):
            delta = dH * (1.0 - H[t] ** 2)
            grads["dW_xh"] += X[t].T @ delta
            grads["dW_hh"] += H_prevs[t].T @ delta
            grads["db_h"] += delta.sum(dim=0)
            dH = delta @ W_hh.T
    return grads
