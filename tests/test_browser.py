"""The pages in a real browser (Debian's Chromium driven by Playwright): log in, open an exercise,
download an instance, submit a wrong answer and see the named mistake and the plot, submit a right
one; an instructor exports the gradebook; reading and numeric upload work without JavaScript.
A failing test leaves a screenshot in tests/artifacts/."""
import json
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest
from werkzeug.serving import make_server

from grader import auth, storage
from grader.reference.linear import linear_bptt, linear_forward

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).parent / "artifacts"
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                reason="Debian's chromium is not installed (.ci/run installs it)")


@pytest.fixture
def live(app):
    """The app on a free loopback port, a course with an instructor, and a learner enrolled."""
    with app.app_context():
        db = storage.session(app)
        from grader import courses
        courses.create_course(db, id="c1", title="RNNs")
        keys = {"learner": auth.create_key(db, role="learner", learner="lee", course_id="c1").key,
                "teacher": auth.create_key(db, role="instructor", course_id="c1").key}
        courses.enroll(db, "c1", ["lee"])
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield {"url": f"http://127.0.0.1:{server.server_port}", **keys}
    server.shutdown()


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run", "--disable-quic"])
        yield browser
        browser.close()


@pytest.fixture
def page(browser, request):
    context = browser.new_context(accept_downloads=True, viewport={"width": 1100, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    if getattr(request.node, "report_call", None) is not None and request.node.report_call.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()


def log_in(page, live, key):
    page.goto(live["url"] + "/login")
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(live["url"] + "/")


def test_learner_flow(page, live, tmp_path):
    log_in(page, live, live["learner"])
    page.get_by_role("link", name="Full BPTT gradients of the book's linear RNN").click()
    page.wait_for_selector(".statement .katex")  # KaTeX typeset the statement in the browser
    assert page.locator(".statement .katex").count() > 3
    with page.expect_download() as download:
        page.click("#download-json")
    instance = json.loads(Path(download.value.path()).read_text())
    p = {k: np.asarray(v) for k, v in instance["params"].items()}
    answer = linear_bptt(**p)
    H, _ = linear_forward(p["W_hx"], p["W_hh"], p["W_qh"], p["X"], p["h0"])
    wrong = {k: v.tolist() for k, v in answer.items()}
    wrong["dW_hh"] = (answer["dL_dh"].T @ H).tolist()  # h_t where h_{t-1} belongs
    wrong["dL_dh"][1] = (np.asarray(wrong["dL_dh"][1]) * 1.5).tolist()  # and one step off in time
    upload = tmp_path / "wrong.json"
    upload.write_text(json.dumps(wrong))
    page.set_input_files("#answer_file", str(upload))
    page.click("#submit-numeric")
    page.wait_for_selector("#verdict")
    assert page.inner_text("#verdict") == "partially correct"
    assert page.get_by_role("heading", name="h_t used where h_{t-1} belongs").is_visible()
    assert page.locator("svg.chart").count() >= 1
    assert "relative error per time step" in page.inner_html("svg.chart")
    page.get_by_text("Hint 1").click()
    assert page.get_by_text("Start from the output").is_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "report-page.png"), full_page=True)
    page.get_by_role("link", name="← Full BPTT gradients of the book's linear RNN").click()
    page.fill("#answer_json", json.dumps({k: v.tolist() for k, v in answer.items()}))
    page.click("#submit-numeric")
    page.wait_for_selector("#verdict")
    assert page.inner_text("#verdict") == "correct"
    page.get_by_role("link", name="My attempts").click()
    assert page.locator("tbody tr").count() == 2


def test_instructor_exports_the_gradebook(page, live, tmp_path):
    log_in(page, live, live["learner"])
    page.get_by_role("button", name="Log out").click()  # a form with its CSRF token
    assert page.get_by_role("link", name="Log in").is_visible()
    log_in(page, live, live["teacher"])
    page.get_by_role("link", name="Gradebook").click()
    assert page.get_by_role("cell", name="lee").count() == 0  # no assignment yet: no rows
    with page.expect_download() as download:
        page.click("#gradebook-csv")
    assert Path(download.value.path()).read_text().startswith("learner,assignment_id,exercise_id")


def test_pages_work_without_javascript(browser, live):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        log_in(page, live, live["learner"])
        page.goto(live["url"] + "/exercises/hidden-state-gradient")
        assert page.locator(".katex").count() == 0
        assert "W}_{hh}" in page.inner_text(".statement")  # the TeX source stays readable
        instance = json.loads(context.request.get(live["url"] + "/exercises/hidden-state-gradient/instance.json").text())
        from tests.test_catalog import CATALOG
        exercise = CATALOG["hidden-state-gradient"]
        answer = exercise.solve({k: np.asarray(v) if isinstance(v, list) else v for k, v in instance["params"].items()})
        page.fill("#answer_json", json.dumps({k: np.asarray(v).tolist() for k, v in answer.items()}))
        page.click("#submit-numeric")
        assert page.inner_text("#verdict") == "correct"
    finally:
        context.close()


def test_a_bad_login_and_a_bad_upload_get_clear_messages(page, live, tmp_path):
    page.goto(live["url"] + "/login")
    page.get_by_label("API key").fill("bptt_nope.nope")
    page.get_by_role("button", name="Log in").click()
    assert page.get_by_role("alert").inner_text().startswith("That key is unknown")
    log_in(page, live, live["learner"])
    page.goto(live["url"] + "/exercises/linear-bptt")
    page.fill("#answer_json", "{not json")
    page.click("#submit-numeric")
    assert "not valid JSON" in page.get_by_role("alert").inner_text()


def test_readable_on_a_phone(page, live):
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, live, live["learner"])
    page.goto(live["url"] + "/exercises/tanh-rnn-bptt")
    page.wait_for_selector(".statement .katex")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.tagName") == "A"


def test_a_form_without_its_csrf_token_gets_a_page(page, live):
    log_in(page, live, live["learner"])
    response = page.request.post(live["url"] + "/exercises/linear-bptt/submit", form={"kind": "numeric"})
    assert response.status == 400 and "Form not accepted" in response.text()
