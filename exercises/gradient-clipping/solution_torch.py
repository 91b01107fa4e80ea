"""The PyTorch twin of solution.py, in the book's own shape: d2l's grad_clipping(net, theta) on
parameters whose .grad holds the given gradients (autograd is allowed here). MISTAKE selects the same
catalogued mistakes; the catalog test runs each through the sandbox."""
import torch

MISTAKE = None


class Net:
    """What d2l's grad_clipping reads of a scratch model: net.params, each with its .grad."""

    def __init__(self, grads):
        self.params = []
        for g in grads:
            param = torch.zeros(g.shape, dtype=torch.float64, requires_grad=True)
            param.grad = torch.as_tensor(g).clone()
            self.params.append(param)


def clip(net, theta):
    """d2l's grad_clipping (9.5.3): one norm over every parameter's gradient."""
    params = net.params
    if MISTAKE == "clipping-torch-epsilon":  # PyTorch's own: theta / (norm + 1e-6)
        torch.nn.utils.clip_grad_norm_(params, theta)
        return
    if MISTAKE == "clipping-per-tensor":
        for param in params:
            param.grad[:] *= min(1.0, theta / float(torch.linalg.vector_norm(param.grad)))
        return
    if MISTAKE == "clipping-by-value":
        for param in params:
            param.grad.clamp_(-theta, theta)
        return
    norm = torch.sqrt(sum(torch.sum((p.grad ** 2)) for p in params))
    if norm > theta or MISTAKE == "clipping-always-rescale":
        for param in params:
            param.grad[:] *= theta / norm


def grad_clipping(theta, dW_a, dU_a, db_a, dW_b, dU_b, db_b):
    answer = {}
    for case, grads in (("a", [dW_a, dU_a, db_a]), ("b", [dW_b, dU_b, db_b])):
        net = Net(grads)
        norm = float(torch.sqrt(sum(torch.sum(p.grad ** 2) for p in net.params)))
        clip(net, theta)
        dW, dU, db = (p.grad for p in net.params)
        answer.update({f"dW_{case}": dW, f"dU_{case}": dU, f"db_{case}": db, f"norm_{case}": norm})
    return answer
