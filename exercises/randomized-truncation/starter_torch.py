"""Starter for randomized-truncation (scalars: b_t, c_t, pi_t and xi_t are numbers) in PyTorch:
tensors and operations are allowed, autograd is not (derive the gradients)."""
import torch


def randomized_truncation(b, c, pi, xi, seed):
    """The recursive randomized-truncation estimator z_t = b_t + xi_t c_t z_{t-1}, z_0 = 0.

    Args:
        b: (T,); c: (T,); pi: keep probabilities, (T,); xi: one realization, each 0 or 1/pi_t, (T,);
        seed: draw your samples from torch.Generator().manual_seed(int(seed)).

    Returns:
        dict with z_T (a number) for the realization xi, mean (E[z_T]), second_moment (E[z_T^2]) and
        samples: 4000 independent draws of z_T.
    """
    b, c, pi, xi = (torch.as_tensor(a) for a in (b, c, pi, xi))
    generator = torch.Generator().manual_seed(int(seed))  # torch.rand(..., generator=generator)
    # TODO: (a) run the recursion with xi; (b) the recursions of the moments; (c) draw xi yourself.
    return {"z_T": 0.0, "mean": 0.0, "second_moment": 0.0, "samples": torch.zeros(4000, dtype=torch.float64)}
