"""Configuration precedence, the instance-folder secret, and the command-line tools."""
from grader import create_app


def test_defaults_then_environment_then_test_config(monkeypatch, tmp_path):
    monkeypatch.setenv("GRADER_INSTANCE_CACHE_SIZE", "7")
    monkeypatch.setenv("GRADER_TOKEN_MAX_AGE_S", "60")
    url = f"sqlite:///{tmp_path}/c.sqlite"
    app = create_app({"TOKEN_MAX_AGE_S": 5, "DATABASE_URL": url, "SECRET_KEY": "s"})
    assert app.config["INSTANCE_CACHE_SIZE"] == 7
    assert app.config["TOKEN_MAX_AGE_S"] == 5
    assert app.config["MAX_CONTENT_LENGTH"] == 1 << 20


def test_development_secret_is_created_once_in_the_instance_folder(tmp_path):
    config = {"DATABASE_URL": f"sqlite:///{tmp_path}/c.sqlite"}
    first = create_app(config)
    secret_file = first.instance_path + "/secret_key"
    second = create_app(config)
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"]
    assert len(first.config["SECRET_KEY"]) >= 32
    import os
    import stat
    assert stat.S_IMODE(os.stat(secret_file).st_mode) == 0o600


def test_create_key_prints_a_working_key_on_its_last_line(tmp_path):
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/k.sqlite", "SECRET_KEY": "s"})
    result = app.test_cli_runner().invoke(args=["create-key", "--role", "admin"])
    assert result.exit_code == 0, result.output
    key = result.output.strip().splitlines()[-1]
    response = app.test_client().post("/api/v1/keys", json={"role": "learner", "learner": "x"},
                                      headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 201


def test_create_key_refuses_a_learner_key_without_a_learner(tmp_path):
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/k.sqlite", "SECRET_KEY": "s"})
    result = app.test_cli_runner().invoke(args=["create-key", "--role", "learner"])
    assert result.exit_code != 0 and "needs the learner" in result.output


def test_init_db_reports_the_database(tmp_path):
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/i.sqlite", "SECRET_KEY": "s"})
    result = app.test_cli_runner().invoke(args=["init-db"])
    assert result.exit_code == 0 and "database ready" in result.output
