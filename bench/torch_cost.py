"""What PyTorch costs in the sandbox: zygote start-up and memory, and per-job time, with and without
torch preloaded, measured side by side in one run.

Two deployments start as production starts them (by path, empty environment): a zygote with torch
(it forks the torch zygote that preloads it) and one with --without-torch. Each job is what the
service sends for a code submission (2 regular + 3 edge instances), timed at the sandbox client,
interleaved so that machine load hits every series alike: the numpy solution in the deployment
without torch (today's job) and with torch (it still forks from the small zygote), and the PyTorch
twin (relayed to the torch zygote; autograd refused on tanh-rnn-bptt, so the guard's cost is
included; allowed on minibatch-detach, d2l's loop with backward), and an empty job in each zygote
(the fixed cost: forks, jail, relay). Also: each zygote's memory, and a job's peak resident set
(ru_maxrss, shared pages included) with and without torch.

Usage: python bench/torch_cost.py [--runs 60]
"""
import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader.catalog import load_catalog  # noqa: E402
from grader.config import DefaultConfig  # noqa: E402
from grader.sandbox import ZYGOTE, SandboxClient  # noqa: E402

LIMITS = {"wall_s": 5.0, "cpu_s": 3, "memory_bytes": 1 << 30}
MAXRSS = ("import resource\n{imports}\ndef f(x):\n"
          "    return {{'maxrss_kb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}}\n")


def start_zygote(workdir, name, *flags):
    socket = str(Path(workdir) / f"{name}.sock")
    t0 = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-I", str(ZYGOTE), "--socket", socket, *flags], env={},
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    ready = json.loads(process.stdout.readline())
    return process, SandboxClient(socket), ready, time.perf_counter() - t0


def torch_zygote_of(pid):
    with open(f"/proc/{pid}/task/{pid}/children") as children:
        return int(children.read().split()[0])


def memory_of(pid):
    """VmRSS, VmSize (status) and Pss (smaps_rollup) of the zygote, in MiB."""
    fields = {}
    for name in ("status", "smaps_rollup"):
        with open(f"/proc/{pid}/{name}") as text:
            for line in text:
                key, _, rest = line.partition(":")
                if key in ("VmRSS", "VmSize", "Pss"):
                    fields[key] = int(rest.split()[0]) / 1024
    return fields


def job_series(catalog):
    """name -> (zygote key, source, entry point, instances, autograd)"""
    empty = "def f(x):\n    return {'a': 1.0}\n"  # the fixed cost of a job: forks, jail, relay
    series = {"empty job, numpy zygote": ("torch", empty, "f", [{"x": 1}], False),
              "empty job, torch zygote": ("torch", "# torch\n" + empty, "f", [{"x": 1}], False)}
    for exercise_id in ("tanh-rnn-bptt", "minibatch-detach"):
        exercise = catalog[exercise_id]
        instances = [exercise.instance(seed).params for seed in (1, 2)] + \
            [i.params for i in exercise.edge_instances(1)]
        entry, autograd = exercise.info["entry_point"], exercise.info["autograd"] == "allowed"
        series[f"{exercise_id}: numpy job, deployment without torch"] = ("plain", exercise.solution, entry,
                                                                         instances, autograd)
        series[f"{exercise_id}: numpy job, deployment with torch"] = ("torch", exercise.solution, entry,
                                                                      instances, autograd)
        series[f"{exercise_id}: torch job ({'autograd' if autograd else 'autograd refused'})"] = (
            "torch", exercise.torch_solution, entry, instances, autograd)
    return series


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=60)
    args = parser.parse_args()
    catalog = load_catalog([Path(p) for p in DefaultConfig.EXERCISE_DIRS], Path(DefaultConfig.MISCONCEPTION_SLUGS))
    with tempfile.TemporaryDirectory(prefix="bptt-torch-bench-") as workdir:
        plain = start_zygote(workdir, "plain", "--without-torch")
        torch = start_zygote(workdir, "torch")
        zygotes = {"plain": plain, "torch": torch}
        try:
            report(zygotes, job_series(catalog), args.runs)
        finally:
            for process, *_ in zygotes.values():
                process.terminate()
                process.wait(timeout=10)
                process.stdout.close()


def report(zygotes, series, runs):
    print(f"torch: {zygotes['torch'][2]['torch']}")
    print(f"{'process':<34}{'start s':>9}{'RSS MiB':>10}{'PSS MiB':>10}{'VmSize MiB':>12}{'job maxrss MiB':>16}")
    plain, torch = zygotes["plain"], zygotes["torch"]
    rows = [("zygote, deployment without torch", plain[0].pid, plain, False),
            ("zygote, deployment with torch", torch[0].pid, torch, False),
            ("torch zygote (its child)", torch_zygote_of(torch[0].pid), torch, True)]
    for label, pid, (_, client, _, started), named in rows:
        mem = memory_of(pid)
        probe = MAXRSS.format(imports="import torch" if named else "import numpy")
        maxrss = client.run(probe, "f", [{"x": 1}], LIMITS, torch=named).results[0]["value"]["maxrss_kb"] / 1024
        print(f"{label:<34}{started:>9.2f}{mem['VmRSS']:>10.0f}{mem['Pss']:>10.0f}{mem['VmSize']:>12.0f}"
              f"{maxrss:>16.0f}")
    samples = {name: [] for name in series}
    for _ in range(3):  # warm-up
        for name, (key, source, entry, instances, autograd) in series.items():
            zygotes[key][1].run(source, entry, instances, LIMITS, autograd=autograd, torch="torch" in source)
    for _ in range(runs):
        for name, (key, source, entry, instances, autograd) in series.items():
            t0 = time.perf_counter()
            outcome = zygotes[key][1].run(source, entry, instances, LIMITS, autograd=autograd, torch="torch" in source)
            samples[name].append((time.perf_counter() - t0) * 1000)
            assert outcome.status == "ok" and all(r["ok"] for r in outcome.results), (name, outcome.results)
    print(f"\n{'job (5 instances), ' + str(runs) + ' runs each, interleaved':<62}{'median ms':>10}{'p90 ms':>9}")
    for name, values in samples.items():
        print(f"{name:<62}{np.median(values):>10.1f}{np.percentile(values, 90):>9.1f}")


if __name__ == "__main__":
    main()
