"""The OpenAPI document says what the service does: schemathesis generates requests for every
operation from /api/v1/openapi.json and runs every check on each response (no 5xx, documented
status codes, content types, headers and response schemas, invalid data refused, valid data
accepted). Bounded: FUZZ_EXAMPLES examples per operation (default 15); run longer with e.g.
`FUZZ_EXAMPLES=500 python -m pytest tests/test_fuzz.py`."""
import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import positive_data_acceptance

from grader import auth, create_app, storage

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "15"))
KEYS = {}
# Bodies whose validity depends on more than their schema: a submission's instance token must carry
# the service's signature and its callback URL must resolve to a public address; a learner key needs
# the learner it stands for. Schema-valid bodies are rightly refused there (422), so the check that
# every schema-valid request is accepted is off for these operations only; every other check runs.
# Likewise a listing's `cursor` is an opaque value the service gave out in a `next` link: any other
# string is rightly a 422.
SEMANTIC_BODIES = {"POST /api/v1/submissions", "POST /api/v1/keys", "GET /api/v1/submissions"}


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory, zygote):
    folder = tmp_path_factory.mktemp("fuzz")
    app = create_app({"TESTING": True, "SECRET_KEY": "fuzz", "DATABASE_URL": f"sqlite:///{folder}/fuzz.sqlite",
                      "SANDBOX_SOCKET": zygote["socket"], "RATE_LIMITS": {}, "WTF_CSRF_ENABLED": False})
    storage.upgrade(app)
    with app.app_context():
        KEYS["admin"] = auth.create_key(storage.session(app), role="admin").key
    # NUL is refused everywhere by design (400, tested in test_data.py): not generated here
    config = schemathesis.Config.from_dict({"generation": {"allow-x00": False}})
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, config=config)


def test_every_operation_keeps_its_documented_contract(api_schema):
    """Each operation fuzzed in turn (schemathesis' own pytest plugin does not load under pytest 9);
    every failure is collected and reported with the operation it came from."""
    failures = []
    for result in api_schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def exercise(case):
            excluded = [positive_data_acceptance] if operation.label in SEMANTIC_BODIES else []
            case.call_and_validate(headers={"Authorization": f"Bearer {KEYS['admin']}"}, excluded_checks=excluded)
        try:
            exercise()
        except (Exception, BaseExceptionGroup) as failure:  # schemathesis' failure group, kept with its operation
            failures.append(f"{operation.label}: {failure}")
    assert not failures, "\n\n".join(failures)
