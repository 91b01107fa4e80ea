"""The pages in a real browser (Debian's Chromium driven by Playwright; fixtures in browser_support.py):
log in, open an exercise, download an instance, submit a wrong answer and see the named mistake and
the plot, submit a right one; an instructor exports the gradebook; reading and numeric upload work
without JavaScript. A failing test leaves a screenshot in tests/artifacts/."""
import json
from pathlib import Path

import numpy as np
import pytest

from grader.reference.linear import linear_bptt, linear_forward
from tests.browser_support import ARTIFACTS, browser, live, log_in, needs_chromium, page  # noqa: F401 (fixtures)

pytestmark = needs_chromium


def test_learner_flow(page, live, tmp_path):
    log_in(page, live, live["learner"])
    page.get_by_role("link", name="Exercises", exact=True).click()
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
    assert page.inner_text("#verdict") == "Partly correct"
    page.wait_for_selector(".misconception h2 .katex")  # typeset once the page's scripts ran
    heading = page.locator(".misconception h2").first
    assert "used where" in heading.inner_text() and heading.locator(".katex").count() == 2  # h_t, h_{t-1}
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
    assert page.inner_text("#verdict") == "Correct"
    page.get_by_role("link", name="My attempts").click()
    assert page.locator("tbody tr").count() == 2


def test_instructor_exports_the_gradebook(page, live, tmp_path):
    log_in(page, live, live["learner"])
    page.get_by_role("button", name="Log out").click()  # a form with its CSRF token
    assert page.get_by_role("link", name="Log in").is_visible()
    log_in(page, live, live["teacher"])
    page.get_by_role("link", name="Gradebook").click()
    assert page.get_by_text("No assignments yet").is_visible()
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
        assert page.inner_text("#verdict") == "Correct"
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
