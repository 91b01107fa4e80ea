"""Baseline for bench/code.py: one fresh interpreter per submission (import numpy, exec, call, JSON).

Reads {"source", "entry_point", "instances"} on stdin and prints the per-instance results; no
isolation layer at all, which only flatters the baseline.
"""
import json
import sys

import numpy as np


def main():
    request = json.load(sys.stdin)
    namespace = {}
    exec(compile(request["source"], "<submission>", "exec"), namespace)
    results = []
    for inputs in request["instances"]:
        args = {k: np.asarray(v["array"], dtype=v["dtype"]) if isinstance(v, dict) else v for k, v in inputs.items()}
        value = namespace[request["entry_point"]](**args)
        results.append({k: np.asarray(v).tolist() for k, v in value.items()})
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
