"""`pip install ./client` into a fresh venv, then client/examples/from_a_notebook.ipynb run end to
end by nbclient on a real IPython kernel against a live service; its outputs are checked."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.live import serve

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "client" / "examples" / "from_a_notebook.ipynb"


@pytest.fixture(scope="module")
def installed_client(tmp_path_factory):
    """A fresh venv with the client installed by its own pip from client/, offline: numpy and
    requests (and the build backend) come from this environment through a .pth file, --no-deps."""
    venv = tmp_path_factory.mktemp("learner") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
    python = venv / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                               check=True, capture_output=True, text=True).stdout.strip())
    (site / "outer_environment.pth").write_text("\n".join(p for p in sys.path if p.endswith("site-packages")) + "\n")
    source = venv.parent / "client"  # a copy: pip builds in the tree, and the repository stays clean
    shutil.copytree(ROOT / "client", source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    done = subprocess.run([str(python), "-m", "pip", "install", "--disable-pip-version-check", "--no-deps",
                           "--no-build-isolation", str(source)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return {"venv": venv, "site": site, "python": python}


def clean_env(site, **extra):
    """The environment of a learner's process: the installed client on the path, not the source tree."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BPTT_GRADER_", "PYTHONPATH"))}
    return {**env, "PYTHONPATH": str(site), "JUPYTER_PLATFORM_DIRS": "1", **extra}


def test_pip_install_gives_the_package_and_the_console_command(installed_client, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BPTT_GRADER_", "PYTHONPATH"))}
    where = subprocess.run([str(installed_client["python"]), "-c", "import bptt_grader; print(bptt_grader.__file__)"],
                           capture_output=True, text=True, env=env, cwd=tmp_path)
    assert where.returncode == 0 and where.stdout.startswith(str(installed_client["site"])), where.stderr
    usage = subprocess.run([str(installed_client["venv"] / "bin" / "bptt-grader"), "--help"], capture_output=True,
                           text=True, env=env, cwd=tmp_path)
    assert usage.returncode == 0 and "login" in usage.stdout and "submit" in usage.stdout


def outputs_of(notebook):
    """(text of all streams, the text/html of each display) of an executed notebook."""
    streams, html = [], []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if output["output_type"] == "stream":
                streams.append(output["text"])
            elif output["output_type"] in ("execute_result", "display_data") and "text/html" in output["data"]:
                html.append(output["data"]["text/html"])
            elif output["output_type"] == "error":
                pytest.fail("\n".join(output["traceback"]))
    return "".join(streams), html


def test_the_example_notebook_runs_end_to_end(installed_client, tmp_path, zygote, monkeypatch):
    nbformat = pytest.importorskip("nbformat", reason="nbformat is a test requirement (requirements-dev.txt)")
    nbclient = pytest.importorskip("nbclient", reason="nbclient is a test requirement (requirements-dev.txt)")
    pytest.importorskip("ipykernel", reason="ipykernel is a test requirement (requirements-dev.txt)")
    with serve(tmp_path, zygote) as service:
        for name, value in clean_env(installed_client["site"], BPTT_GRADER_URL=service["url"],
                                     BPTT_GRADER_KEY=service["key"],
                                     BPTT_GRADER_CONFIG=str(tmp_path / "no-login.json")).items():
            monkeypatch.setenv(name, value)
        notebook = nbformat.read(NOTEBOOK, as_version=4)
        nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3",
                                resources={"metadata": {"path": str(tmp_path)}}).execute()
    text, html = outputs_of(notebook)
    assert "Computing with numpy" in text or "Computing with PyTorch" in text
    assert "float64: correct []" in text
    assert "float32: correct ['float32-precision']" in text
    assert "code: correct" in text
    float64_html, float32_html, code_html = html
    assert "<table" in float64_html and "float32-precision" not in float64_html
    for needle in ("<table", "float32-precision", "float64 throughout (conventions)", "torch.float64"):
        assert needle in float32_html, needle
    assert "<svg" not in float32_html  # tanh-rnn-bptt's parts have no time axis: no per-step data to plot
    assert "Hidden instances" in code_html and "correct" in code_html
