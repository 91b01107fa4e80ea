"""Every page, at 1280 px and at 390 px, audited by axe-core (WCAG 2.1 A and AA: no serious or
critical violation) and measured for sideways scrolling; the README's screenshots are taken here."""
from pathlib import Path

import pytest

from tests.browser_support import (DOCS, WIDTHS, axe_violations, browser, course, keep_failure_screenshot,  # noqa: F401
                                   live, log_in, needs_chromium, new_page, overflow)

pytestmark = needs_chromium
SOLUTION = Path(__file__).parent.parent / "exercises" / "hidden-state-gradient" / "solution.py"
SCREENSHOTS = {("desktop", "learner", "/"): "learner-home.png",
               ("desktop", "learner", "report-wrong"): "report-page.png",
               ("desktop", "teacher", "/courses/c1"): "gradebook.png",
               ("phone", "learner", "report-wrong"): "report-phone.png",
               ("phone", "teacher", "/courses/c1"): "gradebook-phone.png"}


def _code_error_report(page, url) -> str:
    """Submit code that raises, through the page; the report's path."""
    page.goto(url + "/exercises/hidden-state-gradient")
    page.fill("#source", SOLUTION.read_text().replace("    T = dL_do.shape[0]\n", "    T = dL_do.shape[0] / 0\n"))
    page.click("#submit-code")
    page.wait_for_selector("#verdict")
    return page.url[len(url):]


def _refused_form(page, url):
    page.goto(url + "/exercises/linear-bptt")
    page.fill("#answer_json", "{not json")
    page.click("#submit-numeric")
    page.wait_for_selector("#answer-error")


@pytest.mark.parametrize("width", list(WIDTHS))
def test_every_page_passes_axe_and_fits_the_screen(browser, course, zygote, width, request):
    reports = course["reports"]
    paths = {
        None: ["/", "/login", "/exercises/linear-bptt", "/submissions/nope"],
        "learner": ["/", "/exercises", "/exercises/linear-bptt", "/exercises/tanh-rnn-bptt",
                    "/exercises/hidden-state-gradient", "/history", "report-wrong",
                    f"/submissions/{reports['lee-late']['id']}",
                    "refused-form", "code-error"],
        "teacher": ["/", "/courses/c1", "/courses/c1/learners/lee", "/courses/c1/exercises/linear-bptt",
                    "/courses/c1/exercises/linear-bptt/groups", "/courses/c1/people", "/courses/c1/assignments",
                    "/courses/c1/passbacks", "/history"],
    }
    problems = []
    for who, pages in paths.items():
        page = new_page(browser, WIDTHS[width])
        try:
            if who:
                log_in(page, course, course[who])
            for path in pages:
                if path == "refused-form":
                    _refused_form(page, course["url"])
                elif path == "code-error":
                    _code_error_report(page, course["url"])
                else:
                    target = f"/submissions/{reports['lee-wrong']['id']}" if path == "report-wrong" else path
                    page.goto(course["url"] + target)
                page.wait_for_load_state("load")
                page.wait_for_function("!document.querySelector('.arithmatex') || document.querySelector('.katex')")
                found = axe_violations(page)
                problems += [f"{who} {path}: {v['impact']} {v['id']} ({v['help']}) at {v['nodes']}" for v in found]
                if overflow(page) > 0:
                    problems.append(f"{who} {path}: scrolls sideways by {overflow(page)} px")
                shot = SCREENSHOTS.get((width, who, path))
                if shot:
                    DOCS.mkdir(exist_ok=True)
                    page.screenshot(path=str(DOCS / shot), full_page=True)
        finally:
            keep_failure_screenshot(page, request)
            page.context.close()
    assert not problems, "\n".join(problems)
