"""A learner-style solution of tanh-rnn-bptt, numpy only. MISTAKE selects a catalogued mistake
(None: the right answer); the catalog test runs each through the real sandbox."""
import numpy as np

MISTAKE = None


def rnn_bptt(W_xh, W_hh, b_h, W_hq, b_q, X, H0, Y):
    T, B, _ = X.shape
    A, H = [], []
    H_prev = H0
    for t in range(T):
        A.append(X[t] @ W_xh + H_prev @ W_hh + b_h)
        H_prev = np.tanh(A[-1])
        H.append(H_prev)
    H_prevs = [H0] + H[:-1]
    dO = []
    for t in range(T):
        O = H[t] @ W_hq + b_q
        P = np.exp(O - O.max(axis=1, keepdims=True))
        P /= P.sum(axis=1, keepdims=True)
        P[np.arange(B), Y[t]] -= 1.0
        scale = {"missing-mean-over-time": 1.0 / B, "double-mean-over-time": 1.0 / (B * T * T),
                 "batch-reduction/sum-over-batch": 1.0 / T}.get(MISTAKE, 1.0 / (B * T))
        dO.append(P * scale)
    grads = {"dW_xh": np.zeros_like(W_xh), "dW_hh": np.zeros_like(W_hh), "db_h": np.zeros_like(b_h),
             "dW_hq": np.zeros_like(W_hq), "db_q": np.zeros_like(b_q)}
    dH_next = np.zeros_like(H0)
    for t in reversed(range(T)):
        grads["dW_hq"] += H[t].T @ dO[t]
        grads["db_q"] += dO[t].sum(axis=0)
        dH = dH_next + (dO[t] @ W_hq.T if MISTAKE != "missing-output-term" or t == T - 1 else 0.0)
        slope = {"missing-tanh-derivative": np.ones_like(H[t]),
                 "tanh-derivative-wrong-step/previous-step": 1.0 - H_prevs[t] ** 2,
                 "tanh-derivative-of-preactivation/preactivation": 1.0 - A[t] ** 2,
                 "tanh-derivative-of-preactivation/tanh-of-state": 1.0 - np.tanh(H[t]) ** 2}.get(MISTAKE, 1.0 - H[t] ** 2)
        delta = dH * slope
        grads["dW_xh"] += X[t].T @ delta
        if not (MISTAKE == "sum-range-off-by-one" and t == 0):
            grads["dW_hh"] += (H[t] if MISTAKE == "h-t-instead-of-h-prev" else H_prevs[t]).T @ delta
        grads["db_h"] += delta.sum(axis=0)
        back = delta @ (W_hh if MISTAKE == "missing-transpose-in-recurrence" else W_hh.T)
        dH_next = np.zeros_like(back) if MISTAKE == "no-recurrent-term" else back
        if t == 0:
            grads["dH0"] = back
    if MISTAKE == "transposed-convention":
        for name in ("dW_xh", "dW_hh", "dW_hq"):
            grads[name] = grads[name].T
    return grads
