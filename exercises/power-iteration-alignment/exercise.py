"""power-iteration-alignment: exercise 1.2, how fast M^k x lines up with v_1."""
import numpy as np

from grader.reference import spectral


def generate(rng):
    """A negative dominant eigenvalue, gap r = |l2|/|l1| in [0.5, 0.9], |c_1| >= 0.1 ||x||, three
    increasing k with sin theta_k >= 1e-8 (where even a projection-based answer is good to 1e-8
    relative), and eps reached at some k <= 200."""
    while True:
        n = int(rng.integers(3, 6))
        top = rng.uniform(1.0, 1.5)
        r = rng.uniform(0.5, 0.9)
        rest = rng.uniform(0.1, r * 0.95, n - 2) * top * rng.choice([-1.0, 1.0], n - 2)
        lam = np.concatenate([[-top, r * top * rng.choice([-1.0, 1.0])], rest])
        M = spectral.symmetric_with_eigenvalues(rng, lam)
        x = rng.standard_normal(n)
        ks = np.sort(rng.choice(np.arange(1, 41), size=3, replace=False))
        eps = float(10 ** rng.uniform(-6, -2))
        _, c = spectral.eigen_coordinates(M, x)
        if abs(c[0]) >= 0.1 * np.linalg.norm(x) and (lam > 0).any() and \
                spectral.alignment_sin(M, x, int(ks[-1])) >= 1e-8 and spectral.alignment_sin(M, x, 200) <= eps:
            return {"M": M, "x": x, "ks": ks, "eps": eps}


def edge_cases(rng):
    """n = 2, a positive dominant eigenvalue, and k = 1."""
    M2 = spectral.symmetric_with_eigenvalues(rng, np.array([-1.2, 0.6]))
    M3 = spectral.symmetric_with_eigenvalues(rng, np.array([1.3, -0.9, 0.2]))
    return [{"M": M2, "x": np.array([1.0, 0.5]) @ np.linalg.eigh(M2)[1].T, "ks": np.array([1, 2, 3]), "eps": 1e-3},
            {"M": M3, "x": rng.standard_normal(3) + np.linalg.eigh(M3)[1][:, -1], "ks": np.array([1, 5, 9]),
             "eps": 1e-2}]


def solve(p):
    """sin_theta (3,), k_min (an integer), bound (3,)."""
    return {"sin_theta": np.array([spectral.alignment_sin(p["M"], p["x"], int(k)) for k in p["ks"]]),
            "k_min": spectral.smallest_aligned_k(p["M"], p["x"], p["eps"]),
            "bound": np.array([spectral.alignment_bound(p["M"], p["x"], int(k)) for k in p["ks"]])}


def _squared_rate(p):
    lam, c = spectral.eigen_coordinates(p["M"], p["x"])
    r = abs(lam[1]) / abs(lam[0])
    bound = np.array([r ** (2 * int(k)) * np.linalg.norm(c[1:]) / abs(c[0]) for k in p["ks"]])
    return {**solve(p), "bound": bound}


def _signed_order(p):
    """v_1 taken as the eigenvector of the largest signed eigenvalue (the 0.14 wording)."""
    lam, c = spectral.eigen_coordinates(p["M"], p["x"])
    order = np.argsort(-lam)
    lam, c = lam[order], c[order]
    sin = [float(np.linalg.norm((c * lam ** int(k))[1:]) / np.linalg.norm(c * lam ** int(k))) for k in p["ks"]]
    r = abs(lam[1]) / abs(lam[0])
    bound = [r ** int(k) * np.linalg.norm(c[1:]) / abs(c[0]) for k in p["ks"]]
    return {**solve(p), "sin_theta": np.array(sin), "bound": np.array(bound)}


def _elementwise(p):
    lam, V = np.linalg.eigh(p["M"])
    v1 = V[:, np.argmax(np.abs(lam))]
    sin = []
    for k in p["ks"]:
        y = (p["M"] ** int(k)) @ p["x"]
        sin.append(float(np.linalg.norm(y - (y @ v1) * v1) / np.linalg.norm(y)))
    return {**solve(p), "sin_theta": np.array(sin)}


VARIANTS = {
    "alignment-squared-rate": _squared_rate,
    "eigen-sorted-by-value": _signed_order,
    "elementwise-matrix-power": _elementwise,
}


def gradient_checks(p, answer, rng):
    """Independent formulation: the projection of an explicitly computed M^k x off v_1 (no
    cancellation), agreeing to 1e-9 relative; the bound bounds sin; k_min is the first k below eps."""
    lam, V = np.linalg.eigh(p["M"])
    v1 = V[:, np.argmax(np.abs(lam))]
    for k, sin, bound in zip(p["ks"], answer["sin_theta"], answer["bound"]):
        y = np.linalg.matrix_power(p["M"], int(k)) @ p["x"]
        direct = np.linalg.norm(y - (y @ v1) * v1) / np.linalg.norm(y)
        yield f"sin theta_{k} by projection", float(direct), float(sin), 1e-9 * float(sin) + 1e-14
        yield f"sin theta_{k} <= bound", float(min(sin, bound)), float(sin), 0.0
    k_min = int(answer["k_min"])
    before = spectral.alignment_sin(p["M"], p["x"], k_min - 1) if k_min > 1 else np.inf
    yield "k_min - 1 is above eps", float(before > p["eps"]), 1.0
    yield "k_min is below eps", float(spectral.alignment_sin(p["M"], p["x"], k_min) <= p["eps"]), 1.0
