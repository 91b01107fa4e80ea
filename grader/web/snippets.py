"""The ready-to-run client snippet every exercise page shows (the bptt_grader package in client/)."""
from __future__ import annotations


def client_snippet(exercise, url: str, attempt: int = 1) -> str:
    """Python that fetches this exercise's instance and submits a placeholder answer of the right
    shapes (zeros, so it runs as it is and is graded incorrect until replaced by the gradients)."""
    attempt_arg = f", attempt={attempt}" if attempt != 1 else ""
    lines = [
        "# pip install ./client   (from this repository; import name bptt_grader)",
        "import numpy as np",
        "from bptt_grader import Grader",
        "",
        f'g = Grader("{url.rstrip("/")}")  # key: BPTT_GRADER_KEY, or run `bptt-grader login` once',
        f'inst = g.instance("{exercise.id}"{attempt_arg})  # inst.params: numpy arrays (as_torch=True: tensors)',
        "print(inst.shapes)  # the answer fields and their shapes",
        "answer = {name: np.zeros(shape) for name, shape in inst.shapes.items()}  # your gradients here",
        "report = g.submit(inst, answer)  # numpy arrays, PyTorch tensors (any device), lists or numbers",
        "report  # in Jupyter: verdict, parts, the mistake and its equation; print(report) in a terminal",
    ]
    if "code" in exercise.info["kinds"]:
        entry = exercise.info["entry_point"]
        lines.append(f"# g.submit_code({entry})  # your function {entry}(...) and the helpers it calls, as code")
    lines.append("# float32 answers (PyTorch's default) are named float32-precision: compute in torch.float64 "
                 "or np.float64")
    return "\n".join(lines) + "\n"
