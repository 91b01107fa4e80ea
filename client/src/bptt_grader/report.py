"""A grade report: the service's JSON, read as text in a terminal and as HTML in Jupyter."""
from __future__ import annotations

from collections.abc import Mapping
from html import escape

from bptt_grader.plot import step_plot

BADGE = {"correct": "#15803d", "partially_correct": "#b45309", "incorrect": "#b91c1c", "invalid": "#6b7280",
         "error": "#6b7280", "timeout": "#6b7280", "pending": "#1f5fbf"}


class Report(Mapping):
    """The stored report (a read-only mapping of its JSON) with attribute access for the usual fields.

    steps: part -> [[time step, relative error], ...] when the service has per-step data.
    replayed: True when the service answered a retried request with the first report.
    """

    def __init__(self, data: dict, steps: dict | None = None, replayed: bool = False):
        self.data, self.steps, self.replayed = data, steps or {}, replayed

    def __getitem__(self, key):
        return self.data[key]

    def __iter__(self):
        return iter(self.data)

    def __len__(self):
        return len(self.data)

    def __getattr__(self, name):
        if name in ("data", "steps", "replayed"):
            raise AttributeError(name)
        try:
            return self.data[name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def correct(self) -> bool:
        return self.data.get("verdict") == "correct"

    @property
    def slugs(self) -> list[str]:
        return [m["slug"] for m in self.data.get("misconceptions", [])]

    def __repr__(self):
        return f"<Report {self.data.get('id', '?')} {self.data.get('verdict')} {self._score()}>"

    def _score(self) -> str:
        return f"{self.data.get('score', 0):.2f} / {self.data.get('max_score', 0):.2f}"

    def __str__(self):
        d = self.data
        lines = [f"{d.get('exercise_id', '')} - {d.get('verdict', '').replace('_', ' ')} - {self._score()}",
                 d.get("message", "")]
        parts = d.get("parts", [])
        if parts:
            width = max(len(p["name"]) for p in parts) + 2
            lines.append("")
            lines.append(f"  {'part'.ljust(width)}{'verdict'.ljust(19)}{'score'.ljust(13)}{'rel. error'.ljust(12)}mistake")
            for p in parts:
                lines.append(f"  {p['name'].ljust(width)}{p['verdict'].ljust(19)}"
                             f"{(format(p['score'], '.2f') + '/' + format(p['max_score'], '.2f')).ljust(13)}"
                             f"{_error(p).ljust(12)}{', '.join(p.get('misconceptions', []))}")
            lines += [f"    {p['name']}: {p['message']}" for p in parts if p.get("message")]
        for m in d.get("misconceptions", []):
            lines += ["", f"{m['slug']}: {m['title']} [{m['equation']}] (parts: {', '.join(m['parts'])})",
                      f"  {m['message']}"]
        if d.get("hints"):
            lines += ["", "Hints:"] + [f"  - {h}" for h in d["hints"]]
        for i in d.get("instances", []) or []:
            lines.append(f"  hidden instance {i['index']} ({i['kind']}, {_sizes(i)}): {i['verdict']}")
        if self.steps:
            lines.append("")
            lines += [f"  {name}: relative error per step " + ", ".join(f"t={t:g}: {e:.1e}" for t, e in points)
                      for name, points in self.steps.items()]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        d = self.data
        verdict = d.get("verdict", "")
        out = [f'<div class="bptt-report" style="font-family:sans-serif;max-width:60em">',
               f'<p><b>{escape(d.get("exercise_id", ""))}</b> '
               f'<span style="background:{BADGE.get(verdict, "#6b7280")};color:white;padding:1px 8px;border-radius:8px">'
               f'{escape(verdict.replace("_", " "))}</span> score <b>{self._score()}</b></p>',
               f'<p>{escape(d.get("message", ""))}</p>']
        if d.get("parts"):
            out.append('<table><thead><tr><th>part</th><th>verdict</th><th>score</th><th>relative error</th>'
                       '<th>where</th><th>mistake</th><th>message</th></tr></thead><tbody>')
            for p in d["parts"]:
                out.append(f'<tr><td><code>{escape(p["name"])}</code></td><td>{escape(p["verdict"])}</td>'
                           f'<td>{p["score"]:.2f} / {p["max_score"]:.2f}</td><td>{_error(p)}</td>'
                           f'<td>{escape(_where(p))}</td><td>{escape(", ".join(p.get("misconceptions", [])))}</td>'
                           f'<td>{escape(p.get("message", ""))}</td></tr>')
            out.append("</tbody></table>")
        for m in d.get("misconceptions", []):
            out.append(f'<div class="misconception" style="border-left:4px solid #b45309;padding-left:8px;margin:8px 0">'
                       f'<b>{escape(m["title"])}</b> <code>{escape(m["slug"])}</code> '
                       f'<span class="equation">{escape(m["equation"])}</span>'
                       f'<br>{escape(m["message"])}<br><small>parts: {escape(", ".join(m["parts"]))}</small></div>')
        if d.get("hints"):
            out.append("<p>Hints:</p><ul>" + "".join(f"<li>{escape(h)}</li>" for h in d["hints"]) + "</ul>")
        if d.get("instances"):
            out.append("<p>Hidden instances:</p><ul>" + "".join(
                f'<li>{i["index"]} ({escape(i["kind"])}, {escape(_sizes(i))}): {escape(i["verdict"])}</li>'
                for i in d["instances"]) + "</ul>")
        if self.steps:
            out.append(step_plot(self.steps))
        out.append("</div>")
        return "".join(out)


def _error(part) -> str:
    error = part.get("relative_error")
    return "" if error is None else f"{error:.1e}"


def _where(part) -> str:
    location = part.get("location") or {}
    if not location.get("index"):
        return ""
    step = location.get("time_step")
    return f"index {location['index']}" + (f", t = {step}" if step else "")


def _sizes(instance) -> str:
    return ", ".join(f"{k} {tuple(v)}" for k, v in (instance.get("sizes") or {}).items())
