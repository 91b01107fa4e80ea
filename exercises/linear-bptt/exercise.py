"""linear-bptt: full BPTT gradients of the book's linear, bias-free RNN, eqs (9.7.9)-(9.7.16)."""
import numpy as np

from grader.reference import linear


def generate(rng):
    """Sizes with d != h != q, non-symmetric W_hh of spectral radius 0.6..1.05, h0 != 0."""
    T = int(rng.integers(4, 8))
    h = int(rng.integers(3, 6))
    d = int(rng.choice([n for n in (2, 3, 4) if n != h]))
    q = int(rng.choice([n for n in (2, 3) if n != h]))
    W_hh = rng.standard_normal((h, h))
    W_hh *= rng.uniform(0.6, 1.05) / max(abs(np.linalg.eigvals(W_hh)))
    return {
        "W_hx": rng.standard_normal((h, d)) / np.sqrt(d),
        "W_hh": W_hh,
        "W_qh": rng.standard_normal((q, h)) / np.sqrt(h),
        "X": rng.standard_normal((T, d)),
        "h0": rng.standard_normal(h),
        "Y": rng.standard_normal((T, q)),
    }


def edge_cases(rng):
    """T = 1 (no recurrence at all), h = 1, and d = 1."""
    cases = []
    for T, h, d, q in ((1, 3, 2, 2), (4, 1, 2, 2), (4, 3, 1, 2)):
        cases.append({"W_hx": rng.standard_normal((h, d)), "W_hh": 0.8 * rng.standard_normal((h, h)) / np.sqrt(h),
                      "W_qh": rng.standard_normal((q, h)), "X": rng.standard_normal((T, d)),
                      "h0": rng.standard_normal(h), "Y": rng.standard_normal((T, q))})
    return cases


def solve(p):
    """The reference: dW_qh (q, h), dW_hx (h, d), dW_hh (h, h), dL_dh (T, h)."""
    return linear.linear_bptt(p["W_hx"], p["W_hh"], p["W_qh"], p["X"], p["h0"], p["Y"])


def scales(p):
    return {"T": p["X"].shape[0]}


def _from_hidden(p, dL_dH, dL_dO=None):
    """Answer built from a (possibly wrong) dL/dh_t with the correct (9.7.12) and (9.7.16)."""
    H, O = linear.linear_forward(p["W_hx"], p["W_hh"], p["W_qh"], p["X"], p["h0"])
    dL_dO = linear.output_grads(O, p["Y"]) if dL_dO is None else dL_dO
    return {**linear.param_grads(p["X"], H, p["h0"], dL_dO, dL_dH), "dL_dh": dL_dH}


def _recursion(p, W_back, output_term=True, recurrent=True):
    """g_t = [W_qh^T dL/do_t] + [W_back g_{t+1}]: the recursion (9.7.14) with one piece changed."""
    _, O = linear.linear_forward(p["W_hx"], p["W_hh"], p["W_qh"], p["X"], p["h0"])
    dL_dO = linear.output_grads(O, p["Y"])
    T = dL_dO.shape[0]
    dL_dH = np.empty((T, p["W_hh"].shape[0]))
    g_next = np.zeros(p["W_hh"].shape[0])
    for t in reversed(range(T)):
        local = p["W_qh"].T @ dL_dO[t] if (output_term or t == T - 1) else 0.0
        g_next = dL_dH[t] = local + (W_back @ g_next if recurrent else 0.0)
    return _from_hidden(p, dL_dH)


def _scaled(p, factor):
    return {name: factor * value for name, value in solve(p).items()}


def _h_t_instead_of_h_prev(p):
    answer = solve(p)
    H, _ = linear.linear_forward(p["W_hx"], p["W_hh"], p["W_qh"], p["X"], p["h0"])
    return {**answer, "dW_hh": answer["dL_dh"].T @ H}


def _transposed(p):
    answer = solve(p)
    return {name: (value if name == "dL_dh" else value.T) for name, value in answer.items()}


def _sum_range(p):
    answer = solve(p)
    H, _ = linear.linear_forward(p["W_hx"], p["W_hh"], p["W_qh"], p["X"], p["h0"])
    return {**answer, "dW_hh": answer["dL_dh"][1:].T @ H[:-1]}


def _mispaired(p):
    """(9.7.15) read as power T - i paired with dL/do_i."""
    _, O = linear.linear_forward(p["W_hx"], p["W_hh"], p["W_qh"], p["X"], p["h0"])
    dL_dO = linear.output_grads(O, p["Y"])
    T = dL_dO.shape[0]
    dL_dH = np.stack([
        sum(np.linalg.matrix_power(p["W_hh"].T, T - i) @ p["W_qh"].T @ dL_dO[i - 1] for i in range(t, T + 1))
        for t in range(1, T + 1)])
    return _from_hidden(p, dL_dH, dL_dO)


VARIANTS = {
    "h-t-instead-of-h-prev": _h_t_instead_of_h_prev,
    "missing-mean-over-time": lambda p: _scaled(p, p["X"].shape[0]),
    "double-mean-over-time": lambda p: _scaled(p, 1.0 / p["X"].shape[0]),
    "missing-transpose-in-recurrence": lambda p: _recursion(p, p["W_hh"]),
    "transposed-convention": _transposed,
    "no-recurrent-term": lambda p: _recursion(p, p["W_hh"].T, recurrent=False),
    "missing-output-term": lambda p: _recursion(p, p["W_hh"].T, output_term=False),
    "sum-range-off-by-one": _sum_range,
    "closed-form-mispaired": _mispaired,
}


def gradient_checks(p, answer, rng):
    """Central differences of L for the weights, and of L as a function of each state h_t."""
    from grader.reference.checks import directional_checks

    def loss(W_hx, W_hh, W_qh, X, h0, Y):
        return linear.squared_loss(linear.linear_forward(W_hx, W_hh, W_qh, X, h0)[1], Y)

    grads = {"W_qh": answer["dW_qh"], "W_hx": answer["dW_hx"], "W_hh": answer["dW_hh"]}
    yield from directional_checks(loss, p, grads, rng)
    H, O = linear.linear_forward(p["W_hx"], p["W_hh"], p["W_qh"], p["X"], p["h0"])
    for t in range(p["X"].shape[0]):
        def loss_from_state(h_t, t=t):
            _, O_rest = linear.linear_forward(p["W_hx"], p["W_hh"], p["W_qh"], p["X"][t + 1:], h_t)
            return linear.squared_loss(np.vstack([O[:t], p["W_qh"] @ h_t, O_rest]), p["Y"])
        for label, fd, analytic in directional_checks(loss_from_state, {"h_t": H[t]},
                                                      {"h_t": answer["dL_dh"][t]}, rng, directions=1):
            yield f"dL_dh[t={t + 1}]", fd, analytic
