"""PyTorch in the sandbox (issue 17): autograd refused where the exercise asks for a derivation, by
every route, and allowed where it is the subject; d2l's own training loop graded; tensors as results;
a deployment without torch says so."""
import os

import numpy as np
import pytest

from grader.sandbox import SandboxClient
from tests.conftest import TEST_LIMITS, own_zygote
from tests.test_catalog import CATALOG, with_mistake
from tests.test_sandbox import PROBE, run_attack  # noqa: F401 (run_attack is a fixture)

CHEAT = '''
import torch
import torch.nn.functional as F


def forward(W_xh, W_hh, b_h, W_hq, b_q, H0, X, Y):
    H, outputs = H0, []
    for X_t in X:
        H = torch.tanh(X_t @ W_xh + H @ W_hh + b_h)
        outputs.append(H @ W_hq + b_q)
    return F.cross_entropy(torch.cat(outputs), Y.reshape(-1))


def rnn_bptt(W_xh, W_hh, b_h, W_hq, b_q, X, H0, Y):
    params = [torch.tensor(a, requires_grad=True) for a in (W_xh, W_hh, b_h, W_hq, b_q, H0)]
    X, Y = torch.as_tensor(X), torch.as_tensor(Y)
    loss = forward(*params, X, Y)
    ROUTE
    return dict(zip(["dW_xh", "dW_hh", "db_h", "dW_hq", "db_q", "dH0"], grads))
'''
ROUTES = {  # each would compute the reference's gradients if autograd answered
    "backward": "loss.backward()\n    grads = [p.grad for p in params]",
    "autograd-grad": "grads = torch.autograd.grad(loss, params)",
    "getattr": "grads = getattr(getattr(torch, 'auto' + 'grad'), 'gr' + 'ad')(loss, params)",
    "getattr-method": "getattr(loss, 'back' + 'ward')()\n    grads = [p.grad for p in params]",
    "dunder-import": "grads = __import__('torch.autograd', fromlist=['grad']).grad(loss, params)",
    "importlib": "import importlib\n    grads = importlib.import_module('torch.autograd').grad(loss, params)",
    "torch-func": "f = lambda *ps: forward(*ps, X, Y)\n"
                  "    grads = torch.func.grad(f, argnums=tuple(range(6)))(*[p.detach() for p in params])",
    "importlib-func": "import importlib\n    f = lambda *ps: forward(*ps, X, Y)\n"
                      "    grads = importlib.import_module('torch.func').jacrev(f, argnums=tuple(range(6)))("
                      "*[p.detach() for p in params])",
    "functional-jacobian": "grads = torch.autograd.functional.jacobian(lambda *ps: forward(*ps, X, Y), tuple(params))",
    "forward-mode": "import torch.autograd.forward_ad as fwAD\n    with fwAD.dual_level():\n"
                    "        fwAD.make_dual(params[0].detach(), torch.ones_like(params[0]))\n"
                    "    grads = [torch.zeros_like(p) for p in params]",
    "engine-by-reflection": "E = [c for c in object.__subclasses__() if c.__name__ == '_EngineBase'][0]\n"
                            "    grads = E().run_backward((loss,), (torch.ones(()),), False, False, tuple(params), "
                            "False, False)",
    "thread": "import threading\n    worker = threading.Thread(target=loss.backward)\n    worker.start()\n"
              "    worker.join()\n    grads = [p.grad for p in params]",
    "caught": "try:\n        loss.backward()\n    except Exception:\n        pass\n"
              "    grads = [torch.zeros_like(p) for p in params]",
    "guard-replaced": "torch.Tensor.backward = lambda self: None\n    loss.backward()\n"
                      "    grads = [torch.zeros_like(p) for p in params]",
    "graph-walk": "grads = [loss.grad_fn(torch.ones(()))]",
    "gradient-edge": "import torch.autograd.graph as G\n    grads = [G.get_gradient_edge(loss).node(torch.ones(()))]",
    "torchscript": "unit = torch.jit.CompilationUnit('def g(l: torch.Tensor, p: List[torch.Tensor]):\\n"
                   "    return torch.autograd.grad([l], p)\\n')\n    grads = unit.g(loss, params)",
    # found by a hostile review: a custom Function's ctx is a real node, whose next_functions walk the graph
    "function-ctx-walk": "box = []\n"
                         "    class Tap(torch.autograd.Function):\n"
                         "        @staticmethod\n        def forward(ctx, x):\n"
                         "            box.append(ctx)\n            return x.clone()\n"
                         "        @staticmethod\n        def backward(ctx, g):\n            return g\n"
                         "    Tap.apply(loss)\n    node = box[0].next_functions[0][0]\n"
                         "    grads = [node(torch.ones(()))]",
    "function-base-apply": "class Tap(torch.autograd.Function):\n"
                           "        @staticmethod\n        def forward(ctx, x):\n            return x.clone()\n"
                           "        @staticmethod\n        def backward(ctx, g):\n            return g\n"
                           "    torch._C._FunctionBase.__dict__['apply'].__get__(None, Tap)(loss)\n"
                           "    grads = [torch.zeros_like(p) for p in params]",
    # TorchScript's symbolic autodiff of a traced graph
    "jit-differentiate": "graph, _ = torch.jit._get_trace_graph(lambda *ps: forward(*ps, X, Y), tuple(params))\n"
                         "    gradient = torch._C._jit_differentiate(graph)\n"
                         "    grads = [torch.zeros_like(p) for p in params]",
    # the guard's own table of the originals
    "guard-originals": "import sys, typing\n    originals = sys.modules['torchjob'].ALIASES\n"
                       "    compile_ = next((v for h, n, v in originals if n == '_jit_script_compile'),\n"
                       "                    torch._C._jit_script_compile)\n"
                       "    grad = next((v for h, n, v in originals if h is torch.autograd and n == 'grad'),\n"
                       "                torch.autograd.grad)\n"
                       "    ast = torch._C._parse_source_def('def g(l: torch.Tensor, p: List[torch.Tensor]):\\n'\n"
                       "                                     '    return autograd_grad([l], p)\\n')\n"
                       "    scope = {'torch': torch, 'autograd_grad': grad, 'List': typing.List}\n"
                       "    grads = compile_('__torch__.hostile.g', ast, scope.get, {})(loss, params)",
}


@pytest.mark.parametrize("route", ROUTES.values(), ids=ROUTES.keys())
def test_autograd_is_refused_in_a_derivation_exercise_by_every_route(zygote, alice, submit_code, route):
    report = submit_code("tanh-rnn-bptt", CHEAT.replace("ROUTE", route), alice).json
    assert report["verdict"] == "invalid", report["message"]
    assert "autograd is not allowed here" in report["message"] and "derive the gradients" in report["message"]


def test_the_refusal_names_the_line_that_reached_autograd(zygote, alice, submit_code):
    source = CHEAT.replace("ROUTE", ROUTES["backward"])
    report = submit_code("tanh-rnn-bptt", source, alice).json
    line = source.splitlines().index("    loss.backward()") + 1
    assert report["message"].startswith(f"Line {line} reaches torch's autograd")


def test_torch_tensors_and_operations_are_allowed_in_a_derivation_exercise(zygote, alice, submit_code):
    """The same forward pass, gradients derived by hand: correct (the PyTorch twin)."""
    report = submit_code("tanh-rnn-bptt", CATALOG["tanh-rnn-bptt"].torch_solution, alice).json
    assert report["verdict"] == "correct", report["message"]


D2L_LOOP = '''
import torch
from torch import nn


def rnn(inputs, state, params):
    W_xh, W_hh, b_h, W_hq, b_q = params
    H, = state
    outputs = []
    for X in inputs:
        H = torch.tanh(torch.mm(X, W_xh) + torch.mm(H, W_hh) + b_h)
        Y = torch.mm(H, W_hq) + b_q
        outputs.append(Y)
    return torch.cat(outputs, dim=0), (H,)


class RNNModelScratch:
    def __init__(self, params, num_hiddens, forward_fn):
        self.params, self.num_hiddens, self.forward_fn = params, num_hiddens, forward_fn

    def __call__(self, X, state):
        return self.forward_fn(X, state, self.params)

    def begin_state(self, batch_size):
        return (torch.zeros((batch_size, self.num_hiddens), dtype=torch.float64),)


def grad_clipping(net, theta):
    params = net.params
    norm = torch.sqrt(sum(torch.sum((p.grad ** 2)) for p in params))
    if norm > theta:
        for param in params:
            param.grad[:] *= theta / norm


def train_epoch_ch8(net, train_iter, loss, theta):
    state = None
    for X, Y in train_iter:
        if state is None:
            state = net.begin_state(batch_size=X.shape[1])
        else:
            for s in state:
                s.detach_()
        y = Y.reshape(-1)
        y_hat, state = net(X, state)
        l = loss(y_hat, y.long()).mean()
    l.backward()
    grad_clipping(net, theta)
    return l, state


def last_minibatch(W_xh, W_hh, b_h, W_hq, b_q, X, Y, theta):
    params = [torch.tensor(p, requires_grad=True) for p in (W_xh, W_hh, b_h, W_hq, b_q)]
    net = RNNModelScratch(params, W_hh.shape[0], rnn)
    l, (H,) = train_epoch_ch8(net, zip(torch.as_tensor(X), torch.as_tensor(Y)), nn.CrossEntropyLoss(), theta)
    names = ["dW_xh", "dW_hh", "db_h", "dW_hq", "db_q"]
    return {"loss": l.item(), **{name: p.grad for name, p in zip(names, params)}, "state": H}
'''
DETACH = "        else:\n            for s in state:\n                s.detach_()\n"


def test_a_d2l_training_loop_with_detach_is_correct_and_without_it_is_no_detach(zygote, alice, submit_code):
    """The Why of issue 17: the very loop minibatch-detach is about, answered in the book's framework."""
    assert DETACH in D2L_LOOP
    report = submit_code("minibatch-detach", D2L_LOOP, alice).json
    assert report["verdict"] == "correct", report["message"]
    report = submit_code("minibatch-detach", D2L_LOOP.replace(DETACH, ""), alice).json
    assert report["verdict"] != "correct"
    assert [m["slug"] for m in report["misconceptions"]] == ["no-detach"], report["message"]


def test_float32_tensors_meet_the_float32_precision_diagnosis(zygote, alice, submit_code):
    source = CATALOG["tanh-rnn-bptt"].torch_solution.replace(
        "    T, B, _ = X.shape\n",
        "    W_xh, W_hh, b_h, W_hq, b_q, X, H0 = (a.float() for a in (W_xh, W_hh, b_h, W_hq, b_q, X, H0))\n"
        "    T, B, _ = X.shape\n")
    assert source != CATALOG["tanh-rnn-bptt"].torch_solution
    report = submit_code("tanh-rnn-bptt", source, alice).json
    assert report["verdict"] == "correct" and [m["slug"] for m in report["misconceptions"]] == ["float32-precision"]


TENSORS = '''
import torch
def f(x):
    t = torch.as_tensor(x)
    return {"int": torch.arange(3), "bool": t > 1, "half": t.to(torch.bfloat16), "scalar": t.sum(),
            "list": [t[0], t[1]], "grad": t.clone().requires_grad_() * 2, "complex": t * 1j}
'''


def test_tensor_results_become_plain_lists_in_the_job(zygote):
    outcome = SandboxClient(zygote["socket"]).run(TENSORS, "f", [{"x": [1.0, 2.0]}], TEST_LIMITS, torch=True)
    value = outcome.results[0]["value"]
    assert value["int"] == [0, 1, 2] and value["bool"] == [False, True] and value["half"] == [1.0, 2.0]
    assert value["scalar"] == pytest.approx(3.0) and value["list"] == [1.0, 2.0] and value["grad"] == [2.0, 4.0]
    assert value["complex"] is None


def test_a_giant_tensor_result_is_refused_by_its_size(zygote):
    source = "import torch\ndef f(x):\n    return {'a': torch.zeros(10**7)}\n"
    outcome = SandboxClient(zygote["socket"]).run(source, "f", [{"x": 1}], TEST_LIMITS, torch=True)
    assert outcome.status == "ok" and outcome.results[0] == {"ok": False, "error": "result-too-large", "lines": []}


def test_a_torch_import_the_source_does_not_name_is_told_to_name_it(zygote, alice, submit_code):
    source = "def rnn_bptt(**kw):\n    m = __import__('to' + 'rch')\n    return {}\n"
    report = submit_code("tanh-rnn-bptt", source, alice).json
    assert report["verdict"] == "invalid" and report["message"].startswith("Line 2 imports torch under another name")


def test_numpy_jobs_fork_from_the_zygote_without_torch(zygote):
    """Only jobs that name torch pay for forking a process that holds it (bench/torch_cost.py)."""
    source = "import sys\ndef f(x):\n    return {'torch': int('torch' in sys.modules)}\n"
    client = SandboxClient(zygote["socket"])
    assert client.run(source, "f", [{"x": 1}], TEST_LIMITS).results[0]["value"] == {"torch": 0}
    assert client.run(source, "f", [{"x": 1}], TEST_LIMITS, torch=True).results[0]["value"] == {"torch": 1}


def test_the_zygote_preloads_torch_with_one_thread(zygote, client):
    report = SandboxClient(zygote["socket"]).status()
    assert report["torch"]["version"].startswith("2.13.0") and report["torch"]["threads"] == 1
    assert report["torch"]["address_space_extra_bytes"] > 0
    assert client.get("/api/v1/health").json["checks"]["sandbox"]["torch"] == report["torch"]
    source = "import torch\ndef f(x):\n    return {'threads': torch.get_num_threads()}\n"
    outcome = SandboxClient(zygote["socket"]).run(source, "f", [{"x": 1}], TEST_LIMITS, torch=True)
    assert outcome.results[0]["value"] == {"threads": 1}


@pytest.fixture
def torchless_zygote(tmp_path):
    """A strict zygote of a deployment without torch (--without-torch: as if it were not installed)."""
    with own_zygote(str(tmp_path / "torchless.sock"), "--without-torch") as path:
        yield path


def test_without_torch_a_torch_submission_is_told_so(app, alice, submit_code, torchless_zygote):
    app.extensions["grader.context"].sandbox.socket_path = torchless_zygote
    assert SandboxClient(torchless_zygote).status()["torch"] is None
    exercise = CATALOG["tanh-rnn-bptt"]
    report = submit_code(exercise.id, exercise.torch_solution, alice).json
    assert report["verdict"] == "invalid"
    assert "this deployment of the grader does not offer PyTorch" in report["message"]
    assert submit_code(exercise.id, exercise.solution, alice).json["verdict"] == "correct"
    report = submit_code(exercise.id, with_mistake(exercise, "no-recurrent-term"), alice).json
    assert [m["slug"] for m in report["misconceptions"]] == ["no-recurrent-term"]


# torch.func's transforms are not preloaded (torchjob._warm says why): they are refused before use; a
# graph node called by hand computes one step of the backward pass, not the whole answer
ANSWERING = [name for name in ROUTES if name not in ("forward-mode", "caught", "guard-replaced", "torch-func",
                                                     "importlib-func", "graph-walk", "gradient-edge",
                                                     "function-ctx-walk", "function-base-apply", "jit-differentiate")]


@pytest.mark.parametrize("route", [ROUTES[name] for name in ANSWERING], ids=ANSWERING)
def test_each_route_is_real_autograd_that_answers_where_allowed(zygote, route):
    """The refusals above are not failures of the cheat: with autograd allowed, each one computes the
    reference's gradients."""
    exercise = CATALOG["tanh-rnn-bptt"]
    instance = exercise.instance(0)
    outcome = SandboxClient(zygote["socket"]).run(CHEAT.replace("ROUTE", route), "rnn_bptt", [instance.params],
                                                  TEST_LIMITS, autograd=True, torch=True)
    value = outcome.results[0]["value"]
    for name, expected in instance.answer.items():
        assert np.asarray(value[name]) == pytest.approx(np.asarray(expected), rel=1e-9, abs=1e-12), name


# ---- the attack suite's layers hold with torch loaded (the session zygote preloads it) ----------

TORCH_ATTACKS = {
    "read-host-file": "import torch\ntorch.from_file('/etc/passwd', size=16, dtype=torch.uint8)",
    "map-a-host-file-for-writing": "import torch\n"
                                   "torch.UntypedStorage.from_file('/tmp/bptt-torch-escape', shared=True, nbytes=64)",
    "shared-memory": "import torch\nt = torch.ones(3).share_memory_()\nimport os\nos.fork()",
    "memory-bomb": "import torch\nblocks = [torch.ones(2**27, dtype=torch.float64) for _ in range(16)]",
    "thread-pool-bomb": "import torch\ntorch.set_num_threads(256)\nx = torch.ones(2000, 2000)\n"
                        "for _ in range(50):\n    x = x @ x / 2000",
    "cpu-hog": "import torch\nx = torch.ones(3000, 3000)\nwhile True:\n    x = x @ x / 3000",
}


@pytest.mark.parametrize("body", TORCH_ATTACKS.values(), ids=TORCH_ATTACKS.keys())
def test_torch_attacks_are_contained(run_attack, body):
    report, _ = run_attack(body)
    assert report["verdict"] in ("error", "timeout"), report["message"]
    assert not os.path.exists("/tmp/bptt-torch-escape")


def test_a_job_with_torch_keeps_every_layer(zygote):
    source = "import torch\n" + PROBE.replace("def probe(x):\n", "def probe(x):\n    torch.ones(3).sum()\n")
    outcome = SandboxClient(zygote["socket"]).run(source, "probe", [{"x": 1}], TEST_LIMITS, torch=True)
    probe = outcome.results[0]["value"]
    assert probe["uid"] >= 20000 and probe["pid"] == 1 and probe["seccomp"] == 2
    assert probe["open_root"] == probe["socket"] == probe["fork"] == probe["setuid0"] == 1
    numpy_probe = SandboxClient(zygote["socket"]).run(PROBE, "probe", [{"x": 1}], TEST_LIMITS).results[0]["value"]
    # the session zygote has 4 slots: the torch zygote's jobs take the uids after the numpy zygote's, so a
    # torch job and a numpy job of different learners never share a uid or its process limit
    assert 20000 <= numpy_probe["uid"] < 20004 <= probe["uid"] < 20008


def test_a_graph_recorded_but_not_used_is_not_autograd(zygote):
    """nn modules record a graph; printing a tensor reads its grad_fn: neither computes a gradient."""
    source = ("import torch\ndef f(x):\n    layer = torch.nn.Linear(2, 2).double()\n"
              "    y = layer(torch.as_tensor(x, dtype=torch.float64))\n    print(y, repr(y.grad_fn))\n"
              "    return {'a': y * 0, 'graph': int(y.grad_fn is not None)}\n")
    outcome = SandboxClient(zygote["socket"]).run(source, "f", [{"x": [1.0, 2.0]}], TEST_LIMITS, torch=True)
    assert outcome.results[0] == {"ok": True, "value": {"a": [0.0, 0.0], "graph": 1}}


def test_printing_tensors_works_and_an_optimizer_is_a_clear_verdict(zygote, alice, submit_code):
    solution = CATALOG["minibatch-detach"].torch_solution
    printing = solution.replace("    l.backward()", "    print(l, state)\n    l.backward()")
    assert submit_code("minibatch-detach", printing, alice).json["verdict"] == "correct"
    optimizer = solution.replace("    l.backward()",
                                 "    torch.optim.SGD(net.params, lr=0.0).zero_grad()\n    l.backward()")
    report = submit_code("minibatch-detach", optimizer, alice).json
    assert report["verdict"] == "invalid" and "a part of PyTorch the sandbox does not preload" in report["message"]


@pytest.mark.parametrize("exercise_id, rule", [("minibatch-detach", "allowed"), ("gradient-clipping", "allowed"),
                                               ("tanh-rnn-bptt", "refused"), ("linear-bptt", "refused")])
def test_the_api_and_the_page_offer_both_starters_and_the_rule(client, exercise_id, rule):
    body = client.get(f"/api/v1/exercises/{exercise_id}").json
    exercise = CATALOG[exercise_id]
    assert body["rules"]["autograd"] == rule == exercise.info["autograd"] and body["rules"]["summary"]
    assert body["starter"] == body["starters"]["numpy"] == exercise.starter
    assert body["starters"]["torch"] == exercise.starters["torch"] and "import torch" in body["starters"]["torch"]
    page = client.get(f"/exercises/{exercise_id}").get_data(as_text=True)
    assert f'data-autograd="{rule}"' in page and 'id="torch-starter"' in page
