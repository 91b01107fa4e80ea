"""bptt-grader: login, exercises, instance, submit FILE, history, report ID, from a terminal.

Exit status: 0 when the request succeeded (and, for submit, the answer is correct), 1 when a
submission was graded but not correct, 2 when the service refused the request or was unreachable.
"""
from __future__ import annotations

import argparse
import getpass
import json
import sys
from pathlib import Path

from bptt_grader import credentials
from bptt_grader.errors import GraderError
from bptt_grader.grader import Grader, Instance


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    try:
        return args.run(args)
    except GraderError as exc:
        print(f"error: {exc.title}: {exc.detail}" if exc.detail else f"error: {exc.title}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bptt-grader", description="Client of the BPTT Grader.")
    parser.add_argument("--url", help="the service (default: BPTT_GRADER_URL, the login file, or localhost:8000)")
    parser.add_argument("--key", help="an API key (default: BPTT_GRADER_KEY, or the login file)")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")
    login = commands.add_parser("login", help="check a key and save it with the URL for later sessions")
    login.set_defaults(run=_login)
    commands.add_parser("exercises", help="list the exercises").set_defaults(run=_exercises)
    instance = commands.add_parser("instance", help="fetch your instance as JSON")
    instance.add_argument("exercise_id")
    instance.add_argument("--attempt", type=int, default=1)
    instance.add_argument("-o", "--output", type=Path, help="write it here (default: stdout)")
    instance.set_defaults(run=_instance)
    submit = commands.add_parser("submit", help="submit code (.py, .ipynb) or a numeric answer (.json)")
    submit.add_argument("file", type=Path)
    submit.add_argument("--exercise", help="the exercise id (code files; numeric answers carry it)")
    submit.add_argument("--instance", type=Path, help="the instance JSON, for an answer file of fields only")
    submit.add_argument("--wait", type=float, default=30.0, help="seconds to wait for queued code")
    submit.set_defaults(run=_submit)
    history = commands.add_parser("history", help="your submissions, newest first")
    history.add_argument("--exercise")
    history.add_argument("--limit", type=int, default=20)
    history.set_defaults(run=_history)
    report = commands.add_parser("report", help="one stored report")
    report.add_argument("submission_id")
    report.set_defaults(run=_report)
    return parser


def _login(args) -> int:
    key = args.key or getpass.getpass("API key: ")
    grader = Grader(args.url, key, retries=1)
    grader.history(limit=1)  # a wrong key is refused here, before it is saved
    path = credentials.save(grader.url, key)
    print(f"Key checked and saved for {grader.url} in {path}.")
    return 0


def _exercises(args) -> int:
    for e in Grader(args.url, args.key).exercises():
        print(f"{e['id']:<28} {'/'.join(e['kinds']):<13} {e['title']}")
    return 0


def _instance(args) -> int:
    instance = Grader(args.url, args.key).instance(args.exercise_id, args.attempt)
    text = json.dumps({"instance": instance.raw})
    if args.output:
        args.output.write_text(text)
        shapes = ", ".join(f"{name} {tuple(shape)}" for name, shape in instance.shapes.items())
        print(f"Wrote {args.output}; answer fields: {shapes}.")
    else:
        print(text)
    return 0


def _submit(args) -> int:
    grader = Grader(args.url, args.key)
    if args.file.suffix in (".py", ".ipynb"):
        if not args.exercise:
            print("error: name the exercise of a code file with --exercise", file=sys.stderr)
            return 2
        report = grader.submit_code(args.file, args.exercise, wait=args.wait)
    else:
        document = json.loads(args.file.read_text())
        if "instance_token" in document:  # a whole submission body, as in the README's walk-through
            raw = {"exercise_id": document["exercise_id"], "token": document["instance_token"]}
            answer = document["answer"]
        elif args.instance:
            raw, answer = json.loads(args.instance.read_text())["instance"], document
        else:
            print("error: an answer of fields only needs --instance instance.json", file=sys.stderr)
            return 2
        instance = Instance(exercise_id=raw["exercise_id"], token=raw["token"], params={}, fields={})
        report = grader.submit(instance, answer)
    print(report)
    print(f"\nStored as {report['id']}.")
    return 0 if report.correct else 1


def _history(args) -> int:
    for r in Grader(args.url, args.key).history(args.exercise, args.limit):
        print(f"{r['created_at'][:19]}  {r['id']}  {r['exercise_id']:<28} {r['kind']:<8} "
              f"{r['verdict']:<18} {r['score']:.2f}/{r['max_score']:.2f}")
    return 0


def _report(args) -> int:
    print(Grader(args.url, args.key).report(args.submission_id))
    return 0


if __name__ == "__main__":
    sys.exit(main())
