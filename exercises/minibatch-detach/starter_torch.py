"""Starter for minibatch-detach in PyTorch, in the book's shape: d2l 0.17's scratch RNN and
train_epoch_ch8 with state.detach_() and grad_clipping(net, theta) (autograd is allowed here).
With lr = 0 nothing is updated: only the last minibatch's backward pass is asked for."""
import torch
import torch.nn.functional as F


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
            H = torch.tanh(X_t @ W_xh + H @ W_hh + b_h)
            outputs.append(H @ W_hq + b_q)
        return torch.cat(outputs, dim=0), (H,)


def grad_clipping(net, theta):
    """d2l's grad_clipping (9.5.3)."""
    # TODO: one norm over every parameter's gradient; scale them by theta / norm when it is larger.


def train_epoch_ch8(net, X, Y, theta):
    """Sequential partitioning: minibatch k is X[k] (T, B, d) with targets Y[k] (T, B)."""
    state = None
    for X_k, Y_k in zip(X, Y):
        if state is None:
            state = net.begin_state(batch_size=X_k.shape[1])
        # TODO: else, what d2l does to the state between minibatches
        y = Y_k.reshape(-1)  # time-major, as d2l's Y.T.reshape(-1)
        y_hat, state = net(X_k, state)
        l = F.cross_entropy(y_hat, y).mean()
    # TODO: l.backward() (lr = 0: the last minibatch's gradients are the ones asked for), then clip
    return l, state


def last_minibatch(W_xh, W_hh, b_h, W_hq, b_q, X, Y, theta):
    """train_epoch_ch8 over K sequential minibatches without updates; report the last one.

    Args:
        W_xh: (d, h); W_hh: (h, h); b_h: (h,); W_hq: (h, q); b_q: (q,);
        X: minibatch inputs, shape (K, T, B, d); Y: integer targets, shape (K, T, B); theta: clipping threshold.

    Returns:
        dict with loss (a float), the clipped dW_xh, dW_hh, db_h, dW_hq, db_q, and state (B, h).
    """
    net = RNNModelScratch(W_xh, W_hh, b_h, W_hq, b_q)
    l, (H,) = train_epoch_ch8(net, torch.as_tensor(X), torch.as_tensor(Y), theta)
    grads = {name: torch.zeros_like(p) if p.grad is None else p.grad
             for name, p in zip(("dW_xh", "dW_hh", "db_h", "dW_hq", "db_q"), net.params)}
    return {"loss": float(l), **grads, "state": H}
