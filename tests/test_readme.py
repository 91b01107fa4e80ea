"""The README's walk-throughs run as written: their shell blocks are extracted from README.md and
run in order against a live service (gunicorn and the sandbox zygote, as `make run` starts them),
so the README cannot drift from what the service does."""
import json
import os
from datetime import datetime, timezone
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import free_port_number, wait_until_serving

ROOT = Path(__file__).resolve().parent.parent
SECTIONS = ("## Walk-through with curl", "## Code submissions", "## Running a course (instructor workflow)")


def readme_blocks(section: str) -> list[str]:
    """The ```sh blocks of one README section, in order."""
    text = (ROOT / "README.md").read_text()
    start = text.index(section + "\n")
    end = text.find("\n## ", start + len(section))
    return re.findall(r"```sh\n(.*?)```", text[start:end if end != -1 else None], re.S)


@pytest.fixture
def workdir(tmp_path):
    """A folder that looks like a checkout (the commands call .venv/bin/flask --app wsgi), with its
    own instance folder, so the walk-through writes nothing into the repository."""
    for name in ("grader", "exercises", "wsgi.py", ".venv"):
        target = ROOT / name if name != ".venv" else Path(sys.prefix)
        (tmp_path / name).symlink_to(target)
    homework = tmp_path / "homework"
    homework.mkdir()
    (homework / "s1001.py").write_text((ROOT / "exercises/tanh-rnn-bptt/solution.py").read_text())
    (homework / "s1002.ipynb").write_text("{not a notebook")
    return tmp_path


def test_the_readme_walk_throughs_run_as_written(workdir, zygote):
    port = free_port_number()
    env = {**os.environ, "GRADER_DATABASE_URL": f"sqlite:///{workdir}/readme.sqlite", "GRADER_SECRET_KEY": "readme",
           "GRADER_BIND": f"127.0.0.1:{port}", "WEB_WORKERS": "2", "GRADER_SANDBOX_SOCKET": zygote["socket"],
           "GRADER_LOG_LEVEL": "WARNING"}
    subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "init-db"], cwd=workdir, env=env, check=True,
                   capture_output=True)
    log = open(workdir / "server.log", "w")
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"),
                               "--access-logfile", "/dev/null", "wsgi:app"], cwd=workdir, env=env,
                              start_new_session=True, stdout=subprocess.DEVNULL, stderr=log)
    try:
        wait_until_serving(port)
        script = "set -eu\n" + "\n".join(block for section in SECTIONS for block in readme_blocks(section))
        script = script.replace("localhost:8000", f"127.0.0.1:{port}")
        run = subprocess.run(["bash", "-c", script], cwd=workdir, env=env, capture_output=True, text=True,
                             timeout=600)
    finally:
        os.killpg(server.pid, signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=30)
        log.close()
    assert run.returncode == 0, run.stderr[-3000:]
    (workdir / "walk-through.out").write_text(run.stdout)
    out = run.stdout
    # the walk-through: a learner key, the catalog, an instance, the right and the mispaired answer
    assert '"verdict":"correct"' in out.replace(" ", "") and "closed-form-mispaired" in out
    assert "There is no submission" not in out  # the stored report is read at its Location
    assert json.loads((workdir / "instance.json").read_text())["instance"]["exercise_id"] == "hidden-state-gradient"
    # the course: keys as CSV, an assignment with an offset deadline, a code submission, the gradebook
    assert (workdir / "keys.csv").read_text().startswith("learner,key")
    due = re.search(r'"due_at": ?"([^"]+)"', out).group(1)
    assert datetime.fromisoformat(due) == datetime(2030, 12, 16, 4, 59, tzinfo=timezone.utc)
    assert '"course_id": "rnn-2026"' in out and '"assignment_id": 1' in out  # the starter, in the course
    assert "learner,assignment_id,exercise_id" in out
    assert "graded 1 of 2 files" in out
