"""Jupyter notebooks as code submissions: code cells joined in order, magics and shell escapes out."""
from __future__ import annotations

import json

from grader.problems import InvalidRequest


def to_source(notebook) -> tuple[str, str]:
    """(source, note): the notebook's code cells joined; the note says what was stripped."""
    if isinstance(notebook, (str, bytes)):
        try:
            notebook = json.loads(notebook)
        except ValueError as exc:
            raise InvalidRequest(f"The notebook is not valid JSON ({exc}).") from exc
        except RecursionError:
            raise InvalidRequest("The notebook is nested too deeply to be a Jupyter notebook.") from None
    cells = notebook.get("cells") if isinstance(notebook, dict) else None
    if not isinstance(cells, list):
        raise InvalidRequest("The notebook has no list of cells (nbformat 4 expected).")
    kept, stripped = [], 0
    for cell in cells:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        text = cell.get("source", "")
        if isinstance(text, list) and all(isinstance(line, str) for line in text):
            text = "".join(text)
        if not isinstance(text, str):
            raise InvalidRequest("A code cell's source must be a string or a list of strings (nbformat 4).",
                                 errors={"notebook": ["a code cell's source is not a string or a list of strings"]})
        lines = text.splitlines()
        for line in lines:
            if line.lstrip().startswith(("%", "!")):
                stripped += 1
                kept.append("")  # keep line numbers close to the notebook's
            else:
                kept.append(line)
        kept.append("")
    note = f"{stripped} IPython magic or shell line(s) were removed from the notebook" if stripped else ""
    return "\n".join(kept), note
