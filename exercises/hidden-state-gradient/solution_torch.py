"""The PyTorch twin of solution.py: tensors and operations, no autograd (this exercise asks for the
derivation). MISTAKE selects the same catalogued mistakes; the catalog test runs each through the sandbox."""
import torch

MISTAKE = None


def hidden_state_gradient(W_hh, W_qh, dL_do, t):
    W_hh, W_qh, dL_do = (torch.as_tensor(a) for a in (W_hh, W_qh, dL_do))
    T = dL_do.shape[0]
    W = W_hh if MISTAKE == "missing-transpose-in-recurrence" else W_hh.T
    coefficients = []
    for s in range(t, T + 1):
        power = {"closed-form-mispaired": T - s, "closed-form-power-off-by-one": s - t + 1}.get(MISTAKE, s - t)
        coefficients.append(torch.linalg.matrix_power(W, power) @ W_qh.T)
    coefficients = torch.stack(coefficients)
    dL_dh_t = sum(c @ dL_do[s - 1] for c, s in zip(coefficients, range(t, T + 1)))
    if MISTAKE == "transposed-convention":
        coefficients = coefficients.transpose(1, 2)
    return {"dL_dh_t": dL_dh_t, "coefficients": coefficients}
