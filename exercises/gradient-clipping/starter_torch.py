"""Starter for gradient-clipping in PyTorch, in d2l's shape: grad_clipping(net, theta) on parameters
whose .grad holds the given gradients (autograd is allowed in this exercise)."""
import torch


class Net:
    """What d2l's grad_clipping reads of a scratch model: net.params, each with its .grad."""

    def __init__(self, grads):
        self.params = []
        for g in grads:
            param = torch.zeros(g.shape, dtype=torch.float64, requires_grad=True)
            param.grad = torch.as_tensor(g).clone()
            self.params.append(param)


def clip(net, theta):
    """d2l's grad_clipping(net, theta): clip the gradients of net.params in place."""
    # TODO: one global norm over every parameter's gradient, then scale by theta / norm when it is larger.


def grad_clipping(theta, dW_a, dU_a, db_a, dW_b, dU_b, db_b):
    """Clip each set of gradients (a, then b) as d2l's grad_clipping(net, theta) does.

    Args:
        theta: the threshold; dW_*: (m, n); dU_*: (n, n); db_*: (n,).

    Returns:
        dict with the clipped dW_a, dU_a, db_a and norm_a (the global norm before clipping), and the
        same for set b.
    """
    answer = {}
    for case, grads in (("a", [dW_a, dU_a, db_a]), ("b", [dW_b, dU_b, db_b])):
        net = Net(grads)
        norm = 0.0  # TODO: the global norm before clipping
        clip(net, theta)
        dW, dU, db = (p.grad for p in net.params)
        answer.update({f"dW_{case}": dW, f"dU_{case}": dU, f"db_{case}": db, f"norm_{case}": norm})
    return answer
