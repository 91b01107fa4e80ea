"""Answer groups: a class with two mistakes nobody catalogued, grouped by behaviour; an instructor
names one, and the next matching submission and a regrade carry the instructor's diagnosis while
correct and catalogued answers are left alone."""
import numpy as np
import pytest

from grader import storage
from grader.groups import fingerprint
from grader.storage.models import Submission
from tests.conftest import regrade_and_wait
from tests.test_catalog import CATALOG

EXERCISE = CATALOG["matrix-power-eigenvalues"]
SOLUTION = EXERCISE.solution


def learner_source(values: str) -> str:
    """A submission computing `values` from lam = eigvalsh(M) and k, sorted as the exercise asks."""
    return ("import numpy as np\n\n\ndef power_eigenvalues(M, k):\n    lam = np.linalg.eigvalsh(M)\n"
            f"    values = {values}\n    return {{'eigenvalues': values[np.lexsort((-values, -np.abs(values)))]}}\n")


POWER_SLIP = learner_source("lam ** (k - 1)")  # written for this test: one power too few
NORMALISED = learner_source("lam ** k / k")  # written for this test: divided by k
# the same mistake written otherwise: a loop instead of a power
POWER_SLIP_LOOP = ("import numpy as np\n\n\ndef power_eigenvalues(M, k):\n    lam = np.linalg.eigvalsh(M)\n"
                   "    values = np.ones_like(lam)\n    for _ in range(k - 1):\n        values = values * lam\n"
                   "    order = np.lexsort((-values, -np.abs(values)))\n    return {'eigenvalues': values[order]}\n")
SIGN_LOST = SOLUTION.replace("MISTAKE = None", "MISTAKE = 'eigen-sign-lost'")
NAME = {"slug": "power-one-short", "title": "One power too few",
        "message": "Count the factors: applying M k times multiplies an eigenvector by lambda k times.",
        "equation": "Exercise 1.1"}


@pytest.fixture
def klass(client, admin, zygote):
    """Course c1 with an instructor and learners l1..l9 (keys bound to c1); course c2's instructor."""
    for course_id in ("c1", "c2"):
        assert client.post("/api/v1/courses", json={"id": course_id, "title": course_id}, headers=admin).status_code == 201
    teach = {"Authorization": "Bearer " + client.post("/api/v1/courses/c1/instructors", headers=admin).json["key"]}
    other = {"Authorization": "Bearer " + client.post("/api/v1/courses/c2/instructors", headers=admin).json["key"]}
    rows = client.post("/api/v1/courses/c1/learners", json={"learners": [f"l{i}" for i in range(1, 10)], "keys": True},
                       headers=teach).json
    assert client.post("/api/v1/courses/c1/assignments", json={"exercise_id": EXERCISE.id},
                       headers=teach).status_code == 201
    return {"teacher": teach, "other": other, **{r["learner"]: {"Authorization": f"Bearer {r['key']}"} for r in rows}}


def send(client, headers, source):
    response = client.post("/api/v1/submissions", json={"exercise_id": EXERCISE.id, "kind": "code", "source": source},
                           headers=headers)
    assert response.status_code == 201, response.json
    return response.json


def slugs(report):
    return [m["slug"] for m in report["misconceptions"]]


def test_two_unlisted_mistakes_form_two_groups_and_a_named_group_diagnoses_later_and_earlier_ones(client, klass, app):
    sent = {"l1": send(client, klass["l1"], POWER_SLIP), "l2": send(client, klass["l2"], POWER_SLIP_LOOP),
            "l3": send(client, klass["l3"], NORMALISED), "l4": send(client, klass["l4"], NORMALISED),
            "l5": send(client, klass["l5"], NORMALISED), "l6": send(client, klass["l6"], SOLUTION),
            "l7": send(client, klass["l7"], SIGN_LOST)}
    assert sent["l6"]["verdict"] == "correct" and slugs(sent["l7"]) == ["eigen-sign-lost"]
    assert [(sent[w]["verdict"], slugs(sent[w])) for w in ("l1", "l2", "l3")] == [("incorrect", [])] * 2 + [("partially_correct", [])]

    groups = client.get(f"/api/v1/courses/c1/exercises/{EXERCISE.id}/groups", headers=klass["teacher"]).json
    code = groups["code_groups"]
    # two groups, largest first; the catalogued and the correct answers are in none
    assert [(g["size"], g["learners"]) for g in code] == [(3, ["l3", "l4", "l5"]), (2, ["l1", "l2"])]
    slip = code[1]
    assert slip["example"]["submission_id"] == sent["l1"]["id"] and "lam ** (k - 1)" in slip["example"]["source"]
    assert slip["diagnosis"] is None
    for probe in slip["differences"]:  # how the group differs from the reference, part by part
        (part,) = probe["parts"]
        assert part["name"] == "eigenvalues" and part["verdict"] == "incorrect"
        assert part["relative_error"] > 1e-3 and part["location"]["index"]

    named = client.post(f"/api/v1/courses/c1/exercises/{EXERCISE.id}/groups/{slip['id']}/name", json=NAME,
                        headers=klass["teacher"])
    assert named.status_code == 201, named.json
    assert named.json["slug"] == NAME["slug"] and named.json["group_id"] == slip["id"]

    later = send(client, klass["l8"], POWER_SLIP)
    assert later["verdict"] == "incorrect" and later["score"] == 0.0
    (match,) = later["misconceptions"]
    assert match == {**{k: NAME[k] for k in ("slug", "title", "message", "equation")}, "parts": ["eigenvalues"],
                     "origin": "course"}
    assert later["parts"][0]["misconceptions"] == [NAME["slug"]]
    other_mistake = send(client, klass["l9"], NORMALISED)
    assert slugs(other_mistake) == []

    before = {who: client.get(f"/api/v1/submissions/{sent[who]['id']}", headers=klass["teacher"]).json
              for who in ("l3", "l6", "l7")}
    assert slugs(client.get(f"/api/v1/submissions/{sent['l1']['id']}", headers=klass["teacher"]).json) == []
    job = regrade_and_wait(client, EXERCISE.id, klass["teacher"], "?course_id=c1")
    assert (job["status"], job["changed"]) == ("done", 2)  # l1 and l2, checked one by one below
    for who in ("l1", "l2"):
        report = client.get(f"/api/v1/submissions/{sent[who]['id']}", headers=klass["teacher"]).json
        assert slugs(report) == [NAME["slug"]] and report["score"] == 0.0
    for who in ("l3", "l6", "l7"):  # the other group, the correct and the catalogued answers: untouched
        assert client.get(f"/api/v1/submissions/{sent[who]['id']}", headers=klass["teacher"]).json == before[who]
    again = regrade_and_wait(client, EXERCISE.id, klass["teacher"], "?course_id=c1")
    assert (again["status"], again["changed"]) == ("done", 0)  # a second regrade finds nothing more to change

    stats = client.get(f"/api/v1/exercises/{EXERCISE.id}/stats?course_id=c1", headers=klass["teacher"]).json
    ranked = {m["slug"]: m for m in stats["misconceptions"]}
    assert ranked[NAME["slug"]]["learners"] == 3 and ranked[NAME["slug"]]["origin"] == "course"
    assert ranked["eigen-sign-lost"]["origin"] == "catalog"
    groups = client.get(f"/api/v1/courses/c1/exercises/{EXERCISE.id}/groups", headers=klass["teacher"]).json
    assert [g["diagnosis"]["slug"] if g["diagnosis"] else None for g in groups["code_groups"]] == [None, NAME["slug"]]
    exported = client.get("/api/v1/courses/c1/diagnoses", headers=klass["teacher"]).json
    assert [(d["slug"], d["exercise_id"], d["group_id"]) for d in exported] == [(NAME["slug"], EXERCISE.id, slip["id"])]


def test_naming_is_for_the_course_instructor_with_a_slug_of_their_own(client, klass):
    first = send(client, klass["l1"], POWER_SLIP)
    base = f"/api/v1/courses/c1/exercises/{EXERCISE.id}/groups"
    (group,) = client.get(base, headers=klass["teacher"]).json["code_groups"]
    assert group["submissions"] == [first["id"]]
    url = f"{base}/{group['id']}/name"
    for headers, status in ((klass["other"], 403), (klass["l1"], 403)):
        response = client.post(url, json=NAME, headers=headers)
        assert response.status_code == status
        assert response.headers["Content-Type"] == "application/problem+json"
    assert client.get(base, headers=klass["other"]).status_code == 403
    catalog_slug = client.post(url, json={**NAME, "slug": "eigen-sign-lost"}, headers=klass["teacher"])
    assert catalog_slug.status_code == 422 and "catalog" in catalog_slug.json["detail"]
    assert client.post(f"{base}/c0000/name", json=NAME, headers=klass["teacher"]).status_code == 404
    assert client.post(url, json={**NAME, "extra": 1}, headers=klass["teacher"]).status_code == 422
    assert client.post(url, json=NAME, headers=klass["teacher"]).status_code == 201
    assert client.post(url, json={**NAME, "slug": "another-name"}, headers=klass["teacher"]).status_code == 422


def test_the_fingerprint_is_kept_only_for_wrong_code_and_holds_the_probe_outputs(client, klass, app):
    wrong, right = send(client, klass["l1"], POWER_SLIP), send(client, klass["l2"], SOLUTION)
    with app.app_context():
        db = storage.session(app)
        stored = db.get(Submission, wrong["id"]).fingerprint
        hidden = db.get(Submission, wrong["id"]).hidden_seeds
        assert db.get(Submission, right["id"]).fingerprint is None
    probes = fingerprint.probe_instances("test-secret", EXERCISE)
    assert len(stored["probes"]) == fingerprint.PROBES == len(probes)
    for probe, outputs in zip(probes, stored["probes"]):
        lam = np.linalg.eigvalsh(probe.params["M"]) ** (probe.params["k"] - 1)
        expected = lam[np.lexsort((-lam, -np.abs(lam)))]
        assert np.max(np.abs(np.asarray(outputs["eigenvalues"]) - expected) / np.abs(expected)) <= 1e-12
    # the probe instances are not the submission's hidden instances, and the report shows neither
    assert len(hidden) == 2 and not set(fingerprint.probe_seeds("test-secret", EXERCISE)) & set(hidden)
    assert all(i["kind"] in ("regular", "edge") for i in wrong["instances"])
    assert len([i for i in wrong["instances"] if i["kind"] == "regular"]) == len(hidden)


def test_fingerprints_agree_within_the_part_tolerance_and_not_beyond():
    probes = fingerprint.probe_instances("s", EXERCISE)
    entries = [_returned(p.answer["eigenvalues"] * 2) for p in probes]
    from grader.grading.results import Raised
    first = fingerprint.from_entries(EXERCISE, probes, entries)
    near = fingerprint.from_entries(EXERCISE, probes, [_returned(p.answer["eigenvalues"] * 2 * (1 + 1e-11)) for p in probes])
    far = fingerprint.from_entries(EXERCISE, probes, [_returned(p.answer["eigenvalues"] * 2 * (1 + 1e-7)) for p in probes])
    raised = fingerprint.from_entries(EXERCISE, probes, [Raised(error="ValueError", lines=(3,))] * len(probes))
    assert fingerprint.agree(EXERCISE, probes, first, near)  # 1e-11 relative: within rtol 1e-9
    assert not fingerprint.agree(EXERCISE, probes, first, far)  # 1e-7 relative: beyond it
    assert not fingerprint.agree(EXERCISE, probes, first, raised)
    assert raised["probes"][0] == {"eigenvalues": None}
    other_secret = fingerprint.probe_instances("another secret", EXERCISE)
    elsewhere = fingerprint.from_entries(EXERCISE, other_secret, entries)  # the same outputs, other probes
    assert not fingerprint.agree(EXERCISE, probes, first, elsewhere)


def _returned(array):
    from grader.grading.results import Returned
    return Returned(value={"eigenvalues": array.tolist()})


def test_numeric_answers_group_by_error_signature(client, klass, fetch_instance, submit):
    from tests.test_catalog import instance_seed
    exercise = CATALOG["linear-bptt"]
    assert client.post("/api/v1/courses/c1/assignments", json={"exercise_id": exercise.id},
                       headers=klass["teacher"]).status_code == 201
    for who, factor in (("l1", 3.0), ("l2", 3.0), ("l3", -1.0)):
        instance = fetch_instance(exercise.id, klass[who])
        answer = exercise.instance(instance_seed(instance)).answer
        response = submit(instance, {**answer, "dW_hh": factor * answer["dW_hh"]}, klass[who])
        assert response.json["verdict"] == "partially_correct", response.json
    groups = client.get(f"/api/v1/courses/c1/exercises/{exercise.id}/groups", headers=klass["teacher"]).json
    numeric = groups["numeric_groups"]
    assert [(g["size"], g["learners"]) for g in numeric] == [(2, ["l1", "l2"]), (1, ["l3"])]
    (signature,) = numeric[0]["signature"]
    assert signature["part"] == "dW_hh" and signature["relation"] and signature["factor"] == pytest.approx(3.0, rel=1e-2)
    assert groups["code_groups"] == []


def test_the_instructor_page_shows_the_groups_and_names_one(app, client, klass):
    send(client, klass["l1"], POWER_SLIP)
    send(client, klass["l2"], NORMALISED)
    send(client, klass["l3"], NORMALISED)
    app.config["WTF_CSRF_ENABLED"] = False  # the page's form, not its token, is under test
    assert client.post("/login", data={"api_key": klass["teacher"]["Authorization"].split()[1]}).status_code == 302
    page = client.get(f"/courses/c1/exercises/{EXERCISE.id}/groups")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert text.index("by 2 learners") < text.index("by 1 learner")  # largest first
    assert "l2, l3" in text and "lam ** k / k" in text and "Name this group" in text
    (group,) = [g for g in client.get(f"/api/v1/courses/c1/exercises/{EXERCISE.id}/groups",
                                      headers=klass["teacher"]).json["code_groups"] if g["learners"] == ["l1"]]
    named = client.post(f"/courses/c1/exercises/{EXERCISE.id}/groups/{group['id']}/name", data=NAME)
    assert named.status_code == 302
    assert "named <code>power-one-short</code>" in client.get(named.headers["Location"]).get_data(as_text=True)
    refused = client.post(f"/courses/c1/exercises/{EXERCISE.id}/groups/{group['id']}/name", data={**NAME, "slug": "Bad Slug"})
    assert refused.status_code == 422
    client.post("/logout")
    assert client.post("/login", data={"api_key": klass["l1"]["Authorization"].split()[1]}).status_code == 302
    assert client.get(f"/courses/c1/exercises/{EXERCISE.id}/groups").status_code == 403


def test_outside_a_course_no_probes_run_and_no_fingerprint_is_kept(app, client, alice, zygote):
    report = send(client, alice, POWER_SLIP)
    assert report["verdict"] == "incorrect" and report["course_id"] is None
    with app.app_context():
        assert storage.session(app).get(Submission, report["id"]).fingerprint is None


def test_a_queued_submission_gets_its_fingerprint_and_the_course_diagnosis(app, client, klass):
    """The worker's path (grader.tasks.grade_queued), called directly on a stored pending submission."""
    from grader import tasks
    from grader.storage.models import utcnow
    first = send(client, klass["l1"], POWER_SLIP)
    (group,) = client.get(f"/api/v1/courses/c1/exercises/{EXERCISE.id}/groups", headers=klass["teacher"]).json["code_groups"]
    assert client.post(f"/api/v1/courses/c1/exercises/{EXERCISE.id}/groups/{group['id']}/name", json=NAME,
                       headers=klass["teacher"]).status_code == 201
    with app.app_context():
        db = storage.session(app)
        stored = db.get(Submission, first["id"])
        db.add(Submission(id="queued0000000000000000000000000a", exercise_id=EXERCISE.id, exercise_version=EXERCISE.version,
                          kind="code", learner="l2", report={"verdict": "pending"}, verdict="pending", score=0.0,
                          max_score=1.0, created_at=utcnow(), course_id="c1", assignment_id=stored.assignment_id,
                          source=POWER_SLIP_LOOP))
        db.commit()
        assert tasks.grade_queued(app, "queued0000000000000000000000000a") == "incorrect"
        db.expire_all()
        row = db.get(Submission, "queued0000000000000000000000000a")
        assert row.fingerprint is not None and slugs(row.report) == [NAME["slug"]]
