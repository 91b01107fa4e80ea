"""tanh-rnn-bptt: gradients of the d2l scratch RNN (code convention, tanh, biases, batch, mean CE)."""
import numpy as np

from grader.reference import tanh_rnn

PARAMS = ("W_xh", "W_hh", "b_h", "W_hq", "b_q", "X", "H0", "Y")
MATRICES = ("dW_xh", "dW_hh", "dW_hq")


def generate(rng):
    """d != h != q, B != T, B >= 2, T >= 3, non-symmetric W_hh, H0 != 0, mean |h| in 0.2..0.8."""
    while True:
        T = int(rng.integers(3, 6))
        B = int(rng.choice([n for n in (2, 3) if n != T]))
        h = int(rng.integers(3, 5))
        d = int(rng.choice([n for n in (2, 3, 5) if n != h]))
        q = int(rng.choice([n for n in (3, 4, 5) if n != h]))
        gain = rng.uniform(0.5, 1.2)
        p = {
            "W_xh": gain * rng.standard_normal((d, h)) / np.sqrt(d),
            "W_hh": gain * rng.standard_normal((h, h)) / np.sqrt(h),
            "b_h": 0.2 * rng.standard_normal(h),
            "W_hq": rng.standard_normal((h, q)) / np.sqrt(h),
            "b_q": 0.2 * rng.standard_normal(q),
            "X": rng.standard_normal((T, B, d)),
            "H0": 0.5 * rng.standard_normal((B, h)),
            "Y": rng.integers(0, q, size=(T, B)),
        }
        fwd = tanh_rnn.tanh_forward(*(p[k] for k in PARAMS[:-1]))
        if 0.2 <= np.mean(np.abs(fwd.H)) <= 0.8 and np.linalg.norm(p["H0"]) >= 0.2:
            return p


def edge_cases(rng):
    """T = 1, B = 1, h = 1: shapes that break code written for the common case."""
    cases = []
    for T, B, h in ((1, 2, 3), (3, 1, 3), (3, 2, 1)):
        d, q = 2, 3
        cases.append({"W_xh": rng.standard_normal((d, h)) / np.sqrt(d), "W_hh": rng.standard_normal((h, h)) / np.sqrt(h),
                      "b_h": 0.2 * rng.standard_normal(h), "W_hq": rng.standard_normal((h, q)) / np.sqrt(h),
                      "b_q": 0.2 * rng.standard_normal(q), "X": rng.standard_normal((T, B, d)),
                      "H0": 0.5 * rng.standard_normal((B, h)), "Y": rng.integers(0, q, size=(T, B))})
    return cases


def solve(p, rule=tanh_rnn.BackwardRule()):
    """dW_xh (d, h), dW_hh (h, h), db_h (h,), dW_hq (h, q), db_q (q,), dH0 (B, h)."""
    grads = tanh_rnn.tanh_bptt(*(p[k] for k in PARAMS), rule=rule)
    return {name: grads[name] for name in ("dW_xh", "dW_hh", "db_h", "dW_hq", "db_q", "dH0")}


def scales(p):
    T, B = p["Y"].shape
    return {"T": T, "B": B}


def _scaled(p, factor):
    return {name: factor * value for name, value in solve(p).items()}


def _rule(**knobs):
    return lambda p: solve(p, tanh_rnn.BackwardRule(**knobs))


def _transposed(p):
    return {name: (value.T if name in MATRICES else value) for name, value in solve(p).items()}


VARIANTS = {
    "missing-tanh-derivative": _rule(tanh_grad=lambda fwd, t: np.ones_like(fwd.H[t])),
    "tanh-derivative-wrong-step/previous-step": _rule(tanh_grad=lambda fwd, t: 1.0 - fwd.H_prev[t] ** 2),
    "tanh-derivative-of-preactivation/preactivation": _rule(tanh_grad=lambda fwd, t: 1.0 - fwd.A[t] ** 2),
    "tanh-derivative-of-preactivation/tanh-of-state": _rule(tanh_grad=lambda fwd, t: 1.0 - np.tanh(fwd.H[t]) ** 2),
    "h-t-instead-of-h-prev": _rule(dW_hh_state="current"),
    "missing-mean-over-time": lambda p: _scaled(p, p["Y"].shape[0]),
    "double-mean-over-time": lambda p: _scaled(p, 1.0 / p["Y"].shape[0]),
    "batch-reduction/sum-over-batch": lambda p: _scaled(p, p["Y"].shape[1]),
    "missing-transpose-in-recurrence": _rule(recurrence="no-transpose"),
    "transposed-convention": _transposed,
    "no-recurrent-term": _rule(recurrence="none"),
    "missing-output-term": _rule(output_term=False),
    "sum-range-off-by-one": _rule(skip_first_in_dW_hh=True),
}


def gradient_checks(p, answer, rng):
    """Central differences of the mean cross-entropy for every parameter and for H0."""
    from grader.reference.checks import directional_checks

    def loss(W_xh, W_hh, b_h, W_hq, b_q, X, H0, Y):
        return tanh_rnn.cross_entropy(tanh_rnn.tanh_forward(W_xh, W_hh, b_h, W_hq, b_q, X, H0).O, Y)

    names = ("W_xh", "W_hh", "b_h", "W_hq", "b_q", "H0")
    yield from directional_checks(loss, p, {n: answer["d" + n] for n in names}, rng)
