"""A broken exercise folder stops start-up with a message naming the folder and the fault."""
import json
import shutil
from pathlib import Path

import pytest

from grader import create_app
from grader.catalog import CatalogError, load_catalog
from grader.config import DefaultConfig

SOURCE = Path(DefaultConfig.EXERCISE_DIRS[0]) / "linear-bptt"
SLUGS = Path(DefaultConfig.MISCONCEPTION_SLUGS)


@pytest.fixture
def folder(tmp_path):
    target = tmp_path / "exercises" / "linear-bptt"
    shutil.copytree(SOURCE, target)
    return target


def edit_info(folder, **changes):
    info = json.loads((folder / "info.json").read_text())
    info.update(changes)
    (folder / "info.json").write_text(json.dumps(info))


def test_a_copy_of_a_good_folder_loads(folder):
    assert list(load_catalog([folder.parent], SLUGS)) == ["linear-bptt"]


@pytest.mark.parametrize("break_it, needle", [
    (lambda f: (f / "statement.md").unlink(), "statement.md"),
    (lambda f: edit_info(f, surprise=1), "surprise"),
    (lambda f: edit_info(f, id="other"), "must equal the folder name"),
    (lambda f: edit_info(f, misconceptions=[]), "exercise.py defines variants"),
    (lambda f: edit_info(f, misconceptions=[{"slug": "made-up", "message": "m", "equation": "e"}]),
     "unknown misconception slug"),
    (lambda f: (f / "exercise.py").write_text("def generate(rng):\n    return {}\n"), "defines no solve"),
    (lambda f: (f / "exercise.py").write_text("def broken(:\n"), "invalid syntax"),
], ids=["missing-file", "unknown-key", "id-mismatch", "slug-mismatch", "unknown-slug", "no-solve", "syntax"])
def test_broken_folders_are_refused_by_name(folder, break_it, needle):
    break_it(folder)
    with pytest.raises(CatalogError, match="linear-bptt") as caught:
        load_catalog([folder.parent], SLUGS)
    assert needle in str(caught.value)


def test_a_broken_exercise_stops_the_app_factory(folder, tmp_path):
    edit_info(folder, parts=[])
    with pytest.raises(CatalogError):
        create_app({"EXERCISE_DIRS": [str(folder.parent)], "SECRET_KEY": "s",
                    "DATABASE_URL": f"sqlite:///{tmp_path}/x.sqlite"})


def test_check_exercises_passes_a_good_folder_and_fails_a_weak_one(folder, tmp_path):
    app = create_app({"SECRET_KEY": "s", "DATABASE_URL": f"sqlite:///{tmp_path}/x.sqlite",
                      "EXERCISE_DIRS": [str(folder.parent)]})
    runner = app.test_cli_runner()
    good = runner.invoke(args=["check-exercises", str(folder), "--seeds", "2"])
    assert good.exit_code == 0 and "linear-bptt: ok" in good.output
    # a starter that returns the reference must be caught
    (folder / "starter.py").write_text(
        "from grader.reference.linear import linear_bptt\n")
    edit_info(folder, entry_point="linear_bptt")
    weak = runner.invoke(args=["check-exercises", str(folder), "--seeds", "2"])
    assert weak.exit_code != 0 and "starter" in weak.output
