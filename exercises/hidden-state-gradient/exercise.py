"""hidden-state-gradient: dL/dh_t from the closed form (9.7.15) and its coefficient matrices."""
import numpy as np

from grader.reference import linear


def generate(rng):
    """Non-symmetric W_hh with spectral radius 0.7..1.1, q != h, at least three terms in the sum."""
    T = int(rng.integers(5, 9))
    h = int(rng.integers(2, 5))
    q = int(rng.choice([n for n in (2, 3) if n != h]))
    W_hh = rng.standard_normal((h, h))
    W_hh *= rng.uniform(0.7, 1.1) / max(abs(np.linalg.eigvals(W_hh)))
    return {
        "W_hh": W_hh,
        "W_qh": rng.standard_normal((q, h)) / np.sqrt(h),
        "dL_do": rng.standard_normal((T, q)) / T,
        "t": int(rng.integers(1, T - 1)),
    }


def edge_cases(rng):
    """t = T (one term), h = 1, and t = 1 over a long horizon."""
    return [{"W_hh": rng.standard_normal((3, 3)) / 2, "W_qh": rng.standard_normal((2, 3)),
             "dL_do": rng.standard_normal((4, 2)), "t": 4},
            {"W_hh": np.array([[0.8]]), "W_qh": rng.standard_normal((2, 1)), "dL_do": rng.standard_normal((5, 2)), "t": 2},
            {"W_hh": rng.standard_normal((2, 2)) / 2, "W_qh": rng.standard_normal((3, 2)),
             "dL_do": rng.standard_normal((12, 3)), "t": 1}]


def solve(p):
    """dL_dh_t (h,) and coefficients (T - t + 1, h, q): entry s - t is (W_hh^T)^(s-t) W_qh^T."""
    return _closed_form(p, lambda s, t, T: s - t, transpose_W=True)


def _closed_form(p, power, transpose_W):
    W = p["W_hh"].T if transpose_W else p["W_hh"]
    T, t = p["dL_do"].shape[0], p["t"]
    coeffs = np.stack([np.linalg.matrix_power(W, power(s, t, T)) @ p["W_qh"].T for s in range(t, T + 1)])
    return {"dL_dh_t": np.einsum("shq,sq->h", coeffs, p["dL_do"][t - 1:]), "coefficients": coeffs}


def _transposed(p):
    answer = solve(p)
    return {**answer, "coefficients": answer["coefficients"].transpose(0, 2, 1)}


VARIANTS = {
    "closed-form-mispaired": lambda p: _closed_form(p, lambda s, t, T: T - s, transpose_W=True),
    "closed-form-power-off-by-one": lambda p: _closed_form(p, lambda s, t, T: s - t + 1, transpose_W=True),
    "missing-transpose-in-recurrence": lambda p: _closed_form(p, lambda s, t, T: s - t, transpose_W=False),
    "transposed-convention": _transposed,
}


def check_against_recursion(p):
    """The closed form equals the recursion (9.7.14) at step t (used by the catalog test)."""
    return linear.hidden_grads(p["W_hh"], p["W_qh"], p["dL_do"])[p["t"] - 1]


def gradient_checks(p, answer, rng):
    """L(h_t) = sum_{s>=t} <dL/do_s, o_s> with o_s = W_qh W_hh^(s-t) h_t: central differences of L and
    of each o_s give dL_dh_t and every coefficient matrix; the recursion (9.7.14) gives dL_dh_t again."""
    from grader.reference.checks import directional_checks

    T, t, h = p["dL_do"].shape[0], p["t"], p["W_hh"].shape[0]

    def outputs(h_t):
        states = [h_t]
        for _ in range(t, T):
            states.append(p["W_hh"] @ states[-1])
        return np.stack(states) @ p["W_qh"].T  # (T - t + 1, q)

    def loss(h_t):
        return float(np.sum(outputs(h_t) * p["dL_do"][t - 1:]))

    h_t = rng.standard_normal(h)
    yield from directional_checks(loss, {"h_t": h_t}, {"h_t": answer["dL_dh_t"]}, rng)
    for k in range(T - t + 1):
        for j in range(p["W_qh"].shape[0]):
            def component(h_t, k=k, j=j):
                return float(outputs(h_t)[k, j])
            for label, fd, analytic in directional_checks(component, {"h_t": h_t},
                                                          {"h_t": answer["coefficients"][k][:, j]}, rng, 1):
                yield f"coefficients[{k}][:, {j}]", fd, analytic
    for i, (by_recursion, closed) in enumerate(zip(check_against_recursion(p), answer["dL_dh_t"])):
        yield f"dL_dh_t[{i}] by the recursion (9.7.14)", float(by_recursion), float(closed)
