"""gradient-norm-profile: exercise 1.3, ||dL/dh_t|| over time with a loss at step T only."""
import numpy as np

from grader.reference import linear


def generate(rng):
    """Non-normal W_hh with a real dominant eigenvalue of modulus rho in [0.6, 0.9] or [1.1, 1.4]
    and a gap |lambda_2| <= 0.8 rho; T in 20..35 with rho^T <= 1e8."""
    while True:
        T, h, q = int(rng.integers(20, 36)), int(rng.integers(3, 6)), 2
        rho = rng.choice([rng.uniform(0.6, 0.9), rng.uniform(1.1, 1.4)])
        lam = np.concatenate([[rho * rng.choice([-1.0, 1.0])], rng.uniform(-0.8, 0.8, h - 1) * rho])
        P = rng.standard_normal((h, h))
        if np.linalg.cond(P) > 20 or rho ** T > 1e8:
            continue
        W_hh = P @ np.diag(lam) @ np.linalg.inv(P)
        return {"W_hh": W_hh, "W_qh": rng.standard_normal((q, h)) / np.sqrt(h), "g": rng.standard_normal(q),
                "T": T}


def edge_cases(rng):
    """h = 1, T = 2, and a scaled orthogonal W_hh (every norm shrinks by exactly 0.7 per step)."""
    Q, _ = np.linalg.qr(rng.standard_normal((3, 3)))
    return [{"W_hh": np.array([[1.3]]), "W_qh": rng.standard_normal((2, 1)), "g": rng.standard_normal(2), "T": 20},
            {"W_hh": rng.standard_normal((3, 3)) / 2, "W_qh": rng.standard_normal((2, 3)), "g": rng.standard_normal(2),
             "T": 2},
            {"W_hh": 0.7 * Q, "W_qh": rng.standard_normal((2, 3)), "g": rng.standard_normal(2), "T": 25}]


def _profile(W_back, p):
    """||dL/dh_t|| for t = 1..T with dL/dh_T = W_qh^T g and dL/dh_t = W_back dL/dh_{t+1}."""
    norms = np.empty(p["T"])
    v = p["W_qh"].T @ p["g"]
    for t in reversed(range(p["T"])):
        norms[t] = np.linalg.norm(v)
        v = W_back @ v
    return norms


def _answer(norms, T):
    growth = (norms[0] / norms[-1]) ** (1.0 / (T - 1))
    return {"norms": norms, "growth": np.float64(growth), "regime": "exploding" if growth > 1 else "vanishing"}


def solve(p):
    """norms (T,), growth (n_1 / n_T)^(1/(T-1)) and the regime label."""
    return _answer(_profile(p["W_hh"].T, p), p["T"])


VARIANTS = {
    "growth-time-reversed": lambda p: _answer(_profile(p["W_hh"].T, p)[::-1], p["T"]),
    "missing-transpose-in-recurrence": lambda p: _answer(_profile(p["W_hh"], p), p["T"]),
}


def gradient_checks(p, answer, rng):
    """The recursion (9.7.14) with one upstream gradient at T, and the closed form (9.7.15) by
    explicit matrix powers, agree with the norms; the growth is near the spectral radius."""
    dL_dO = np.zeros((p["T"], len(p["g"])))
    dL_dO[-1] = p["g"]
    recursion = np.linalg.norm(linear.hidden_grads(p["W_hh"], p["W_qh"], dL_dO), axis=1)
    for t in (0, p["T"] // 2, p["T"] - 1):
        closed = np.linalg.norm(np.linalg.matrix_power(p["W_hh"].T, p["T"] - 1 - t) @ p["W_qh"].T @ p["g"])
        yield f"||dL/dh_{t + 1}|| by (9.7.14)", float(recursion[t]), float(answer["norms"][t])
        yield f"||dL/dh_{t + 1}|| by (9.7.15)", float(closed), float(answer["norms"][t])
    rho = max(abs(np.linalg.eigvals(p["W_hh"])))
    yield "growth is within 30 % of the spectral radius", float(answer["growth"]), float(rho), 0.3 * rho
