"""A learner-style solution of minibatch-detach, numpy only. MISTAKE selects a catalogued mistake
(None: the right answer); the catalog test runs each through the real sandbox."""
import numpy as np

MISTAKE = None


def _clip(grads, theta):
    if MISTAKE == "clipping-per-tensor":
        return {k: g * min(1.0, theta / np.linalg.norm(g)) for k, g in grads.items()}
    norm = np.sqrt(sum(np.sum(g * g) for g in grads.values()))
    return {k: g * (theta / norm if norm > theta else 1.0) for k, g in grads.items()}


def _backward(W_xh, W_hh, b_h, W_hq, b_q, X, Y, H_start, loss_steps):
    """Gradients of the mean cross-entropy of the last loss_steps steps of X, from H_start."""
    T, B, _ = X.shape
    H, H_prev = [], H_start
    for t in range(T):
        H_prev = np.tanh(X[t] @ W_xh + H_prev @ W_hh + b_h)
        H.append(H_prev)
    H_prevs = [H_start] + H[:-1]
    grads = {"dW_xh": np.zeros_like(W_xh), "dW_hh": np.zeros_like(W_hh), "db_h": np.zeros_like(b_h),
             "dW_hq": np.zeros_like(W_hq), "db_q": np.zeros_like(b_q)}
    loss, dH_next = 0.0, np.zeros_like(H_start)
    for t in reversed(range(T)):
        dH = dH_next
        if t >= T - loss_steps:
            O = H[t] @ W_hq + b_q
            P = np.exp(O - O.max(axis=1, keepdims=True))
            P /= P.sum(axis=1, keepdims=True)
            loss -= np.log(P[np.arange(B), Y[t - (T - loss_steps)]]).sum() / (B * loss_steps)
            P[np.arange(B), Y[t - (T - loss_steps)]] -= 1.0
            dO = P / (B * loss_steps)
            grads["dW_hq"] += H[t].T @ dO
            grads["db_q"] += dO.sum(axis=0)
            dH = dH + dO @ W_hq.T
        delta = dH * (1.0 - H[t] ** 2)
        grads["dW_xh"] += X[t].T @ delta
        grads["dW_hh"] += H_prevs[t].T @ delta
        grads["db_h"] += delta.sum(axis=0)
        dH_next = np.zeros_like(dH) if MISTAKE == "no-recurrent-term" else delta @ W_hh.T
    return loss, grads, H[-1]


def last_minibatch(W_xh, W_hh, b_h, W_hq, b_q, X, Y, theta):
    K, T, B, _ = X.shape
    H = np.zeros((B, W_hh.shape[0]))
    for k in range(K):
        start = np.zeros_like(H) if MISTAKE == "state-reset-instead-of-detach" else H
        if MISTAKE == "no-detach":  # the graph reaches back to the epoch's start
            X_all = X[:k + 1].reshape(-1, B, X.shape[3])
            loss, grads, H = _backward(W_xh, W_hh, b_h, W_hq, b_q, X_all, Y[k], np.zeros_like(H), T)
        else:
            loss, grads, H = _backward(W_xh, W_hh, b_h, W_hq, b_q, X[k], Y[k], start, T)
    grads = _clip(grads, theta)
    factor = {"batch-reduction/sum-over-batch": B, "missing-mean-over-time": T}.get(MISTAKE, 1)
    return {"loss": float(loss * factor), **grads, "state": H}
