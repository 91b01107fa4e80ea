"""Grade a code submission: static checks here, the run in the sandbox, each instance like a
numeric answer, then one report over all hidden instances."""
from __future__ import annotations

import ast

import numpy as np

from grader.catalog.exercise import Exercise, Instance
from grader.grading import results
from grader.grading.numeric import assemble, grade_numeric
from grader.grading.report import InstanceSummary, PartResult, Report, Verdict
from grader.sandbox.client import JobOutcome

AUTODIFF = ("jax", "jaxlib", "autograd", "tensorflow", "mxnet")  # torch is offered; its autograd is a rule per exercise
AUTOGRAD_MESSAGE = ("{where} reaches torch's autograd (backward, torch.autograd, torch.func transforms or a "
                    "requires_grad gradient): this exercise asks you to derive the gradients yourself, so autograd "
                    "is not allowed here; torch tensors and operations are, and so are numpy and math.")
TORCH_MESSAGES = {
    results.TORCH_UNAVAILABLE: "{where} imports torch, and this deployment of the grader does not offer PyTorch; "
                               "numpy and math are available (or ask the course's staff to run the grader with torch).",
    results.TORCH_UNNAMED: "{where} imports torch under another name: the grader runs code in PyTorch's sandbox when "
                           "its source names torch (write import torch).",
    results.TORCH_PART: "{where} uses a part of PyTorch the sandbox does not preload (torch.optim's optimizers, "
                        "torch.func's transforms, torch.compile: they load torch._dynamo); tensors, operations, "
                        "torch.nn and, where allowed, backward() are available.",
}
LIMIT_MESSAGES = {
    "cpu-limit": "The code used more than its CPU time ({cpu_s} s).",
    "output-limit": "The code printed more than the 64 KiB of output allowed.",
    "result-limit": "The code returned more than 4 MiB of results.",
    "crashed": "The process died (exit code {exit_code}): the memory limit or a crash in native code.",
    "malformed-result": "The code's process wrote a result the grader cannot read (not the document its harness "
                        "writes): return your answer from {entry_point}(...) and write nothing to file descriptor 3.",
}


def names_torch(source: str) -> bool:
    """Whether the job runs where PyTorch is preloaded: its source names torch (a numpy job forks
    faster from the zygote without it)."""
    return "torch" in source


def static_report(exercise: Exercise, source: str) -> Report | None:
    """An `invalid` report for a syntax error, a missing entry point or a forbidden import."""
    entry = exercise.info["entry_point"]
    try:
        tree = results.parse_source(source)
    except SyntaxError as exc:
        return _invalid(exercise, "source", f"Syntax error at line {exc.lineno}: {exc.msg}.")
    except (RecursionError, MemoryError, ValueError):  # 6000 chained '+', 20 000 unary minus, NUL bytes
        return _invalid(exercise, "source", "The source is nested too deeply (or holds a NUL byte) for Python "
                                            "to compile; split long expressions into statements.")
    if not any(isinstance(node, ast.FunctionDef) and node.name == entry for node in tree.body):
        return _invalid(exercise, "source", f"The source defines no top-level function {entry}(...).")
    if not any(name in source for name in AUTODIFF):
        return None  # no autodiff name anywhere in the text: no need to walk the tree
    for node in ast.walk(tree):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
            [node.module or ""] if isinstance(node, ast.ImportFrom) else []
        for name in names:
            if name.split(".")[0] in AUTODIFF:
                return _invalid(exercise, "source", f"Line {node.lineno} imports {name}: autodiff libraries other "
                                f"than PyTorch are not offered (and this exercise says where torch's autograd is "
                                f"allowed); numpy and math are available, and torch where the deployment offers it.")
    return None


def outcome_report(exercise: Exercise, regular: list[Instance], edges: list[Instance], outcome: JobOutcome,
                   limits: dict, source: str) -> Report:
    """The report for what the sandbox produced on the regular and edge instances. Every word of it
    is the grader's: the job's document is validated first and none of its text is shown."""
    if outcome.status == "timeout":
        return Report(verdict=Verdict.TIMEOUT, score=0.0, max_score=exercise.max_score, parts=(),
                      message=f"The code did not finish within the wall clock of {limits['wall_s']:g} s.")
    status, entries = outcome.status, None
    if status == "ok":
        try:
            budget = int(limits.get("result_bytes", 4 << 20)) // 8  # numbers the result may hold
            entries = results.validate(outcome.results, len(regular) + len(edges), budget)
        except results.Malformed:
            status = "malformed-result"
    if status != "ok":
        return Report(verdict=Verdict.ERROR, score=0.0, max_score=exercise.max_score, parts=(),
                      message=LIMIT_MESSAGES[status].format(exit_code=outcome.exit_code,
                                                            entry_point=exercise.info["entry_point"], **limits))
    instances = [(i, "regular", inst) for i, inst in enumerate(regular)] + \
        [(len(regular) + i, "edge", inst) for i, inst in enumerate(edges)]
    graded = [(index, kind, inst, _grade_one(exercise, inst, entry, source))
              for (index, kind, inst), entry in zip(instances, entries)]
    summaries = tuple(_summary(index, kind, inst, report) for index, kind, inst, report in graded)
    failed = [report for _, kind, _, report in graded if kind == "regular" and _failed(report)]
    if failed:  # the common case does not run: report why, nothing to aggregate
        first = failed[0]
        return Report(verdict=first.verdict, score=0.0, max_score=exercise.max_score, parts=first.parts,
                      message=first.message, instances=summaries, hints=exercise.hints)
    reports = [_as_wrong_parts(exercise, r) if _failed(r) else r for *_, r in graded]
    return _aggregate(exercise, reports, [r for _, kind, _, r in graded if kind == "regular"],
                      [r for _, kind, _, r in graded if kind == "edge" and not _failed(r)], summaries)


def _failed(report) -> bool:
    return report.verdict in (Verdict.INVALID, Verdict.ERROR)


def _as_wrong_parts(exercise, report) -> Report:
    """An edge case that could not be graded counts as every part wrong, with its reason."""
    parts = tuple(PartResult(name=p.name, verdict=Verdict.INCORRECT, score=0.0, max_score=p.weight,
                             message=report.message) for p in exercise.parts)
    return Report(verdict=Verdict.INCORRECT, score=0.0, max_score=exercise.max_score, parts=parts)


def _grade_one(exercise, instance, entry, source) -> Report:
    fields = ", ".join(p.name for p in exercise.parts)
    entry_point = exercise.info["entry_point"]
    if isinstance(entry, results.Returned):
        unknown = set(entry.value) - {p.name for p in exercise.parts}
        if unknown:  # the names are the job's text: counted, never shown
            return _invalid(exercise, "return value", f"{entry_point} returned {len(unknown)} field(s) that are not "
                                                      f"answer fields; the answer fields are {fields}.")
        return grade_numeric(exercise, instance, entry.value)
    if entry.error == results.NOT_A_DICT:
        return _invalid(exercise, "return value", f"{entry_point} must return a dict with the fields {fields}.")
    if entry.error == results.TOO_MANY_FIELDS:
        return _invalid(exercise, "return value", f"{entry_point} returned more than {results.MAX_FIELDS} fields; "
                                                  f"the answer fields are {fields}.")
    if entry.error in (results.AUTOGRAD_REFUSED, *TORCH_MESSAGES):
        where = f"Line {entry.lines[-1]}" if entry.lines else "Your code"  # the innermost line of the submission
        template = TORCH_MESSAGES.get(entry.error, AUTOGRAD_MESSAGE)
        return _invalid(exercise, "source", template.format(where=where))
    if entry.error == results.TOO_LARGE:
        return Report(verdict=Verdict.ERROR, score=0.0, max_score=exercise.max_score, parts=(),
                      message=f"{entry_point} returned more numbers than the result cap allows; the answer "
                              f"fields are {fields}.")
    return Report(verdict=Verdict.ERROR, score=0.0, max_score=exercise.max_score, parts=(),
                  message=results.describe_error(source, entry))


def _aggregate(exercise, reports, regular, edges, summaries) -> Report:
    """Each part scores its weight times the fraction of instances where it is right; a
    misconception is reported when it is matched on every regular instance where the part is wrong
    (or, when the part is right on all of them, on every edge case where it is wrong)."""
    parts = []
    for k, part in enumerate(exercise.parts):
        results = [r.parts[k] for r in reports]
        right = sum(p.verdict == Verdict.CORRECT for p in results)
        # a mistake is named when it explains the part on every regular instance where the part is
        # wrong or named (a chunk-boundary slip leaves an instance asking for sliding windows right)
        wrong = [r for r in regular if r.parts[k].verdict != Verdict.CORRECT or r.parts[k].misconceptions] \
            or [r for r in edges if r.parts[k].verdict != Verdict.CORRECT]
        common = set.intersection(*(set(r.parts[k].misconceptions) for r in wrong)) if wrong else set()
        errors = [p.relative_error for p in results if p.relative_error is not None]
        worst = max(results, key=lambda p: p.relative_error or 0.0)
        parts.append(PartResult(
            name=part.name, score=round(part.weight * right / len(results), 10), max_score=part.weight,
            verdict=Verdict.CORRECT if right == len(results) else Verdict.INCORRECT,
            relative_error=max(errors) if errors else None, location=worst.location,
            misconceptions=tuple(s for s in (wrong[0].parts[k].misconceptions if wrong else ()) if s in common),
            relation=worst.relation,
            message=f"{part.name}: right on {right} of {len(results)} hidden instances."
                    + ("" if right == len(results) else f" Worst: {worst.message}")))
    report = assemble(exercise, parts)
    return Report(**{**vars(report), "instances": summaries})


def _summary(index, kind, instance, report) -> InstanceSummary:
    sizes = {name: list(np.shape(value)) for name, value in instance.params.items() if isinstance(value, np.ndarray)}
    return InstanceSummary(index=index, kind=kind, sizes=sizes, verdict=report.verdict, score=report.score,
                           message=report.message)


def _invalid(exercise, name, message) -> Report:
    part = PartResult(name=name, verdict=Verdict.INVALID, score=0.0, max_score=0.0, message=message)
    return Report(verdict=Verdict.INVALID, score=0.0, max_score=exercise.max_score, parts=(part,), message=message)
