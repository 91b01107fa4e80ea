"""The PyTorch twin of solution.py, in the book's own shape: d2l 0.17's scratch RNN, train_epoch_ch8
over the K minibatches with state.detach_(), then l.backward() and grad_clipping(net, theta)
(autograd is allowed here: the exercise is about its semantics). With lr = 0 nothing is updated, so
only the last minibatch's backward pass is run. MISTAKE selects the same catalogued mistakes; the
catalog test runs each through the sandbox."""
import torch
import torch.nn.functional as F

MISTAKE = None


class RNNModelScratch:
    """d2l's RNNModelScratch, on the exercise's weights and real-valued inputs instead of one-hot."""

    def __init__(self, W_xh, W_hh, b_h, W_hq, b_q):
        self.params = [torch.tensor(p, requires_grad=True) for p in (W_xh, W_hh, b_h, W_hq, b_q)]
        self.num_hiddens = W_hh.shape[0]

    def begin_state(self, batch_size):
        return (torch.zeros((batch_size, self.num_hiddens), dtype=torch.float64),)

    def __call__(self, X, state):
        """X (T, B, d) and state ((B, h),) -> outputs (T*B, q), time-major, and the new state."""
        W_xh, W_hh, b_h, W_hq, b_q = self.params
        H, = state
        outputs = []
        for X_t in X:
            H_in = H.detach() if MISTAKE == "no-recurrent-term" else H
            H = torch.tanh(X_t @ W_xh + H_in @ W_hh + b_h)
            outputs.append(H @ W_hq + b_q)
        return torch.cat(outputs, dim=0), (H,)


def grad_clipping(net, theta):
    """d2l's grad_clipping (9.5.3): one norm over every parameter's gradient."""
    params = net.params
    if MISTAKE == "clipping-per-tensor":
        for param in params:
            param.grad[:] *= min(1.0, theta / float(torch.linalg.vector_norm(param.grad)))
        return
    norm = torch.sqrt(sum(torch.sum((p.grad ** 2)) for p in params))
    if norm > theta:
        for param in params:
            param.grad[:] *= theta / norm


def loss(y_hat, y, T, B):
    if MISTAKE == "batch-reduction/sum-over-batch":
        return F.cross_entropy(y_hat, y, reduction="sum") / T
    if MISTAKE == "missing-mean-over-time":
        return F.cross_entropy(y_hat, y, reduction="sum") / B
    return F.cross_entropy(y_hat, y).mean()


def train_epoch_ch8(net, X, Y, theta):
    """Sequential partitioning: minibatch k is X[k] (T, B, d) with targets Y[k] (T, B)."""
    state = None
    for X_k, Y_k in zip(X, Y):
        if state is None or MISTAKE == "state-reset-instead-of-detach":
            state = net.begin_state(batch_size=X_k.shape[1])
        elif MISTAKE != "no-detach":
            for s in state:
                s.detach_()
        y = Y_k.reshape(-1)  # time-major, as d2l's Y.T.reshape(-1)
        y_hat, state = net(X_k, state)
        l = loss(y_hat, y, *Y_k.shape)
    l.backward()  # lr = 0: the last minibatch's gradients are the ones asked for
    grad_clipping(net, theta)
    return l, state


def last_minibatch(W_xh, W_hh, b_h, W_hq, b_q, X, Y, theta):
    net = RNNModelScratch(W_xh, W_hh, b_h, W_hq, b_q)
    l, (H,) = train_epoch_ch8(net, torch.as_tensor(X), torch.as_tensor(Y), theta)
    grads = {name: p.grad for name, p in zip(("dW_xh", "dW_hh", "db_h", "dW_hq", "db_q"), net.params)}
    return {"loss": float(l), **grads, "state": H}
