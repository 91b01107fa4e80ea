"""Answers to JSON (numpy arrays, PyTorch tensors on any device, lists, numbers) and parameters back
to numpy arrays or tensors. PyTorch is optional: it is used only when a tensor is given or asked for."""
from __future__ import annotations

import math

import numpy as np

from bptt_grader.errors import AnswerError


def is_tensor(value) -> bool:
    """A torch.Tensor, recognised without importing torch."""
    return type(value).__module__.startswith("torch") and hasattr(value, "detach") and hasattr(value, "tolist")


def to_json(value, name: str = "answer"):
    """A JSON value for one answer field; float32 values stay exactly what they were."""
    if is_tensor(value):
        tensor = value.detach().cpu()
        if tensor.is_complex():
            raise AnswerError(f"{name} is a complex tensor; the answer fields are real.")
        if tensor.is_floating_point() and tensor.element_size() < 4:
            tensor = tensor.float()  # float16 and bfloat16 have no Python float of their own
        return to_json(tensor.numpy() if tensor.dim() else tensor.item(), name)
    if isinstance(value, np.ndarray):
        if value.dtype.kind == "c":
            raise AnswerError(f"{name} is a complex array; the answer fields are real.")
        if value.dtype.kind == "f" and not np.all(np.isfinite(value)):
            raise AnswerError(f"{name} contains NaN or infinite values, which JSON cannot carry.")
        return value.tolist()
    if isinstance(value, np.generic):
        return to_json(value.item(), name)
    if isinstance(value, float) and not math.isfinite(value):
        raise AnswerError(f"{name} is {value}, which JSON cannot carry.")
    if isinstance(value, (list, tuple)):
        return [to_json(item, name) for item in value]
    if isinstance(value, (set, frozenset)):
        return sorted(to_json(item, name) for item in value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise AnswerError(f"{name} is a {type(value).__name__}; send numbers, lists, numpy arrays or tensors.")


def answer_to_json(answer: dict) -> dict:
    if not isinstance(answer, dict):
        raise AnswerError(f"The answer must be a dict of field name -> value, not a {type(answer).__name__}.")
    return {name: to_json(value, name) for name, value in answer.items()}


def params_from_json(params: dict, as_torch: bool = False) -> dict:
    """Nested lists become numpy arrays (float64 or int64, as sent), or tensors with as_torch=True;
    scalars and strings stay as they are."""
    out = {}
    for name, value in params.items():
        if isinstance(value, list):
            value = np.asarray(value)
            if as_torch:
                import torch  # optional: only when tensors are asked for
                value = torch.from_numpy(value)
        out[name] = value
    return out
