"""The source of a code submission: a function defined in a notebook or script, with the helpers,
constants and imports it uses from the same cell (and imports and helpers from other cells)."""
from __future__ import annotations

import ast
import builtins
import inspect
import linecache
import math
import symtable
import textwrap
import types

CLIENT_MODULES = ("bptt_grader",)  # never sent: the sandbox has no client


def function_source(fn) -> str:
    """Module-level source defining fn and everything it uses, in the order of the cell."""
    pieces, seen = [], set()
    _collect(fn, pieces, seen)
    return "\n\n".join(dict.fromkeys(pieces)) + "\n"


def with_entry_point(source: str, name: str, entry_point: str) -> str:
    """A function named otherwise is submitted under the exercise's entry point."""
    if name == entry_point:
        return source
    return source + f"\n\ndef {entry_point}(*args, **kwargs):\n    return {name}(*args, **kwargs)\n"


def _collect(fn, pieces: list, seen: set) -> None:
    """Append to pieces the definitions fn needs (helpers first), then fn itself."""
    cell = "".join(linecache.getlines(fn.__code__.co_filename, fn.__globals__))
    tree = _parse(cell)
    if tree is None or not _defines(tree, fn.__name__):
        cell = textwrap.dedent(inspect.getsource(fn))
        tree = ast.parse(cell)
    definitions = _top_level(tree)
    kept = {fn.__name__}
    seen.add(fn.__name__)  # before recursing: helpers in other cells may call each other
    needed = _globals_used(cell, definitions[fn.__name__])
    while needed:
        name = needed.pop()
        if name in kept or name in seen:
            continue
        kept.add(name)
        seen.add(name)
        if name in definitions:
            needed += _globals_used(cell, definitions[name])
        else:
            _from_globals(name, fn.__globals__, pieces, seen)
    nodes = sorted({id(node): node for name, node in definitions.items() if name in kept}.values(),
                   key=lambda node: node.lineno)
    pieces.extend(ast.get_source_segment(cell, node) or ast.unparse(node) for node in nodes
                  if not _is_client_import(node))


def _parse(text: str):
    try:
        return ast.parse(text)
    except SyntaxError:  # IPython cells may hold magics
        return None


def _defines(tree, name) -> bool:
    return any(isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name for node in tree.body)


def _top_level(tree) -> dict[str, ast.stmt]:
    """Name -> the top-level statement binding it: def, class, import, simple assignment."""
    out = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out[node.name] = node
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                out[(alias.asname or alias.name).split(".")[0]] = node
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name):
                    out[target.id] = node
    return out


def _globals_used(cell: str, node: ast.stmt) -> list[str]:
    """Global names a definition reads (symtable: locals and parameters excluded)."""
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return []
    if isinstance(node, (ast.Assign, ast.AnnAssign)):
        value = node.value
        return [n.id for n in ast.walk(value) if isinstance(n, ast.Name)] if value is not None else []
    table = symtable.symtable(ast.get_source_segment(cell, node) or ast.unparse(node), "<cell>", "exec")
    # the segment's own level holds what defaults and decorators read
    names = [s.get_name() for s in table.get_symbols() if s.is_referenced()]
    stack = list(table.get_children())
    while stack:
        child = stack.pop()
        names += [s.get_name() for s in child.get_symbols() if s.is_global() and s.is_referenced()]
        stack += child.get_children()
    return [n for n in names if not hasattr(builtins, n)]


def _from_globals(name: str, namespace: dict, pieces: list, seen: set) -> None:
    """A name defined in another cell: a module is imported again, a function brought with its own
    helpers, a number or string written out; anything else is left for the sandbox to report."""
    value = namespace.get(name)
    if isinstance(value, types.ModuleType) and not value.__name__.startswith(CLIENT_MODULES):
        pieces.append(f"import {value.__name__}" if value.__name__ == name else f"import {value.__name__} as {name}")
    elif isinstance(value, types.FunctionType):
        _collect(value, pieces, seen)
        if value.__name__ != name:
            pieces.append(f"{name} = {value.__name__}")
    elif isinstance(value, (int, str)) or (isinstance(value, float) and math.isfinite(value)):
        pieces.append(f"{name} = {value!r}")


def _is_client_import(node) -> bool:
    if isinstance(node, ast.Import):
        return all(alias.name.startswith(CLIENT_MODULES) for alias in node.names)
    return isinstance(node, ast.ImportFrom) and (node.module or "").startswith(CLIENT_MODULES)
