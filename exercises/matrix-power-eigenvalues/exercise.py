"""matrix-power-eigenvalues: exercise 1.1, the eigenvalues of M^k for a symmetric M."""
import numpy as np

from grader.reference import spectral


def generate(rng):
    """n in 3..6, eigenvalues +-[0.3, 1.4] with at least one negative, distinct moduli, odd k in
    3..15 so the sign of a negative lambda^k shows; |lambda|^k stays in 1e-30..1e10."""
    while True:
        n, k = int(rng.integers(3, 7)), int(rng.choice(np.arange(3, 16, 2)))
        lam = rng.uniform(0.3, 1.4, n) * rng.choice([-1.0, 1.0], n)
        moduli = np.sort(np.abs(lam))
        if (lam < 0).any() and (lam > 0).any() and np.min(np.diff(moduli)) > 0.05 \
                and 1e-30 <= moduli[0] ** k and moduli[-1] ** k <= 1e10:
            return {"M": spectral.symmetric_with_eigenvalues(rng, lam), "k": k}


def edge_cases(rng):
    """n = 1, k = 1 (M^1 = M), and a diagonal M with an even power."""
    return [{"M": np.array([[-0.7]]), "k": 3}, {"M": spectral.symmetric_with_eigenvalues(rng, np.array([1.2, -0.5, 0.3])), "k": 1},
            {"M": np.diag([0.9, -1.1, 0.4]), "k": 4}]


def solve(p):
    """eigenvalues (n,): of M^k, sorted by modulus, descending."""
    return {"eigenvalues": spectral.power_eigenvalues(p["M"], p["k"])}


VARIANTS = {
    "eigen-k-times-lambda": lambda p: {"eigenvalues": spectral.by_modulus(p["k"] * np.linalg.eigvalsh(p["M"]))},
    "eigen-sign-lost": lambda p: {"eigenvalues": spectral.by_modulus(np.abs(np.linalg.eigvalsh(p["M"])) ** p["k"])},
    "eigen-sorted-by-value/descending": lambda p: {"eigenvalues": np.sort(np.linalg.eigvalsh(p["M"]) ** p["k"])[::-1]},
    # the older edition's ascending signed order; on some matrices it equals the modulus order,
    # and the generator then draws again (a hidden variant)
    "eigen-sorted-by-value/ascending": lambda p: {"eigenvalues": np.sort(np.linalg.eigvalsh(p["M"]) ** p["k"])},
    "elementwise-matrix-power": lambda p: {"eigenvalues": spectral.by_modulus(np.linalg.eigvalsh(p["M"] ** p["k"]))},
}


def gradient_checks(p, answer, rng):
    """No derivative here: M^k v_i = lambda_i^k v_i for every eigenvector (the proof of 1.1, checked
    with an explicit matrix power), and eigvalsh of M^k agrees up to its rounding, eps |lambda_1|^k."""
    lam, V = np.linalg.eigh(p["M"])
    Mk = np.linalg.matrix_power(p["M"], p["k"])
    scale = np.max(np.abs(lam)) ** p["k"]
    for i in range(len(lam)):
        residual = np.linalg.norm(Mk @ V[:, i] - lam[i] ** p["k"] * V[:, i])
        yield f"M^k v_{i + 1} = lambda^k v_{i + 1}", float(residual), 0.0, 1e-10 * scale
    direct = spectral.by_modulus(np.linalg.eigvalsh(Mk))
    for i, (value, reference) in enumerate(zip(direct, answer["eigenvalues"])):
        yield f"eigvalsh(M^k)[{i}]", float(value), float(reference), 1e-10 * scale
