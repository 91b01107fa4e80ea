"""Fixtures and checks shared by the browser tests: the app on a loopback port with a course, Debian's
Chromium through Playwright, axe-core (vendored in tests/vendor/axe-core) and layout measurements."""
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest
from werkzeug.serving import make_server

from grader import auth, storage

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).parent / "artifacts"
DOCS = Path(__file__).parent.parent / "docs"
AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
WIDTHS = {"desktop": 1280, "phone": 390}
needs_chromium = pytest.mark.skipif(not Path(CHROMIUM).exists(),
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
    yield {"url": f"http://127.0.0.1:{server.server_port}", "app": app, **keys}
    server.shutdown()


@pytest.fixture
def course(live):
    """Two assignments (one past due, late work accepted at half credit); lee makes a catalogued
    mistake on the first (and a slip at one time step) and is late on the second; ann makes the
    same mistake, then gets it right."""
    teacher = api(live, live["teacher"])
    teacher("POST", "/courses/c1/assignments", json={"exercise_id": "linear-bptt", "due_at": "2099-01-01T00:00:00Z"})
    teacher("POST", "/courses/c1/assignments", json={"exercise_id": "hidden-state-gradient", "late_policy": "penalty",
                                                     "late_penalty": 0.5, "due_at": "2020-01-01T00:00:00Z"})
    ann = learner_key(live, "ann")
    reports = {"lee-wrong": submit_numeric(live, live["learner"], "linear-bptt", mistake="h-t-instead-of-h-prev",
                                           change=_one_step_off),
               "lee-late": submit_numeric(live, live["learner"], "hidden-state-gradient"),
               "ann-wrong": submit_numeric(live, ann, "linear-bptt", mistake="h-t-instead-of-h-prev"),
               "ann-right": submit_numeric(live, ann, "linear-bptt", attempt=2)}
    return {**live, "reports": reports, "ann": ann}


def _one_step_off(answer):
    """dL/dh wrong at time step 2 only: the report plots where in time."""
    answer["dL_dh"][1] = [x * 1.5 for x in answer["dL_dh"][1]]


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run", "--disable-quic"])
        yield browser
        browser.close()


def new_page(browser, width=1100, **options):
    context = browser.new_context(accept_downloads=True, viewport={"width": width, "height": 900 if width > 500 else 844},
                                  **options)
    page = context.new_page()
    page.set_default_timeout(15000)
    return page


@pytest.fixture
def page(browser, request):
    page = new_page(browser)
    yield page
    keep_failure_screenshot(page, request)
    page.context.close()


@pytest.fixture(params=list(WIDTHS), ids=list(WIDTHS))
def sized(browser, request):
    """A page at the desktop width or the phone width."""
    page = new_page(browser, WIDTHS[request.param])
    yield page
    keep_failure_screenshot(page, request)
    page.context.close()


def keep_failure_screenshot(page, request):
    if getattr(request.node, "report_call", None) is not None and request.node.report_call.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)


def log_in(page, live, key):
    page.goto(live["url"] + "/login")
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(live["url"] + "/**")


def api(live, key):
    """The JSON API through the app's test client, as a script would use it."""
    client = live["app"].test_client()
    headers = {"Authorization": f"Bearer {key}"}

    def call(method, path, **kwargs):
        response = client.open("/api/v1" + path, method=method, headers=headers, **kwargs)
        assert response.status_code < 300, response.get_json()
        return response.get_json()
    return call


def params_of(instance) -> dict:
    return {k: np.asarray(v) if isinstance(v, list) else v for k, v in instance["params"].items()}


def submit_numeric(live, key, exercise_id, mistake=None, change=None, attempt=1) -> dict:
    """Fetch the learner's instance and submit the reference answer, or a catalogued mistake's, or
    the reference changed by `change(answer)`; returns the report."""
    from tests.test_catalog import CATALOG
    call = api(live, key)
    instance = call("POST", f"/exercises/{exercise_id}/instances", json={"attempt": attempt})["instance"]
    exercise, params = CATALOG[exercise_id], params_of(instance)
    answer = exercise.variants_for(params)[mistake] if mistake else exercise.solve(params)
    answer = {k: np.asarray(v).tolist() if not isinstance(v, str) else v for k, v in answer.items()}
    if change:
        change(answer)
    return call("POST", "/submissions", json={"exercise_id": exercise_id, "kind": "numeric",
                                              "instance_token": instance["token"], "answer": answer})


def learner_key(live, learner) -> str:
    with live["app"].app_context():
        db = storage.session(live["app"])
        from grader import courses
        courses.enroll(db, "c1", [learner])
        return auth.create_key(db, role="learner", learner=learner, course_id="c1").key


def axe_violations(page) -> list[dict]:
    """axe-core's serious and critical WCAG 2.1 A/AA violations on the page as it is now."""
    page.evaluate("document.fonts.ready.then(() => true)")  # the layout axe measures is final
    page.add_script_tag(path=str(AXE))
    found = page.evaluate("""async (tags) => {
        const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
        return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                            nodes: v.nodes.slice(0, 4).map(n => n.target.join(' '))}));
    }""", AXE_TAGS)
    return [v for v in found if v["impact"] in ("serious", "critical")]


def overflow(page) -> int:
    """How far the page scrolls sideways (0: it fits the viewport)."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def in_viewport(locator) -> bool:
    """Whether the element is on screen now, all of it."""
    locator.page.wait_for_load_state("load")  # the page's scripts have run
    return locator.count() == 1 and locator.evaluate("""el => { const r = el.getBoundingClientRect();
        return r.top >= 0 && r.bottom <= window.innerHeight && r.height > 0; }""")
