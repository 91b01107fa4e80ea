"""A learner's pages in Chromium at a desktop and a phone width: refused answers stay at their field
with the input kept, the code box keeps the graded code, progress (home, history, next exercise, the
catalog in the book's order), the instance as tables, feedback as math and words, honest charts."""
import json
import re
from pathlib import Path

import numpy as np
import pytest

from tests.browser_support import (WIDTHS, api, browser, in_viewport, live, log_in, needs_chromium,  # noqa: F401
                                   new_page, overflow, page, sized, submit_numeric)

pytestmark = needs_chromium
SOLUTION = Path(__file__).parent.parent / "exercises" / "hidden-state-gradient" / "solution.py"


def assign(live, exercise_id, **fields):
    return api(live, live["teacher"])("POST", "/courses/c1/assignments", json={"exercise_id": exercise_id, **fields})


def test_a_malformed_answer_is_refused_next_to_its_field_with_the_input_kept(sized, live):
    log_in(sized, live, live["learner"])
    sized.goto(live["url"] + "/exercises/linear-bptt")
    sized.fill("#answer_json", '{"dW_qh": [[1, 2]')
    with sized.expect_navigation():
        sized.click("#submit-numeric")
    sized.wait_for_load_state("load")
    assert sized.input_value("#answer_json") == '{"dW_qh": [[1, 2]'  # the pasted answer is kept
    assert in_viewport(sized.get_by_role("alert").filter(has_text="not valid JSON"))  # not 1450 px above
    assert sized.evaluate("document.activeElement.id") == "answer_json"
    assert sized.get_attribute("#answer_json", "aria-invalid") == "true"


def test_a_used_up_attempt_limit_is_said_at_the_form_with_the_input_kept(sized, live):
    assign(live, "linear-bptt", max_attempts=1)
    submit_numeric(live, live["learner"], "linear-bptt", mistake="h-t-instead-of-h-prev")
    log_in(sized, live, live["learner"])
    sized.goto(live["url"] + "/exercises/linear-bptt")
    sized.fill("#answer_json", '{"dW_qh": [[0.5]]}')
    with sized.expect_navigation():
        sized.click("#submit-numeric")
    sized.wait_for_load_state("load")
    assert sized.input_value("#answer_json") == '{"dW_qh": [[0.5]]}'
    assert in_viewport(sized.get_by_role("alert").filter(has_text=re.compile("attempts .* are used")))
    assert "0 left" in sized.inner_text(".assignment")


def submit_code_on_page(page, live, source):
    """As the learner: open hidden-state-gradient, paste the source, submit, wait for the report."""
    log_in(page, live, live["learner"])
    page.goto(live["url"] + "/exercises/hidden-state-gradient")
    page.fill("#source", source)
    page.click("#submit-code")
    page.wait_for_selector("#verdict")


def test_the_code_box_keeps_the_graded_code_and_tab_indents(page, live, zygote):
    submit_code_on_page(page, live, SOLUTION.read_text().replace('MISTAKE = None', 'MISTAKE = None  # my own version'))
    graded = page.locator("pre.source")
    assert graded.count() == 1 and "MISTAKE = None  # my own version" in graded.inner_text()  # the code graded
    assert page.inner_text("#verdict") == "Correct"
    page.click("#try-again")
    assert "# my own version" in page.input_value("#source")  # not the starter again
    page.focus("#source")
    page.keyboard.press("Control+Home")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "source"
    assert page.input_value("#source").startswith('    """')
    page.keyboard.press("Escape")
    page.keyboard.press("Tab")  # Esc releases the next Tab: the keyboard can leave the box
    assert page.evaluate("document.activeElement.id") == "submit-code"


def test_a_runtime_error_is_said_once_and_where(page, live, zygote):
    submit_code_on_page(page, live, SOLUTION.read_text().replace("    T = dL_do.shape[0]\n",
                                                                "    T = dL_do.shape[0]\n    T = T / 0\n"))
    text = page.inner_text("main")
    assert text.count("ZeroDivisionError") == 1, text  # once, not once per hidden instance
    assert page.locator("#parts").count() == 0  # no empty parts table
    assert page.locator("pre.source .error-line").count() == 1
    assert "T = T / 0" in page.inner_text("pre.source .error-line")  # where: the line, marked in the code
    assert page.inner_text("#verdict") == "Your code raised an error"


def test_a_learner_sees_their_assignments_attempts_and_best_score_in_their_time_zone(browser, live):
    assign(live, "linear-bptt", due_at="2030-01-15T12:00:00+00:00", max_attempts=3)
    report = submit_numeric(live, live["learner"], "linear-bptt", mistake="h-t-instead-of-h-prev")
    page = new_page(browser, timezone_id="Pacific/Auckland", locale="en-GB")
    try:
        log_in(page, live, live["learner"])
        page.goto(live["url"] + "/")
        assert page.locator("table.assignments").count() == 1
        row = page.locator("table.assignments tbody tr").first
        assert "Full BPTT gradients of the book's linear RNN" in row.inner_text()
        due = row.locator("time").inner_text()
        assert "16 Jan 2030" in due and "01:00" in due  # 12:00 UTC is 01:00 the next day in Auckland
        assert "1 used" in row.inner_text() and "2 left" in row.inner_text()
        assert f"{report['score']:.3g} of 1" in row.inner_text()
        assert row.locator(".status").inner_text() == "In progress"
    finally:
        page.context.close()


def test_history_is_grouped_by_exercise_with_titles_and_the_best_score(page, live):
    submit_numeric(live, live["learner"], "linear-bptt", mistake="h-t-instead-of-h-prev")
    best = submit_numeric(live, live["learner"], "linear-bptt", attempt=2)
    submit_numeric(live, live["learner"], "hidden-state-gradient")
    log_in(page, live, live["learner"])
    page.goto(live["url"] + "/history")
    groups = page.locator("section.exercise-group")
    assert groups.count() == 2
    linear = groups.filter(has_text="Full BPTT gradients of the book's linear RNN")
    assert linear.locator("tbody tr").count() == 2
    assert f"Best score {best['score']:.3g} of 1" in linear.locator(".best").inner_text()


def test_a_correct_report_offers_the_next_exercise_and_a_retry(page, live):
    report = submit_numeric(live, live["learner"], "linear-bptt")
    log_in(page, live, live["learner"])
    page.goto(live["url"] + f"/submissions/{report['id']}")
    assert page.locator("#next-exercise").count() == 1
    page.click("#next-exercise")
    page.wait_for_url("**/exercises/hidden-state-gradient")  # the next one in the book's order
    page.go_back()
    assert page.locator("#try-again").is_visible()


def test_the_catalog_follows_the_book_with_typeset_titles(page, live):
    page.goto(live["url"] + "/")
    page.wait_for_load_state("load")
    links = page.locator("main a[href^='/exercises/']")
    ids = [href.rsplit("/", 1)[1] for href in links.evaluate_all("els => els.map(e => e.getAttribute('href'))")]
    assert ids[0] == "tanh-rnn-bptt" and ids.index("linear-bptt") < ids.index("hidden-state-gradient")
    assert ids[-4:] == ["matrix-power-eigenvalues", "power-iteration-alignment", "gradient-norm-profile",
                        "exploding-gradient-remedies"]  # the section's exercises 1.1, 1.2, 1.3, 2, last
    assert page.locator("a[href='/exercises/matrix-power-eigenvalues'] .katex").count() == 1  # M^k


def test_the_instance_reads_as_tables_with_copy_buttons(browser, live):
    instance = api(live, live["learner"])("POST", "/exercises/hidden-state-gradient/instances")["instance"]
    page = new_page(browser)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    try:
        log_in(page, live, live["learner"])
        page.goto(live["url"] + "/exercises/hidden-state-gradient")
        W_hh, t = np.asarray(instance["params"]["W_hh"]), instance["params"]["t"]
        assert page.locator("#param-t .value").count() == 1
        assert page.inner_text("#param-t .value") == str(t)
        assert page.inner_text("#param-W_hh .shape") == f"shape ({W_hh.shape[0]} × {W_hh.shape[1]})"
        assert page.locator("#param-W_hh table.matrix tr").count() == W_hh.shape[0]
        page.click("#param-W_hh button.copy")
        copied = json.loads(page.evaluate("navigator.clipboard.readText()"))
        assert np.allclose(copied, W_hh, rtol=0, atol=0)  # full precision, not the 4 digits shown
        page.goto(live["url"] + "/exercises/gradient-norm-profile")
        T = api(live, live["learner"])("POST", "/exercises/gradient-norm-profile/instances")["instance"]["params"]["T"]
        assert page.inner_text("#param-T .value") == str(T)
    finally:
        page.context.close()


def test_feedback_is_typeset_in_words_for_people_with_each_number_once(page, live):
    report = submit_numeric(live, live["learner"], "linear-bptt", mistake="h-t-instead-of-h-prev")
    log_in(page, live, live["learner"])
    page.goto(live["url"] + f"/submissions/{report['id']}")
    page.wait_for_load_state("load")
    assert page.locator(".misconception .katex").count() >= 2  # the title: h_t, h_{t-1}
    assert page.inner_text("#verdict") == "Partly correct"
    assert page.locator(".misconception p .katex").count() >= 2  # dL/dW_hh, dL/dh_t typeset as in the statement
    badges = page.locator(".verdict").all_inner_texts()
    assert not [b for b in badges if "_" in b or b in ("incorrect", "partially correct")], badges
    wrong = next(p for p in report["parts"] if p["name"] == "dW_hh")
    row = page.locator("table.parts tr", has=page.locator("code", has_text=re.compile("^dW_hh$"))).inner_text()
    assert row.count(f"{wrong['relative_error']:.2g}") == 1 and f"{wrong['relative_error']:.1e}" not in row
    page.goto(live["url"] + "/history")
    assert not [b for b in page.locator(".verdict").all_inner_texts() if "_" in b]


def _scale_late_norms(answer):
    answer["norms"] = [n * (10.0 if k > 2 else 1.0) for k, n in enumerate(answer["norms"])]


def test_log_scale_plots_label_decades_without_overlap_and_a_correct_report_has_no_chart(page, live):
    wrong = submit_numeric(live, live["learner"], "gradient-norm-profile", change=_scale_late_norms)
    right = submit_numeric(live, live["learner"], "linear-bptt")
    log_in(page, live, live["learner"])
    page.goto(live["url"] + f"/submissions/{wrong['id']}")
    chart = page.locator("svg.chart", has_text="log scale").first
    ticks = [t for t in chart.locator("text").all_text_contents() if re.fullmatch(r"1[0e].*", t)]
    assert ticks and all(re.fullmatch(r"10[−-]?\d+", t) for t in ticks), ticks  # 10^-2, not 1e-1.5
    boxes = chart.evaluate("""svg => Array.from(svg.querySelectorAll('text')).map(t => {
        const r = t.getBoundingClientRect(); return {text: t.textContent, x0: r.left, x1: r.right, y0: r.top, y1: r.bottom,
        rotated: (t.getAttribute('transform') || '').includes('rotate')}; })""")
    title = next(b for b in boxes if b["rotated"])
    clash = [b["text"] for b in boxes if not b["rotated"] and b["x0"] < title["x1"] and b["x1"] > title["x0"]
             and b["y0"] < title["y1"] and b["y1"] > title["y0"]]
    assert not clash, clash
    page.goto(live["url"] + f"/submissions/{right['id']}")
    assert page.inner_text("#verdict") == "Correct"
    assert page.locator("svg.chart").count() == 0  # an all-zero error chart says nothing


def test_on_a_phone_reports_and_history_fit_the_screen_and_charts_stay_legible(browser, live):
    report = submit_numeric(live, live["learner"], "linear-bptt", mistake="h-t-instead-of-h-prev",
                            change=lambda a: a["dL_dh"].__setitem__(1, [x * 1.5 for x in a["dL_dh"][1]]))
    for k in range(3):
        submit_numeric(live, live["learner"], "tanh-rnn-bptt", attempt=k + 1)
    page = new_page(browser, WIDTHS["phone"])
    try:
        log_in(page, live, live["learner"])
        page.goto(live["url"] + "/history")
        assert overflow(page) <= 0  # was 478 px
        page.goto(live["url"] + f"/submissions/{report['id']}")
        page.wait_for_load_state("load")
        assert overflow(page) <= 0
        widths = page.locator("td.feedback").evaluate_all("cells => cells.map(c => c.getBoundingClientRect().width)")
        assert min(widths) > 200  # a sentence per line, not a word
        tick = page.locator("svg.chart text.tick").first.evaluate("t => t.getBoundingClientRect().height")
        assert tick >= 10  # chart text a person can read on a phone
        page.goto(live["url"] + "/exercises/linear-bptt")
        page.wait_for_selector(".statement .katex")
        number = page.locator(".statement").get_by_text("(9.7.9)", exact=True)
        assert number.count() == 1
        box = number.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= WIDTHS["phone"]  # the equation number in view
        assert overflow(page) <= 0
    finally:
        page.context.close()


def _tab_to(page, element_id, presses=120):
    for _ in range(presses):
        if page.evaluate("document.activeElement.id") == element_id:
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached #{element_id}")


def test_logging_in_and_answering_work_from_the_keyboard_alone(page, live):
    page.goto(live["url"] + "/login")
    _tab_to(page, "api_key")
    page.keyboard.type(live["learner"])
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.goto(live["url"] + "/exercises/linear-bptt")
    _tab_to(page, "answer_json")
    page.keyboard.type('{"dW_qh": 1}')
    _tab_to(page, "submit-numeric")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.inner_text("#verdict") == "Could not be graded"  # the shapes are wrong, and it says so
