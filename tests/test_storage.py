"""Storage on SQLite and PostgreSQL: migrations, durable submissions, reading them back."""
import numpy as np
import pytest
from sqlalchemy import inspect

from grader import auth, create_app, storage

def test_migrations_create_the_schema_and_upgrade_is_idempotent(backend_app):
    storage.upgrade(backend_app)
    storage.upgrade(backend_app)
    tables = set(inspect(storage.engine_of(backend_app)).get_table_names())
    assert {"api_keys", "submissions", "alembic_version"} <= tables


def test_submission_round_trip(backend_app):
    from grader.reference.tanh_rnn import tanh_bptt

    storage.upgrade(backend_app)
    with backend_app.app_context():
        key = auth.create_key(storage.session(backend_app), role="learner", learner="erin").key
    client = backend_app.test_client()
    headers = {"Authorization": f"Bearer {key}"}
    instance = client.post("/api/v1/exercises/tanh-rnn-bptt/instances", json={}, headers=headers).json["instance"]
    p = {k: np.asarray(v) for k, v in instance["params"].items()}
    grads = tanh_bptt(**p)
    answer = {k: grads[k].tolist() for k in instance["answer_fields"]}
    body = {"exercise_id": "tanh-rnn-bptt", "kind": "numeric", "instance_token": instance["token"], "answer": answer}
    posted = client.post("/api/v1/submissions", json=body, headers=headers)
    assert posted.status_code == 201 and posted.json["verdict"] == "correct"
    assert posted.json["seed"] >= 2 ** 40  # 62-bit seeds fit BigInteger on every backend
    assert client.get(posted.headers["Location"], headers=headers).json == posted.json
    assert client.get("/api/v1/health").json["checks"]["storage"]["backend"] == backend_app.extensions[
        "grader.storage"].kw["bind"].dialect.name


def _where(index: dict) -> str | None:
    """A reflected index's WHERE clause, spelled alike on both backends (PostgreSQL adds casts and parentheses)."""
    options = index.get("dialect_options", {})
    clause = options.get("sqlite_where", options.get("postgresql_where"))
    if clause is None:
        return None
    text = str(clause).replace("::text", "").replace("(", "").replace(")", "")
    return " ".join(text.split()).lower()


def test_the_migrations_build_exactly_the_indexes_the_models_declare(backend_app):
    """Every index a migration creates is one the models declare (and only those), with the same
    columns, uniqueness and WHERE clause: what the code expects to read from is what is written."""
    from grader.storage.models import Base

    storage.upgrade(backend_app)
    inspector = inspect(storage.engine_of(backend_app))
    assert set(inspector.get_table_names()) - {"alembic_version"} == set(Base.metadata.tables)
    for table in Base.metadata.sorted_tables:
        built = {ix["name"]: (ix["column_names"], bool(ix["unique"]), _where(ix))
                 for ix in inspector.get_indexes(table.name) if not ix.get("duplicates_constraint")}
        declared = {}
        for ix in table.indexes:
            where = ix.dialect_options["sqlite"]["where"]
            declared[ix.name] = ([c.name for c in ix.columns], bool(ix.unique),
                                 None if where is None else " ".join(str(where).split()).lower())
        assert built == declared, table.name


def test_the_index_migration_goes_down_and_up(backend_app):
    """0016 on both backends: down to 0015 the indexes it dropped are back (full, not partial), and
    up again the schema is the models' once more."""
    from alembic import command
    from alembic.config import Config

    storage.upgrade(backend_app)
    engine = storage.engine_of(backend_app)
    config = Config()
    config.set_main_option("script_location", str(storage.MIGRATIONS))

    def indexes(table):
        return {ix["name"]: (tuple(ix["column_names"]), _where(ix)) for ix in inspect(engine).get_indexes(table)}

    at_head = indexes("submissions")
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0015")
    down = indexes("submissions")
    assert down["ix_submissions_learner_exercise"] == (("learner", "exercise_id"), None)
    assert down["ix_submissions_course_assignment"] == (("course_id", "assignment_id"), None)
    assert down["ix_submissions_verdict"] == (("verdict",), None) and "ix_submissions_pending" not in down
    assert down["ix_submissions_course_created"] == (("course_id", "created_at", "id"), None)
    assert "ix_enrollments_course_learner" in indexes("enrollments")
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    assert indexes("submissions") == at_head
    assert at_head["ix_submissions_course_created"][1] == "course_id is not null"
