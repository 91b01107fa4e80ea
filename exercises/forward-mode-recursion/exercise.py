"""forward-mode-recursion: a_t = dh_t/dw by the recursion (9.7.4)-(9.7.7), scalar w, vector state."""
import numpy as np

from grader.reference import forward_mode

ARGS = ("w", "A", "U", "v", "X", "y", "h0")


def generate(rng):
    """h >= 2 (the product order shows), d != h, non-symmetric A, mean |h| in 0.2..0.8, h0 != 0."""
    while True:
        T, h = int(rng.integers(4, 8)), int(rng.integers(2, 5))
        d = int(rng.choice([n for n in (2, 3) if n != h]))  # d != h: a transposed U shows in its shape
        p = {"w": float(rng.uniform(0.5, 1.5)), "A": rng.standard_normal((h, h)) / np.sqrt(h),
             "U": rng.standard_normal((h, d)) / np.sqrt(d), "v": rng.standard_normal(h),
             "X": rng.standard_normal((T, d)), "y": rng.standard_normal(T), "h0": 0.5 * rng.standard_normal(h)}
        H = forward_mode.scalar_rnn_forward(p["w"], p["A"], p["U"], p["X"], p["h0"])
        if 0.2 <= np.mean(np.abs(H)) <= 0.8 and np.linalg.norm(p["h0"]) >= 0.2:
            return p


def edge_cases(rng):
    """T = 1 (a_1 = b_1), h = 1 (products commute), and a long sequence."""
    def case(T, h, d=2):
        return {"w": 0.9, "A": rng.standard_normal((h, h)) / np.sqrt(h), "U": rng.standard_normal((h, d)),
                "v": rng.standard_normal(h), "X": rng.standard_normal((T, d)), "y": rng.standard_normal(T),
                "h0": 0.5 * rng.standard_normal(h)}
    return [case(1, 3), case(5, 1), case(20, 3)]


def _states(p):
    return forward_mode.scalar_rnn_forward(p["w"], p["A"], p["U"], p["X"], p["h0"])


def _answer(p, a):
    """a: (T, h) -> the answer with dL/dw = (1/T) sum_t (o_t - y_t) v . a_t."""
    residual = _states(p) @ p["v"] - p["y"]
    return {"a": a, "dL_dw": np.float64(np.mean(residual * (a @ p["v"])))}


def solve(p):
    """a (T, h): dh_t/dw for t = 1..T; dL_dw: a float."""
    a, dL_dw = forward_mode.scalar_rnn_gradient(*(p[k] for k in ARGS))
    return {"a": a, "dL_dw": np.float64(dL_dw)}


def scales(p):
    return {"T": p["X"].shape[0]}


def _partials(p, slope_of=None):
    """b (T, h), c (T, h, h) of (9.7.6), with the tanh slope taken from slope_of(H, H_prev)."""
    H = _states(p)
    H_prev = np.vstack([p["h0"][None], H[:-1]])
    slope = 1.0 - H ** 2 if slope_of is None else slope_of(H, H_prev)
    return slope * (H_prev @ p["A"].T), slope[:, :, None] * (p["w"] * p["A"])[None]


def _sum_of_products(b, c, first_factor, reverse):
    """a_t = sum_i (product of c_j for j from i + first_factor to t) b_i, (9.7.7) with knobs."""
    T, h = b.shape
    a = np.zeros((T, h))
    for t in range(T):
        for i in range(t + 1):
            product = np.eye(h)
            for j in range(i + first_factor, t + 1):
                product = product @ c[j] if reverse else c[j] @ product
            a[t] += product @ b[i]
    return a


def _sum_variant(first_factor=1, reverse=False):
    def variant(p):
        b, c = _partials(p)
        return _answer(p, _sum_of_products(b, c, first_factor, reverse))
    return variant


def _local_only(p):
    b, _ = _partials(p)
    return _answer(p, b)


def _slope_variant(slope_of):
    def variant(p):
        b, c = _partials(p, slope_of)
        return _answer(p, forward_mode.accumulate(b[:, :, None], c)[:, :, 0])
    return variant


VARIANTS = {
    "no-recurrent-term": _local_only,
    "product-index-off-by-one": _sum_variant(first_factor=0),
    "jacobian-product-reversed": _sum_variant(reverse=True),
    "missing-tanh-derivative": _slope_variant(lambda H, H_prev: np.ones_like(H)),
    "tanh-derivative-wrong-step/previous-step": _slope_variant(lambda H, H_prev: 1.0 - H_prev ** 2),
    "missing-mean-over-time": lambda p: {**solve(p), "dL_dw": p["X"].shape[0] * solve(p)["dL_dw"]},
}


def gradient_checks(p, answer, rng):
    """Central differences in w of every state h_t and of L; reverse mode agrees on dL/dw."""
    step = 1e-6
    plus = forward_mode.scalar_rnn_forward(p["w"] + step, p["A"], p["U"], p["X"], p["h0"])
    minus = forward_mode.scalar_rnn_forward(p["w"] - step, p["A"], p["U"], p["X"], p["h0"])
    for t in range(p["X"].shape[0]):
        for i in range(p["A"].shape[0]):
            yield f"a[t={t + 1}][{i}]", (plus[t, i] - minus[t, i]) / (2 * step), float(answer["a"][t, i])
    loss = {s: forward_mode.scalar_rnn_loss(**{**{k: p[k] for k in ARGS}, "w": p["w"] + s}) for s in (step, -step)}
    yield "dL_dw", (loss[step] - loss[-step]) / (2 * step), float(answer["dL_dw"])
    yield "dL_dw by reverse mode", _reverse_mode(p), float(answer["dL_dw"])


def _reverse_mode(p):
    """dL/dw by backpropagation through time, an independent formulation."""
    H = _states(p)
    T = H.shape[0]
    H_prev = np.vstack([p["h0"][None], H[:-1]])
    g_next, total = np.zeros(H.shape[1]), 0.0
    for t in reversed(range(T)):
        g = (H[t] @ p["v"] - p["y"][t]) / T * p["v"] + g_next
        delta = g * (1.0 - H[t] ** 2)
        total += delta @ (p["A"] @ H_prev[t])
        g_next = p["w"] * p["A"].T @ delta
    return float(total)
