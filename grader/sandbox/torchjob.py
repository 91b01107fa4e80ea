"""PyTorch in the sandbox: preloaded by the zygote before any jail, refused autograd in a job that
asks for a derivation, tensors turned into plain arrays.

Standard library, numpy and (when installed) torch only: this file runs in the zygote, which never
imports the grader. Autograd is refused where it does its work, not where it is named: the engine's
run_backward in its C type's own dictionary (every route to reverse mode, threads and fresh engines
included, ends there), the entry points of forward mode, functorch's transforms and TorchScript (whose
compiled grad calls the engine from C++) wherever a loaded module holds them. Each refusal is counted
in the job, and after the entry point returns the grader also checks that every guard is still in
place, so catching the exception or putting a guard back does not pass. A tensor's grad_fn is a node
that refuses to be called or walked (each node of the graph computes one step of the backward pass),
and so is a custom autograd.Function (its ctx is a real node); the job's copy of the table of
originals is emptied once the guard is in place.
What no in-process rule stops is a job that writes its own memory (ctypes); the jail, not this rule,
is the security boundary.
"""
import ctypes
import gc

import numpy as np

TORCH = None  # the preloaded module, None when this deployment does not offer torch
ALIASES = []  # (holder, attribute, original): every place a loaded module keeps a refused entry point
PYBIND_METHODS = {"CompilationUnit": ("__init__", "define", "create_function"),
                  "ScriptModule": ("_define", "_create_method_from_trace", "_create_method_from_trace_with_dict")}
C_ENTRY_POINTS = ("_enter_dual_level", "_jit_script_compile", "_jit_script_compile_overload",
                  "_jit_script_class_compile", "_jit_script_interface_compile", "_create_function_from_graph",
                  "_create_function_from_trace", "_create_function_from_trace_with_dict", "import_ir_module",
                  "import_ir_module_from_buffer", "_import_ir_module_from_package", "_load_for_lite_interpreter",
                  "_load_for_lite_interpreter_from_buffer", "parse_ir",
                  # TorchScript's symbolic autodiff (its C++ gradient formulas), the interpreter that would
                  # run what it derived, tracing into a graph and parsing source for the compiler
                  "_jit_differentiate", "_jit_interpret_graph", "_create_graph_by_tracing", "_parse_source_def")
PY_ENTRY_POINTS = {"torch.autograd": ("backward", "grad"),
                   "torch.autograd.functional": ("vjp", "jvp", "jacobian", "hessian", "vhp", "hvp"),
                   "torch.autograd.forward_ad": ("make_dual", "dual_level", "enter_dual_level"),
                   "torch.autograd.graph": ("get_gradient_edge",),
                   "torch.func": ("grad", "grad_and_value", "vjp", "jvp", "jacrev", "jacfwd", "hessian", "linearize"),
                   "torch._C._functorch": ("_grad_increment_nesting", "_jvp_increment_nesting"),
                   "torch.jit": ("script", "CompilationUnit")}
SUBMODULES = ("torch.nn", "torch.nn.functional", "torch.nn.utils", "torch.func", "torch.autograd.functional",
              "torch.autograd.forward_ad", "torch.linalg", "torch.fft", "torch.special")


class AutogradRefused(RuntimeError):
    """Raised by every refused entry point (the learner's code may catch it: the job counts it anyway)."""


def preload() -> dict | None:
    """Import torch (one intra-op and one inter-op thread), touch what jobs use and find every alias
    of the entry points a derivation job refuses. Returns what the status report shows, or None."""
    global TORCH
    before = _address_space()
    try:
        import importlib
        import torch
        for name in SUBMODULES:  # after Landlock a job can import only what is already in memory
            importlib.import_module(name)
    except ImportError:
        return None
    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
    _warm(torch)
    TORCH = torch
    ALIASES[:] = _aliases(torch)
    extra = -(-(_address_space() - before) // (64 << 20)) * (64 << 20)  # rounded up to 64 MiB
    return {"version": torch.__version__, "threads": torch.get_num_threads(), "address_space_extra_bytes": extra}


def _warm(torch) -> None:
    """One small forward and backward in float64 and float32: the first call of each pays for lazy set-up."""
    for dtype in (torch.float64, torch.float32):
        W = torch.ones((3, 3), dtype=dtype, requires_grad=True)
        H = torch.tanh(torch.from_numpy(np.ones((2, 3))).to(dtype) @ W)
        loss = torch.nn.functional.cross_entropy(H, torch.tensor([0, 1]))
        loss.backward()
        torch.nn.utils.clip_grad_norm_([W], 1.0)
        repr(H), str(W.grad)  # printing a tensor imports a module of torch._subclasses the first time
        H.detach_().tolist()
        W.grad.numpy()
    torch.linalg.eigvals(torch.eye(2))
    # Not warmed: torch.func's transforms and torch.optim's optimizers, whose first use imports
    # torch._dynamo and sympy (+75 MB resident and slower forks for every torch job; bench/torch_cost.py).
    # Derivation jobs refuse the transforms before that import; elsewhere they, and an optimizer, are
    # reported as a part of torch the sandbox does not offer (the exercises need neither).


def _address_space() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def _aliases(torch) -> list:
    """(holder, name, original) for every loaded torch module attribute that is a refused entry point."""
    import sys
    refused = {id(getattr(torch._C, name)): getattr(torch._C, name) for name in C_ENTRY_POINTS
               if hasattr(torch._C, name)}
    for module, names in PY_ENTRY_POINTS.items():
        refused.update({id(getattr(sys.modules[module], n)): getattr(sys.modules[module], n) for n in names})
    found = [(torch.Tensor, "backward", torch.Tensor.backward)]
    for name, module in list(sys.modules.items()):
        if name.split(".")[0] != "torch" or module is None:
            continue
        found += [(module, attr, value) for attr, value in list(vars(module).items()) if id(value) in refused]
    return found


class RefusedNode:
    """What a tensor's grad_fn is in a job that refuses autograd: printing shows it, but calling it or
    walking the graph from it (each node computes a step of the backward pass) is refused."""

    __slots__ = ("_hits",)

    def __init__(self, hits):
        object.__setattr__(self, "_hits", hits)

    def __getattr__(self, name):
        self._refuse()

    def __call__(self, *args, **kwargs):
        self._refuse()

    def _refuse(self):
        object.__getattribute__(self, "_hits")[0] += 1
        raise AutogradRefused("autograd is not allowed in this exercise")


class Guard:
    """The refusal installed in one job, and the check after each entry point returns."""

    def __init__(self, torch):
        self.hits = [0]
        self.engine = type(torch.autograd.Variable._execution_engine)
        self.tensor = torch._C.TensorBase  # its grad_fn hands out graph nodes, which compute gradients when called
        self.node = self._node_property()
        self.stub = self._stub()
        self.places = [(holder, name) for holder, name, _ in ALIASES]
        self.places += [(getattr(torch._C, cls), name) for cls, names in PYBIND_METHODS.items() for name in names]
        for holder, name in self.places:
            setattr(holder, name, self.stub)
        self._engine_dict()["run_backward"] = self.stub
        ctypes.pythonapi.PyType_Modified(ctypes.py_object(self.engine))
        self._tensor_dict().update(grad_fn=self.node, _grad_fn=self.node)
        ctypes.pythonapi.PyType_Modified(ctypes.py_object(self.tensor))
        import _imp  # a fresh copy of torch._C (_imp.create_dynamic) would hold the originals
        self.places += [(_imp, "create_dynamic"), (_imp, "create_builtin")]
        _imp.create_dynamic = _imp.create_builtin = self.stub
        # a custom autograd.Function's ctx is a real graph node, whose next_functions lead to the others
        self.function_base = torch._C._FunctionBase
        self.places.append((torch.autograd.Function, "apply"))
        torch.autograd.Function.apply = self.stub
        gc.get_referents(self.function_base.__dict__)[0]["apply"] = self.stub
        ctypes.pythonapi.PyType_Modified(ctypes.py_object(self.function_base))
        ALIASES.clear()  # this job's copy: the originals are no longer held where the job could find them

    def _stub(self):
        hits = self.hits

        def autograd_refused(*args, **kwargs):
            hits[0] += 1
            raise AutogradRefused("autograd is not allowed in this exercise")
        return autograd_refused

    def _node_property(self):
        hits, requires_grad, is_leaf = self.hits, self.tensor.requires_grad.__get__, self.tensor.is_leaf.__get__
        return property(lambda tensor: RefusedNode(hits) if requires_grad(tensor) and not is_leaf(tensor) else None)

    def _engine_dict(self) -> dict:
        return gc.get_referents(self.engine.__dict__)[0]

    def _tensor_dict(self) -> dict:
        return gc.get_referents(self.tensor.__dict__)[0]

    def tripped(self) -> bool:
        """An entry point was reached, or a guard is no longer in place."""
        if self.hits[0]:
            return True
        intact = all(getattr(holder, name, None) is self.stub for holder, name in self.places)
        nodes = self._tensor_dict()
        return not intact or self._engine_dict().get("run_backward") is not self.stub \
            or nodes.get("grad_fn") is not self.node or nodes.get("_grad_fn") is not self.node \
            or gc.get_referents(self.function_base.__dict__)[0].get("apply") is not self.stub


def guard(autograd: bool):
    """A Guard for a job that refuses autograd, None when torch is absent or autograd is allowed."""
    return None if TORCH is None or autograd else Guard(TORCH)


def is_unpreloaded_part(exc: BaseException) -> bool:
    """torch is loaded, and the job reached a part of it (or of sympy) that is not preloaded."""
    return TORCH is not None and isinstance(exc, ImportError) and \
        (exc.name or "").split(".")[0] in ("torch", "sympy", "functorch")


def is_torch_import_error(exc: BaseException) -> bool:
    """The job imported torch, and it was not loaded (not offered, or the source does not name it)."""
    return TORCH is None and isinstance(exc, ImportError) and (exc.name or "").split(".")[0] == "torch"


def untensor(value, budget, depth=0):
    """Tensors (also inside lists and tuples) as numpy arrays: floats of any width as float64,
    integers and booleans as they are; complex tensors as None. Sizes are charged before copying."""
    torch = TORCH
    if torch is None:
        return value
    if isinstance(value, torch.Tensor):
        if value.numel() > budget[0]:
            budget[0] = -1
            return None
        with torch._C.DisableTorchFunctionSubclass():
            plain = torch.Tensor.detach(value).cpu()
            if plain.is_complex():
                return None
            if plain.is_floating_point():
                plain = plain.to(torch.float64)
            return plain.numpy().copy()
    if isinstance(value, (list, tuple)) and depth < 4 and len(value) <= max(budget[0], 0) \
            and any(isinstance(v, (torch.Tensor, list, tuple)) for v in value):
        return [untensor(v, budget, depth + 1) for v in value]
    return value

