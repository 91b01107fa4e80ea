"""The README's benchmark commands still run (tiny sizes; their figures are not checked here, only
that each prints what the README shows)."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(*args, timeout=600):
    done = subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_numeric_benchmark_prints_both_baselines_and_the_ratios():
    """With --compare, another checkout's service (here this one's) is loaded in the same rounds."""
    out = run("bench/numeric.py", "--seconds", "1", "--rounds", "1", "--clients", "2", "--no-postgres",
              "--compare", str(ROOT))
    for line in ("baseline: params, reference, allclose", "baseline: regenerate from seed",
                 "service, SQLite (FULL)", "of the params baseline", "of the seed baseline"):
        assert line in out, out
    compared = [line for line in out.splitlines() if line.startswith("service, SQLite (FULL), ")]
    assert len(compared) == 2 and "of the params baseline" in compared[1], out  # its figures and its ratios


def test_profile_prints_each_steps_share():
    out = run("bench/profile_numeric.py", "--submissions", "20")
    assert "CPU per submission" in out and "grading (ladder, comparison, diagnosis)" in out, out
    shares = [float(line.rsplit(None, 1)[-1].rstrip("%")) for line in out.splitlines() if line.endswith("%")]
    assert len(shares) == 11 and 0 < sum(shares) <= 100.5, out


def test_scale_benchmark_runs_on_sqlite():
    out = run("bench/scale_db.py", "--backend", "sqlite", "--sizes", "20,40")
    assert "numeric submission on an empty database" in out and "growth from 20 to 40 learners" in out, out
