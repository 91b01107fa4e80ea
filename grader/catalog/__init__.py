"""The exercise catalog: loaded and validated once at start-up, kept on the app."""
from __future__ import annotations

from pathlib import Path

from grader.catalog.exercise import Exercise, Instance, MisconceptionInfo, Part  # noqa: F401
from grader.catalog.loader import CatalogError, load_catalog  # noqa: F401
from grader.catalog import selftest  # noqa: F401

EXTENSION = "grader.catalog"


def init_app(app) -> None:
    """Load the folders named by EXERCISE_DIRS; a broken exercise stops start-up."""
    folders = [Path(p) for p in app.config["EXERCISE_DIRS"]]
    app.extensions[EXTENSION] = load_catalog(folders, Path(app.config["MISCONCEPTION_SLUGS"]),
                                             cache_size=app.config["INSTANCE_CACHE_SIZE"])


def get_catalog(app) -> dict[str, Exercise]:
    return app.extensions[EXTENSION]
