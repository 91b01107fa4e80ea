"""The client package (client/, import bptt_grader) against a live service: every method, the
console command, bad keys, 429, 413, a network failure and a retried submission graded once."""
import html
import importlib.util
import json
import linecache
import os
import re
import stat
import time

import numpy as np
import pytest
import requests

from bptt_grader import AnswerError, ConnectionFailed, Grader, GraderError, RateLimited
from bptt_grader import cli
from bptt_grader.source import function_source
from grader import auth, storage
from grader.catalog import selftest
from grader.grading.precision import FLOAT32_SLUG
from tests.live import DroppingProxy, closed_port, serve
from tests.test_catalog import CATALOG, instance_seed
from tests.test_queue import cluster  # noqa: F401  (the queued service fixture)


@pytest.fixture
def live(tmp_path, zygote):
    with serve(tmp_path, zygote) as service:
        yield service


@pytest.fixture
def grader(live):
    messages = []
    client = Grader(live["url"], live["key"], backoff=0.01, notify=messages.append)
    client.messages = messages
    return client


def reference(instance):
    """The float64 reference answer of a client Instance."""
    exercise = CATALOG[instance.exercise_id]
    return exercise.instance(instance_seed(instance.raw)).answer


def test_exercises_lists_the_catalog(grader):
    assert sorted(e["id"] for e in grader.exercises()) == sorted(CATALOG)


def test_instance_params_are_numpy_arrays_with_the_answer_shapes(grader):
    instance = grader.instance("tanh-rnn-bptt", attempt=2)
    graded = CATALOG["tanh-rnn-bptt"].instance(instance_seed(instance.raw))
    assert instance.attempt == 2 and instance.token
    for name, value in graded.params.items():
        assert isinstance(instance.params[name], np.ndarray) and instance.params[name].dtype == value.dtype
        assert np.array_equal(instance.params[name], value), name
    assert instance.shapes == {name: np.shape(value) for name, value in graded.answer.items()}


def test_float64_numpy_answer_is_correct_and_float32_is_named(grader):
    instance = grader.instance("tanh-rnn-bptt")
    answer = reference(instance)
    report = grader.submit(instance, answer)
    assert report.correct and report.slugs == [] and report.score == pytest.approx(1.0, abs=1e-12)
    single = {name: np.asarray(value, dtype=np.float32) for name, value in answer.items()}
    report = grader.submit(instance, single)
    assert report.correct and report.slugs == [FLOAT32_SLUG] and report.hints == []


def test_lists_and_scalars_are_accepted(grader):
    instance = grader.instance("forward-mode-recursion")
    answer = reference(instance)
    report = grader.submit(instance, {"a": answer["a"].tolist(), "dL_dw": float(answer["dL_dw"])})
    assert report.correct


def test_tensors_on_any_device_with_grad_are_accepted(grader):
    torch = pytest.importorskip("torch", reason="PyTorch is optional and not installed here")
    instance = grader.instance("tanh-rnn-bptt", as_torch=True)
    assert all(isinstance(value, torch.Tensor) for value in instance.params.values())
    answer = {name: torch.tensor(value, requires_grad=True) for name, value in reference(instance).items()}
    assert grader.submit(instance, answer).correct
    single = {name: value.float() for name, value in answer.items()}
    assert grader.submit(instance, single).slugs == [FLOAT32_SLUG]


def test_a_nan_is_refused_before_anything_is_sent(grader):
    instance = grader.instance("forward-mode-recursion")
    answer = dict(reference(instance), dL_dw=float("nan"))
    with pytest.raises(AnswerError, match="dL_dw"):
        grader.submit(instance, answer)
    assert grader.history() == []


def test_a_wrong_answer_names_the_mistake_in_text_and_html_with_the_step_plot(grader):
    instance = grader.instance("linear-bptt")
    graded = CATALOG["linear-bptt"].instance(instance_seed(instance.raw))
    report = grader.submit(instance, graded.variants["h-t-instead-of-h-prev"])
    assert not report.correct and report.slugs == ["h-t-instead-of-h-prev"]
    assert set(report.steps) == {"dL_dh"} and len(report.steps["dL_dh"]) == graded.params["X"].shape[0]
    text, html = str(report), report._repr_html_()
    equation = report.misconceptions[0]["equation"]
    for needle in ("h-t-instead-of-h-prev", equation, "dW_hh", "Hints:"):
        assert needle in text
    for needle in ("<table", "dW_hh", report.misconceptions[0]["title"].replace("'", "&#x27;"), equation, "<svg"):
        assert needle in html


def test_history_and_report_read_the_stored_reports(grader):
    instance = grader.instance("forward-mode-recursion")
    first = grader.submit(instance, reference(instance))
    second = grader.submit(instance, {"a": np.zeros(instance.shapes["a"]), "dL_dw": 0.0})
    assert [r["id"] for r in grader.history()] == [second["id"], first["id"]]
    assert [r["id"] for r in grader.history("linear-bptt")] == []
    again = grader.report(first["id"])
    assert dict(again) == dict(first) and again.correct


GRADIENT_CLIPPING = '''
import numpy as np
from bptt_grader import Grader

EPS = 0.0


def global_norm(grads):
    return np.sqrt(sum(float(np.sum(g * g)) for g in grads)) + EPS


def clip_all(theta, dW_a, dU_a, db_a, dW_b, dU_b, db_b):
    answer = {}
    for case, grads in (("a", [dW_a, dU_a, db_a]), ("b", [dW_b, dU_b, db_b])):
        norm = global_norm(grads)
        scale = min(1.0, theta / norm)
        answer.update({f"dW_{case}": grads[0] * scale, f"dU_{case}": grads[1] * scale,
                       f"db_{case}": grads[2] * scale, f"norm_{case}": norm})
    return answer


grader = Grader("http://127.0.0.1:1", "not used")
'''


def load(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_function_source_keeps_the_helpers_and_leaves_the_client_out(tmp_path):
    path = tmp_path / "homework.py"
    path.write_text(GRADIENT_CLIPPING)
    text = function_source(load(path, "homework").clip_all)
    assert "def global_norm" in text and "EPS = 0.0" in text and "import numpy as np" in text
    assert "bptt_grader" not in text and "Grader(" not in text


NOTEBOOK_CELLS = ["import numpy as np\nSCALE = 2.0\n\ndef helper(x):\n    return SCALE * np.asarray(x)\n\n"
                  "def ping(n):\n    return n if n <= 0 else pong(n - 1)\n",
                  "from bptt_grader import Grader\n\ndef pong(n):\n    return ping(n)\n\n"
                  "def entry(x):\n    return helper(x) + pong(3)\n\nclient = Grader('http://127.0.0.1:1', 'unused')\n"]


def test_function_source_brings_helpers_from_other_cells():
    """Cells as IPython runs them: one namespace, each cell's text in linecache under its own name;
    helpers calling each other across cells are brought once, the client is left out."""
    namespace = {}
    for k, cell in enumerate(NOTEBOOK_CELLS):
        filename = f"<notebook-cell-{k}>"
        linecache.cache[filename] = (len(cell), None, cell.splitlines(True), filename)
        exec(compile(cell, filename, "exec"), namespace)
    text = function_source(namespace["entry"])
    assert "Grader" not in text and "client" not in text and text.count("def ping") == 1
    fresh = {}
    exec(compile(text, "submitted", "exec"), fresh)
    assert float(fresh["entry"](1.5)) == pytest.approx(3.0, rel=1e-12)


def test_submit_code_from_a_function_with_helpers(grader, tmp_path):
    path = tmp_path / "homework.py"
    path.write_text(GRADIENT_CLIPPING)
    report = grader.submit_code(load(path, "homework").clip_all, "gradient-clipping")
    assert report.correct and len(report.instances) >= 3, str(report)


def test_submit_code_infers_the_exercise_from_the_entry_point(grader, tmp_path):
    path = tmp_path / "solution.py"
    path.write_text(CATALOG["gradient-clipping"].solution)
    report = grader.submit_code(load(path, "solution").grad_clipping)
    assert report.correct and report["exercise_id"] == "gradient-clipping"


def test_submit_code_from_py_and_ipynb_files(grader, tmp_path):
    nbformat = pytest.importorskip("nbformat", reason="nbformat is a test requirement (requirements-dev.txt)")
    solution = CATALOG["gradient-clipping"].solution
    script = tmp_path / "solution.py"
    script.write_text(solution)
    notebook = tmp_path / "solution.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Clipping"),
                                                   nbformat.v4.new_code_cell("%matplotlib inline\n" + solution)]),
                   notebook)
    for path in (script, str(notebook)):
        report = grader.submit_code(path, "gradient-clipping")
        assert report.correct, (path, str(report))


def test_a_bad_key_is_the_services_problem_title_and_detail(live):
    with pytest.raises(GraderError) as caught:
        Grader(live["url"], "bptt_0123456789abcdef.wrong").instance("linear-bptt")
    assert caught.value.status == 401 and caught.value.title == "Missing or invalid API key"
    assert caught.value.detail == "The API key is unknown or revoked." and caught.value.detail in str(caught.value)


def test_too_large_a_request_is_413(tmp_path, zygote):
    with serve(tmp_path, zygote, MAX_CONTENT_LENGTH=4096) as service:
        grader = Grader(service["url"], service["key"])
        with pytest.raises(GraderError) as caught:
            grader.submit_code("def grad_clipping():\n    pass\n" + "# padding\n" * 1000, "gradient-clipping")
    assert caught.value.status == 413 and caught.value.title == "Request Entity Too Large" and caught.value.detail


def test_429_is_waited_out_with_a_message_or_raised(tmp_path, zygote):
    window = 5  # fixed windows: the test starts at a window's start, so its submits fall where it expects
    limits = {"learner_exercise": {"count": 1, "window_s": window}}
    with serve(tmp_path, zygote, RATE_LIMITS=limits) as service:
        messages = []
        grader = Grader(service["url"], service["key"], notify=messages.append)
        instance = grader.instance("forward-mode-recursion")
        answer = reference(instance)
        time.sleep(window - time.time() % window)
        assert grader.submit(instance, answer).correct
        assert grader.submit(instance, answer).correct  # waited for the next window
        assert len(messages) >= 1 and "rate limited" in messages[0] and "Retry-After" in messages[0]
        impatient = Grader(service["url"], service["key"], max_wait=0)
        with pytest.raises(RateLimited) as caught:
            impatient.submit(instance, answer)
    assert caught.value.status == 429 and caught.value.title == "Too many submissions"
    assert caught.value.retry_after >= 1


def test_an_unreachable_service_is_retried_then_reported():
    messages = []
    grader = Grader(f"http://127.0.0.1:{closed_port()}", "any", retries=2, backoff=0.01, notify=messages.append)
    with pytest.raises(ConnectionFailed) as caught:
        grader.exercises()
    assert caught.value.attempts == 3 and len(messages) == 2 and "retrying" in messages[0]
    assert caught.value.title == "Cannot reach the grading service"


def test_a_lost_response_is_retried_with_the_same_idempotency_key_and_graded_once(live, grader):
    instance = grader.instance("forward-mode-recursion")
    proxy = DroppingProxy(int(live["url"].rsplit(":", 1)[1]), drop=1)
    try:
        messages = []
        through_proxy = Grader(f"http://127.0.0.1:{proxy.port}", live["key"], backoff=0.01, notify=messages.append)
        report = through_proxy.submit(instance, reference(instance), steps=False)
    finally:
        proxy.close()
    assert report.correct and report.replayed and proxy.forwarded == 2
    assert len(messages) == 1 and "retrying" in messages[0]
    assert [r["id"] for r in grader.history()] == [report["id"]]


def test_console_login_exercises_instance_submit_history(live, tmp_path, monkeypatch, capsys):
    config = tmp_path / "config" / "bptt.json"
    monkeypatch.setenv("BPTT_GRADER_CONFIG", str(config))
    monkeypatch.delenv("BPTT_GRADER_KEY", raising=False)
    assert cli.main(["--url", live["url"], "--key", "bptt_0123456789abcdef.wrong", "login"]) == 2
    assert "Missing or invalid API key" in capsys.readouterr().err and not config.exists()
    assert cli.main(["--url", live["url"], "--key", live["key"], "login"]) == 0
    assert json.loads(config.read_text()) == {"url": live["url"], "key": live["key"]}
    assert stat.S_IMODE(os.stat(config).st_mode) == 0o600
    capsys.readouterr()
    assert cli.main(["exercises"]) == 0  # URL and key from the login file from here on
    assert "tanh-rnn-bptt" in capsys.readouterr().out
    assert cli.main(["instance", "forward-mode-recursion", "-o", str(tmp_path / "instance.json")]) == 0
    raw = json.loads((tmp_path / "instance.json").read_text())["instance"]
    answer = CATALOG["forward-mode-recursion"].instance(instance_seed(raw)).answer
    (tmp_path / "answer.json").write_text(json.dumps(selftest.to_json(answer)))
    assert cli.main(["submit", str(tmp_path / "answer.json"), "--instance", str(tmp_path / "instance.json")]) == 0
    assert "forward-mode-recursion - correct - 1.00 / 1.00" in capsys.readouterr().out
    (tmp_path / "wrong.py").write_text(CATALOG["gradient-clipping"].starter)
    assert cli.main(["submit", str(tmp_path / "wrong.py"), "--exercise", "gradient-clipping"]) == 1
    capsys.readouterr()
    assert cli.main(["history"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and "gradient-clipping" in lines[0] and "forward-mode-recursion" in lines[1]


@pytest.mark.parametrize("exercise_id", sorted(CATALOG))
def test_each_exercise_page_shows_a_snippet_that_runs_as_it_is(live, exercise_id, monkeypatch):
    """The page's snippet, read from the live page, run against the service with the learner's key."""
    page = requests.get(f"{live['url']}/exercises/{exercise_id}", timeout=30)
    snippet = html.unescape(re.search(r'<code id="client-snippet">(.*?)</code>', page.text, re.S).group(1))
    assert f'g.instance("{exercise_id}")' in snippet and f'Grader("{live["url"]}")' in snippet
    monkeypatch.setenv("BPTT_GRADER_KEY", live["key"])
    namespace = {}
    exec(compile(snippet, "snippet", "exec"), namespace)
    report = namespace["report"]
    assert report["exercise_id"] == exercise_id and report["verdict"] in ("incorrect", "invalid")
    if "code" in CATALOG[exercise_id].info["kinds"]:
        assert f"g.submit_code({CATALOG[exercise_id].info['entry_point']})" in snippet


def queue_reachable():
    from tests.test_queue import redis_reachable
    from tests.conftest import postgres_reachable
    return redis_reachable() and postgres_reachable()


@pytest.mark.skipif(not queue_reachable(), reason="needs Redis on 127.0.0.1:6379 and PostgreSQL on 127.0.0.1:5432")
def test_queued_code_is_waited_for_with_wait_and_polled(cluster):
    """On a queued service: wait=0 returns the pending report (202), wait_for polls it to the grade;
    wait=N sends ?wait and returns the graded report."""
    from tests.test_queue import SLOW, SOLUTION
    with cluster["app"].app_context():
        key = auth.create_key(storage.session(cluster["app"]), role="learner", learner="q1").key
    grader = Grader(f"http://127.0.0.1:{cluster['ports'][0]}", key)
    pending = grader.submit_code(SLOW, "tanh-rnn-bptt", wait=0)
    assert pending["verdict"] == "pending"
    assert grader.wait_for(pending, timeout=120).correct
    assert grader.submit_code(SOLUTION, "tanh-rnn-bptt", wait=60).correct
