"""The instructor's console in Chromium: the course list, the gradebook grid (totals, late marks,
links down to each report), analytics that name mistakes and learners, enrolment with keys, revoking
a key, assigning by keyboard, and the passback states of an LTI course."""
import re

import pytest

from grader import delivery, storage
from grader.storage.models import LtiContext
from tests.browser_support import (browser, course, live, log_in, needs_chromium, new_page, overflow,  # noqa: F401
                                   page, sized)

pytestmark = needs_chromium


def test_an_instructor_lands_on_their_course_list(page, course):
    log_in(page, course, course["teacher"])
    assert page.get_by_role("heading", level=1).inner_text() == "Courses"
    assert page.get_by_role("heading", name=re.compile("RNNs")).is_visible()
    assert page.get_by_role("link", name="My attempts").count() == 0
    page.goto(course["url"] + "/history")  # the course's submissions say whose they are
    assert page.get_by_role("columnheader", name="Learner").count() >= 1
    assert page.get_by_role("cell", name="ann").count() >= 1


def test_the_gradebook_is_a_grid_with_totals_late_marks_and_links_to_reports(sized, course):
    log_in(sized, course, course["teacher"])
    sized.goto(course["url"] + "/courses/c1")
    grid = sized.locator("#gradebook")
    assert grid.count() == 1
    headers = grid.locator("thead th").all_inner_texts()
    assert headers[0] == "Learner" and headers[-1] == "Total" and len(headers) == 4
    assert grid.locator("tbody tr").count() == 2  # one line per learner
    lee = grid.locator("tbody tr", has=sized.get_by_role("link", name="lee", exact=True))
    assert "late" in lee.locator("td.cell").nth(1).inner_text()
    assert "of 2" in lee.locator("td.total").inner_text()  # two assignments of max score 1
    assert overflow(sized) <= 0
    lee.locator("td.cell").first.get_by_role("link").click()
    sized.wait_for_url("**/courses/c1/learners/lee*")
    sized.locator("section#ex-linear-bptt tbody a").first.click()
    sized.wait_for_url(f"**/submissions/{course['reports']['lee-wrong']['id']}")
    assert sized.inner_text("#verdict") == "Partly correct"


def test_analytics_name_each_mistake_and_the_learners_who_made_it(sized, course):
    log_in(sized, course, course["teacher"])
    sized.goto(course["url"] + "/courses/c1/exercises/linear-bptt")
    assert "Full BPTT gradients of the book's linear RNN" in sized.get_by_role("heading", level=1).inner_text()
    charts = sized.locator("svg.chart")
    assert charts.filter(has_text="Scores of all attempts").count() == 1  # the score histogram
    bars = charts.filter(has_text="Most frequent mistakes").text_content()
    assert "h_t used where h_{t-1} belongs" in bars and "h-t-instead-of-h-prev" not in bars
    mistake = sized.locator("section.mistake").first
    assert mistake.locator(".katex").count() >= 1  # the title typeset
    assert sorted(mistake.locator("a").all_inner_texts()) == ["ann", "lee"]
    mistake.get_by_role("link", name="ann").click()
    sized.wait_for_url(f"**/submissions/{course['reports']['ann-wrong']['id']}")
    assert overflow(sized) <= 0


def test_an_instructor_enrols_issues_and_revokes_keys_and_assigns_by_keyboard(browser, course, tmp_path):
    teacher = new_page(browser)
    try:
        log_in(teacher, course, course["teacher"])
        teacher.goto(course["url"] + "/courses/c1/people")
        assert teacher.locator("#learners").count() == 1
        teacher.fill("#learners", "zoe\nyan")
        teacher.check("#keys")
        with teacher.expect_navigation():
            teacher.click("#enrol")
        keys = dict(zip(teacher.locator(".issued td[data-label='Learner']").all_inner_texts(),
                        teacher.locator(".issued code.key").all_inner_texts()))
        assert set(keys) == {"zoe", "yan"} and all(k.startswith("bptt_") for k in keys.values())
        roster = tmp_path / "roster.csv"
        roster.write_text("learner\nxia\n")
        teacher.set_input_files("#csv_file", str(roster))
        with teacher.expect_navigation():
            teacher.click("#enrol")
        assert "xia" in teacher.inner_text("#roster-h + p")
        learner = new_page(browser)
        log_in(learner, course, keys["zoe"])
        assert learner.get_by_role("button", name="Log out").is_visible()
        with teacher.expect_navigation():
            teacher.get_by_role("button", name=re.compile("Revoke key .* of zoe")).click()
        assert "revoked" in teacher.get_by_role("status").inner_text()
        learner.reload()
        assert learner.get_by_role("link", name="Log in").is_visible()  # the key stops working at once
        learner.context.close()
        _assign_by_keyboard(teacher, course)
    finally:
        teacher.context.close()


def _assign_by_keyboard(page, course):
    page.goto(course["url"] + "/courses/c1/assignments")
    for _ in range(40):
        if page.evaluate("document.activeElement.id") == "exercise_id":
            break
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "exercise_id"
    page.keyboard.type("Truncated")  # a select picks the option that starts with what is typed
    page.keyboard.press("Tab")
    page.keyboard.type("Week 3: truncation")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.get_by_role("link", name="Week 3: truncation").is_visible()
    assert "Assigned Week 3: truncation" in page.get_by_role("status").inner_text()


def test_an_lti_course_shows_its_passback_states(page, course):
    app = course["app"]
    with app.app_context():
        db = storage.session(app)
        db.add(LtiContext(course_id="c1", issuer="https://lms.example", client_id="tool", context_id="ctx"))
        delivery.add(db, kind="passback", submission_id=course["reports"]["lee-late"]["id"],
                     target="https://lms.example/lineitems/1", payload={"score_given": 0.5})
        db.commit()
    log_in(page, course, course["teacher"])
    assert page.get_by_role("heading", name=re.compile("RNNs")).count() == 1
    assert "LTI" in page.get_by_role("heading", name=re.compile("RNNs")).inner_text()
    page.get_by_role("link", name="Score passbacks").click()
    assert page.locator("td.passback-state").all_inner_texts() == ["pending"]
