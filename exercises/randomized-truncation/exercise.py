"""randomized-truncation: Tallec and Ollivier's estimator (9.7.8) in its recursive form."""
import numpy as np

from grader.catalog.exercise import SampleTarget

SAMPLES = 4000


def generate(rng):
    """pi_t in [0.3, 0.95], a realization with kept and cut steps, a bias of the unweighted
    estimator and of the one kept with 1 - pi but weighted 1/pi of at least 10 standard errors of
    a 4000-sample mean."""
    while True:
        T = int(rng.integers(5, 9))
        p = {"b": rng.uniform(0.5, 1.5, T) * rng.choice([-1, 1], T), "c": rng.uniform(0.6, 1.2, T),
             "pi": rng.uniform(0.3, 0.95, T)}
        keep = rng.random(T) < p["pi"]
        p["xi"] = np.where(keep, 1.0 / p["pi"], 0.0)
        p["seed"] = int(rng.integers(1, 2 ** 31))  # for the learner's sampler: np.random.default_rng(seed)
        exact, unweighted = _moments(p)[0], _moments(p, weight=np.ones(T))[0]
        swapped = _moments(p, keep=1.0 - p["pi"])[0]  # keep 1 - pi, weight 1/pi
        target = _target(p, _moments(p))
        if keep[1:].any() and not keep[1:].all() and abs(exact) >= 10 * target.standard_error and \
                min(abs(exact - unweighted), abs(exact - swapped)) >= 10 * target.standard_error:
            return p


def _moments(p, keep=None, weight=None):
    """E[z_T] and E[z_T^2] when xi_t = weight_t with probability keep_t (else 0), by the recursions
    m_t = b_t + E[xi_t] c_t m_{t-1} and s_t = b_t^2 + 2 b_t c_t E[xi_t] m_{t-1} + c_t^2 E[xi_t^2] s_{t-1}.
    The defaults are (9.7.8)'s: keep pi_t, weight 1/pi_t."""
    keep = p["pi"] if keep is None else keep
    weight = 1.0 / p["pi"] if weight is None else weight
    m = s = 0.0
    for b, c, e1, e2 in zip(p["b"], p["c"], keep * weight, keep * weight ** 2):
        m, s = b + e1 * c * m, b * b + 2 * b * c * e1 * m + c * c * e2 * s
    return float(m), float(s)


def _realized(p, xi):
    z = 0.0
    for b, c, x in zip(p["b"], p["c"], xi):
        z = b + x * c * z
    return np.float64(z)


def _draw(p, keep_prob, weight):
    """SAMPLES draws of z_T from np.random.default_rng(seed), the instance's derived seed."""
    keep = np.random.default_rng(p["seed"]).random((SAMPLES, len(p["b"]))) < keep_prob
    xi = np.where(keep, weight, 0.0)
    z = np.zeros(SAMPLES)
    for t in range(len(p["b"])):
        z = p["b"][t] + xi[:, t] * p["c"][t] * z
    return z


def _target(p, moments, keep_prob=None, weight=None):
    mean, second = moments
    keep_prob = p["pi"] if keep_prob is None else keep_prob
    weight = 1.0 / p["pi"] if weight is None else weight
    return SampleTarget(mean=mean, variance=second - mean ** 2, count=SAMPLES,
                        samples=_draw(p, keep_prob, weight))


def edge_cases(rng):
    """T = 2 (one recurrent step), and pi_t = 1 everywhere but the last step."""
    return [{"b": np.array([0.8, -1.1]), "c": np.array([0.9, 1.1]), "pi": np.array([0.5, 0.4]),
             "xi": np.array([2.0, 0.0]), "seed": int(rng.integers(1, 2 ** 31))},
            {"b": np.array([1.0, 0.5, -0.7, 1.2]), "c": np.array([1.0, 0.8, 1.1, 0.9]),
             "pi": np.array([1.0, 1.0, 1.0, 0.5]), "xi": np.array([1.0, 1.0, 1.0, 2.0]),
             "seed": int(rng.integers(1, 2 ** 31))}]


def solve(p):
    """z_T for the given realization, E[z_T], E[z_T^2], and honest samples of z_T."""
    mean, second = _moments(p)
    return {"z_T": _realized(p, p["xi"]), "mean": np.float64(mean), "second_moment": np.float64(second),
            "samples": _target(p, (mean, second))}


def _no_reweighting(p):
    mean, second = _moments(p, weight=np.ones_like(p["pi"]))
    return {"z_T": _realized(p, (p["xi"] > 0).astype(float)), "mean": np.float64(mean),
            "second_moment": np.float64(second), "samples": _target(p, (mean, second), weight=1.0)}


def _pi_swapped(p):
    swapped = 1.0 - p["pi"]
    mean, second = _moments(p, keep=swapped, weight=1.0 / swapped)
    xi = np.where(p["xi"] > 0, 1.0 / swapped, 0.0)
    return {"z_T": _realized(p, xi), "mean": np.float64(mean), "second_moment": np.float64(second),
            "samples": _target(p, (mean, second), keep_prob=swapped, weight=1.0 / swapped)}


def _pi_swapped_keep_only(p):
    """Kept with probability 1 - pi_t but weighted 1/pi_t: E[xi_t] = (1 - pi_t)/pi_t, biased."""
    swapped = 1.0 - p["pi"]
    mean, second = _moments(p, keep=swapped)
    return {"z_T": _realized(p, p["xi"]), "mean": np.float64(mean), "second_moment": np.float64(second),
            "samples": _target(p, (mean, second), keep_prob=swapped)}


def _not_recursive(p):
    """(9.7.8) as printed: xi_T times c_T times the exact a_{T-1}: nothing is truncated before T."""
    exact = _moments({k: p[k][:-1] for k in ("b", "c", "pi")})[0]
    b, c, pi, xi = p["b"][-1], p["c"][-1], p["pi"][-1], p["xi"][-1]
    mean = b + c * exact
    second = b * b + 2 * b * c * exact + c * c * exact ** 2 / pi
    return {**solve(p), "z_T": np.float64(b + xi * c * exact), "second_moment": np.float64(second),
            "mean": np.float64(mean)}


VARIANTS = {
    "randomized-no-reweighting": _no_reweighting,
    "randomized-pi-swapped/everywhere": _pi_swapped,
    "randomized-pi-swapped/keep-probability": _pi_swapped_keep_only,
    "randomized-not-recursive": _not_recursive,
    "no-recurrent-term": lambda p: {"z_T": np.float64(p["b"][-1]), "mean": np.float64(p["b"][-1]),
                                    "second_moment": np.float64(p["b"][-1] ** 2),
                                    "samples": SampleTarget(float(p["b"][-1]), 1e-300, SAMPLES,
                                                            np.full(SAMPLES, p["b"][-1]))},
}


def gradient_checks(p, answer, rng):
    """Monte Carlo with 400,000 draws agrees with the exact moments within 5 standard errors (the
    fourth element is that absolute tolerance), and E[z_T] equals the untruncated a_T of (9.7.7)."""
    T = len(p["b"])
    xi = np.where(rng.random((400_000, T)) < p["pi"], 1.0 / p["pi"], 0.0)
    z = np.zeros(len(xi))
    for t in range(T):
        z = p["b"][t] + xi[:, t] * p["c"][t] * z
    yield "E[z_T] by Monte Carlo", float(z.mean()), float(answer["mean"]), 5 * z.std() / np.sqrt(len(z))
    yield ("E[z_T^2] by Monte Carlo", float(np.mean(z ** 2)), float(answer["second_moment"]),
           5 * np.std(z ** 2) / np.sqrt(len(z)))
    full = sum(np.prod(p["c"][i + 1:]) * p["b"][i] for i in range(T))
    yield "E[z_T] equals the untruncated a_T", float(full), float(answer["mean"])
