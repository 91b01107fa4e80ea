"""Load exercise folders, validate them once, and fail start-up loudly when one is broken."""
from __future__ import annotations

import importlib.util
import json
import logging
from pathlib import Path

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from grader.catalog.exercise import Exercise, MisconceptionInfo, slug_of
from grader.grading.precision import FLOAT32_EQUATION, FLOAT32_MESSAGE, FLOAT32_SLUG

logger = logging.getLogger(__name__)

SLUG = validate.Regexp(r"^[a-z0-9]+(-[a-z0-9]+)*$")
FORMS_FILE = "misconception-forms.json"


class CatalogError(RuntimeError):
    """An exercise folder is missing a file, has an invalid info.json or a broken module."""


class OptionSchema(Schema):
    id = fields.String(required=True, validate=SLUG)
    text = fields.String(required=True)
    correct = fields.Boolean(required=True)
    why = fields.String(required=True, metadata={"description": "shown when the option is picked wrongly"})


class PartSchema(Schema):
    name = fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z_][A-Za-z0-9_]*$"))
    shape = fields.String(required=True)
    weight = fields.Float(required=True, validate=validate.Range(min=0, min_inclusive=False))
    rtol = fields.Float(required=True, validate=validate.Range(min=1e-15, max=1.0),
                        metadata={"description": "relative tolerance; 1 for samples parts (units of the test)"})
    description = fields.String(required=True)
    time_axis = fields.Integer(load_default=None, allow_none=True)
    time_origin = fields.String(load_default=None, allow_none=True)
    kind = fields.String(load_default="array", validate=validate.OneOf(["array", "integer", "label", "choices", "samples"]))
    metric = fields.String(load_default="frobenius", validate=validate.OneOf(["frobenius", "elementwise"]))
    labels = fields.List(fields.String(), load_default=list)
    options = fields.List(fields.Nested(OptionSchema), load_default=list)
    plot = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(["values-log"]))
    # at most 1e-4: ten times below the 1e-3 by which every catalogued mistake differs
    float32_rtol = fields.Float(load_default=1e-5, validate=validate.Range(min=1e-8, max=1e-4), metadata={
        "description": "a float32-valued answer this close is right to float32 precision"})

    @post_load
    def tuples(self, data, **kwargs):
        return {**data, "labels": tuple(data["labels"]), "options": tuple(data["options"])}


class MisconceptionRefSchema(Schema):
    slug = fields.String(required=True, validate=SLUG)
    message = fields.String(required=True)
    equation = fields.String(required=True)
    accepted = fields.Boolean(load_default=False)
    forms = fields.List(fields.String(validate=SLUG), load_default=list,
                        metadata={"description": "forms of the mistake this exercise names beyond the catalog's"})
    forms_exempt = fields.Dict(keys=fields.String(validate=SLUG), values=fields.String(), load_default=dict,
                               metadata={"description": "catalog forms that cannot occur here, with the reason"})


class InfoSchema(Schema):
    """info.json of an exercise folder; unknown keys are an error."""

    id = fields.String(required=True, validate=SLUG)
    version = fields.Integer(required=True, validate=validate.Range(min=1))
    title = fields.String(required=True)
    section = fields.String(required=True)
    equations = fields.List(fields.String(), required=True)
    kinds = fields.List(fields.String(validate=validate.OneOf(["numeric", "code"])), required=True,
                        validate=validate.Length(min=1))
    convention = fields.String(required=True, validate=validate.OneOf(["book", "code", "none"]))
    entry_point = fields.String(required=True)
    parts = fields.List(fields.Nested(PartSchema), required=True, validate=validate.Length(min=1))
    misconceptions = fields.List(fields.Nested(MisconceptionRefSchema), required=True)
    hints = fields.List(fields.String(), required=True, validate=validate.Length(min=1))
    references = fields.List(fields.String(), load_default=list)
    autograd = fields.String(load_default="refused", validate=validate.OneOf(["refused", "allowed"]), metadata={
        "description": "refused: the exercise asks for a derivation, torch's autograd fails the job as invalid; "
                       "allowed: the exercise is about autograd's semantics (detach, clipping)"})
    float32_credit = fields.Boolean(load_default=True, metadata={
        "description": "credit parts right to float32 precision (named float32-precision either way)"})

    @validates_schema
    def weights_sum_to_one(self, data, **kwargs):
        total = sum(p["weight"] for p in data["parts"])
        if abs(total - 1.0) > 1e-9:
            raise ValidationError(f"part weights sum to {total}, not 1", "parts")


def load_slug_titles(path: Path) -> dict[str, str]:
    """The stable misconception slugs and their titles (exercises/misconceptions.json)."""
    return json.loads(path.read_text())


def load_forms(slug_file: Path) -> dict[str, dict[str, str]]:
    """The forms EXERCISES.md lists for a slug (misconception-forms.json beside the slug file)."""
    path = slug_file.parent / FORMS_FILE
    return json.loads(path.read_text()) if path.is_file() else {}


def load_exercise(folder: Path, titles: dict[str, str], cache_size: int = 1024,
                  forms: dict[str, dict[str, str]] | None = None) -> Exercise:
    """Load one exercise folder; raise CatalogError naming the folder and what is wrong."""
    try:
        info = InfoSchema().load(json.loads((folder / "info.json").read_text()))
        statement = (folder / "statement.md").read_text()
        starter = (folder / "starter.py").read_text()
        module = _import(folder / "exercise.py", info["id"])
    except (OSError, ValueError, ValidationError, ImportError, SyntaxError) as exc:
        raise CatalogError(f"exercise folder {folder}: {exc}") from exc
    if info["id"] != folder.name:
        raise CatalogError(f"exercise folder {folder}: id {info['id']!r} must equal the folder name")
    for attr in ("generate", "solve", "VARIANTS", "gradient_checks"):
        if not hasattr(module, attr):
            raise CatalogError(f"exercise folder {folder}: exercise.py defines no {attr}")
    misconceptions = tuple(_misconception(m, titles, folder, forms or {}) for m in info["misconceptions"])
    exercise = Exercise(info, module, statement, starter, misconceptions, _fallbacks(titles), cache_size)
    if "code" in info["kinds"]:
        if not (folder / "solution.py").is_file():
            raise CatalogError(f"exercise folder {folder}: a code exercise needs solution.py (its self-test)")
        exercise.solution = (folder / "solution.py").read_text()
        twin = folder / "solution_torch.py"  # the PyTorch twin, with the same MISTAKE switch
        exercise.torch_solution = twin.read_text() if twin.is_file() else None
    torch_starter = folder / "starter_torch.py"
    exercise.starters = {"numpy": starter, **({"torch": torch_starter.read_text()} if torch_starter.is_file() else {})}
    _check_consistency(exercise, module, folder)
    return exercise


def load_catalog(folders: list[Path], slug_file: Path, cache_size: int = 1024) -> dict[str, Exercise]:
    """Every exercise found in the configured folders, keyed by id, checked on a first instance."""
    titles, forms = load_slug_titles(slug_file), load_forms(slug_file)
    catalog: dict[str, Exercise] = {}
    for root in folders:
        for folder in sorted(p for p in Path(root).iterdir() if (p / "info.json").is_file()):
            exercise = load_exercise(folder, titles, cache_size, forms)
            if exercise.id in catalog:
                raise CatalogError(f"exercise id {exercise.id!r} appears twice ({folder})")
            catalog[exercise.id] = exercise
    logger.info("catalog loaded: %s", ", ".join(catalog))
    return catalog


def _import(path: Path, exercise_id: str):
    name = "bptt_exercises." + exercise_id.replace("-", "_")
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _misconception(ref: dict, titles: dict[str, str], folder: Path,
                   forms: dict[str, dict[str, str]]) -> MisconceptionInfo:
    if ref["slug"] not in titles:
        raise CatalogError(f"exercise folder {folder}: unknown misconception slug {ref['slug']!r}; "
                           "add it to exercises/misconceptions.json first")
    catalog_forms = tuple(forms.get(ref["slug"], {}))
    unknown = set(ref["forms_exempt"]) - set(catalog_forms)
    if unknown:
        raise CatalogError(f"exercise folder {folder}: {ref['slug']} exempts forms {sorted(unknown)} that "
                           f"{FORMS_FILE} does not list")
    return MisconceptionInfo(slug=ref["slug"], title=titles[ref["slug"]], message=ref["message"],
                             equation=ref["equation"], accepted=ref["accepted"],
                             forms=tuple(dict.fromkeys(catalog_forms + tuple(ref["forms"]))),
                             forms_exempt=tuple(sorted(ref["forms_exempt"].items())))


def _fallbacks(titles: dict[str, str]) -> dict[str, MisconceptionInfo]:
    """Generic diagnoses any exercise may report even when it lists no variant for them."""
    return {"transposed-convention": MisconceptionInfo(
        slug="transposed-convention", title=titles["transposed-convention"], equation="(9.7.9) / (8.7.9)",
        message="Your matrix is the transpose of the reference: the other convention. Check the "
                "convention this exercise states: a gradient has the shape of what it differentiates."),
            FLOAT32_SLUG: MisconceptionInfo(slug=FLOAT32_SLUG, title=titles[FLOAT32_SLUG], equation=FLOAT32_EQUATION,
                                            message=FLOAT32_MESSAGE)}


def _check_consistency(exercise: Exercise, module, folder: Path) -> None:
    """The module's variants match info.json's slugs, and a first instance has the declared parts."""
    declared, defined = set(exercise.misconceptions), {slug_of(key) for key in module.VARIANTS}
    if declared != defined:
        raise CatalogError(f"exercise folder {folder}: info.json lists {sorted(declared)} but "
                           f"exercise.py defines variants {sorted(defined)}")
    try:
        instance = exercise.instance(0)
    except Exception as exc:  # a broken generator must stop start-up with its own message
        raise CatalogError(f"exercise folder {folder}: generating seed 0 failed: {exc!r}") from exc
    names = [p.name for p in exercise.parts]
    for part in exercise.parts:
        if part.time_origin and part.time_origin not in instance.params:
            raise CatalogError(f"exercise folder {folder}: part {part.name} counts time from "
                               f"{part.time_origin!r}, which is not a parameter")
    if list(instance.answer) != names:
        raise CatalogError(f"exercise folder {folder}: solve() returns {list(instance.answer)}, "
                           f"info.json declares {names}")
