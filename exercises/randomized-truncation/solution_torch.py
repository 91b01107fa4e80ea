"""The PyTorch twin of solution.py: tensors and operations, no autograd (this exercise asks for the
derivation). MISTAKE selects the same catalogued mistakes; the catalog test runs each through the sandbox."""
import torch

MISTAKE = None
SAMPLES = 4000


def randomized_truncation(b, c, pi, xi, seed):
    b, c, pi, xi = (torch.as_tensor(a, dtype=torch.float64) for a in (b, c, pi, xi))
    T = len(b)
    keep = 1.0 - pi if MISTAKE in ("randomized-pi-swapped/everywhere", "randomized-pi-swapped/keep-probability") else pi
    weight = torch.ones(T, dtype=torch.float64) if MISTAKE == "randomized-no-reweighting" else \
        1.0 / pi if MISTAKE == "randomized-pi-swapped/keep-probability" else 1.0 / keep
    if MISTAKE == "randomized-no-reweighting":
        xi = (xi > 0).double()
    elif MISTAKE == "randomized-pi-swapped/everywhere":
        xi = torch.where(xi > 0, 1.0 / keep, torch.zeros_like(keep))
    if MISTAKE == "no-recurrent-term":
        last = float(b[-1])
        return {"z_T": last, "mean": last, "second_moment": last ** 2,
                "samples": torch.full((SAMPLES,), last, dtype=torch.float64)}
    z = m = s = 0.0
    for t in range(T):
        e1, e2 = keep[t] * weight[t], keep[t] * weight[t] ** 2
        z = b[t] + xi[t] * c[t] * z
        m, s = b[t] + e1 * c[t] * m, b[t] ** 2 + 2 * b[t] * c[t] * e1 * m + c[t] ** 2 * e2 * s
    if MISTAKE == "randomized-not-recursive":
        a_prev = 0.0
        for t in range(T - 1):
            a_prev = b[t] + c[t] * a_prev
        z = b[-1] + xi[-1] * c[-1] * a_prev
        m = b[-1] + c[-1] * a_prev
        s = b[-1] ** 2 + 2 * b[-1] * c[-1] * a_prev + c[-1] ** 2 * a_prev ** 2 / pi[-1]
    generator = torch.Generator().manual_seed(int(seed))
    draws = torch.where(torch.rand((SAMPLES, T), generator=generator, dtype=torch.float64) < keep, weight,
                        torch.zeros_like(weight))
    samples = torch.zeros(SAMPLES, dtype=torch.float64)
    for t in range(T):
        samples = b[t] + draws[:, t] * c[t] * samples
    return {"z_T": float(z), "mean": float(m), "second_moment": float(s), "samples": samples}
