"""minibatch-detach: d2l's train_epoch_ch8 over K sequential minibatches (detach between them)."""
import numpy as np

from grader.reference import clipping, minibatch, tanh_rnn
from grader.reference.checks import directional_checks

WEIGHTS = minibatch.WEIGHTS
GRADS = tuple("d" + w for w in WEIGHTS)


def generate(rng):
    """K = 3 minibatches, B != T, theta = 1 as in d2l, and a last-minibatch gradient norm >= 1.5
    so that clipping acts; mean |h| in 0.2..0.8."""
    while True:
        K, T, B = 3, int(rng.integers(3, 6)), int(rng.choice([2, 3]))
        if B == T:
            continue
        h, d, q = int(rng.integers(3, 5)), 5, 4  # d != h: a transposed W_xh shows in its shape
        gain = rng.uniform(1.5, 2.5)
        p = {"W_xh": gain * rng.standard_normal((d, h)) / np.sqrt(d),
             "W_hh": gain * rng.standard_normal((h, h)) / np.sqrt(h), "b_h": 0.2 * rng.standard_normal(h),
             "W_hq": gain * rng.standard_normal((h, q)) / np.sqrt(h), "b_q": 0.2 * rng.standard_normal(q),
             "X": rng.standard_normal((K, T, B, d)), "Y": rng.integers(0, q, size=(K, T, B)), "theta": 1.0}
        steps = minibatch.train_epoch(p, p["X"], p["Y"], p["theta"], clip=lambda g, theta: (g, None))
        H = tanh_rnn.tanh_forward(*(p[k] for k in WEIGHTS), p["X"][0], np.zeros((B, h))).H
        if clipping.global_norm(list(steps[-1].grads.values())) >= 1.5 and 0.2 <= np.mean(np.abs(H)) <= 0.8:
            return p


def edge_cases(rng):
    """One minibatch (nothing to carry), B = 1, and T = 1; theta = 1 as in d2l."""
    def case(K, T, B, h=3, d=4, q=4):
        return {"W_xh": 2 * rng.standard_normal((d, h)) / np.sqrt(d), "W_hh": 2 * rng.standard_normal((h, h)) / np.sqrt(h),
                "b_h": 0.2 * rng.standard_normal(h), "W_hq": 2 * rng.standard_normal((h, q)) / np.sqrt(h),
                "b_q": 0.2 * rng.standard_normal(q), "X": rng.standard_normal((K, T, B, d)),
                "Y": rng.integers(0, q, size=(K, T, B)), "theta": 1.0}
    return [case(1, 4, 2), case(3, 4, 1), case(3, 1, 2)]


def _last(p, **options):
    step = minibatch.train_epoch(p, p["X"], p["Y"], p["theta"], **options)[-1]
    return {"loss": np.float64(step.loss), **step.grads, "state": step.state}


def solve(p):
    """For the last minibatch: loss, the clipped dW_xh, dW_hh, db_h, dW_hq, db_q, and the state (B, h)."""
    return _last(p)


def _per_tensor(grads, theta):
    return [clipping.grad_clipping([g], theta)[0][0] for g in grads], None


def _scaled_loss(p, factor):
    """A loss reduced differently scales the gradients too, which clipping then hides."""
    answer = solve(p)
    return {**answer, "loss": factor * answer["loss"]}


VARIANTS = {
    "no-detach": lambda p: _last(p, state="keep"),
    "state-reset-instead-of-detach": lambda p: _last(p, state="reset"),
    "no-recurrent-term": lambda p: _last(p, rule=tanh_rnn.BackwardRule(recurrence="none")),
    "clipping-per-tensor": lambda p: _last(p, clip=_per_tensor),
    "batch-reduction/sum-over-batch": lambda p: _scaled_loss(p, p["Y"].shape[2]),
    "missing-mean-over-time": lambda p: _scaled_loss(p, p["Y"].shape[1]),
}


def scales(p):
    return {"T": p["Y"].shape[1], "B": p["Y"].shape[2]}


def gradient_checks(p, answer, rng):
    """Central differences of the last minibatch's loss with its incoming state held constant, then
    d2l's clipping; the carried state by running the three minibatches one after the other."""
    H = np.zeros((p["Y"].shape[2], p["W_hh"].shape[0]))
    for k in range(p["X"].shape[0] - 1):
        H = tanh_rnn.tanh_forward(*(p[w] for w in WEIGHTS), p["X"][k], H).H[-1]
    carried = H.copy()

    def loss(W_xh, W_hh, b_h, W_hq, b_q):
        return tanh_rnn.cross_entropy(tanh_rnn.tanh_forward(W_xh, W_hh, b_h, W_hq, b_q, p["X"][-1], carried).O,
                                      p["Y"][-1])

    weights = {w: p[w] for w in WEIGHTS}
    unclipped = tanh_rnn.tanh_bptt(*(p[w] for w in WEIGHTS), p["X"][-1], carried, p["Y"][-1])
    scale = min(1.0, p["theta"] / clipping.global_norm([unclipped[g] for g in GRADS]))
    yield from directional_checks(loss, weights, {w: answer["d" + w] / scale for w in WEIGHTS}, rng)
    yield "loss", float(loss(**weights)), float(answer["loss"])
    final = tanh_rnn.tanh_forward(*(p[w] for w in WEIGHTS), p["X"][-1], carried).H[-1]
    for index in np.ndindex(final.shape):
        yield f"state{list(index)}", float(final[index]), float(answer["state"][index])
