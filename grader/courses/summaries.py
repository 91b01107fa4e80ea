"""Statistics kept as they happen, so that an exercise's statistics read a row per learner instead of
every submission (a 100,000-learner course has 300,000 submissions per exercise).

Three tables, all derived from `submissions` and `submission_misconceptions` and rebuilt from them
by `rebuild` (migration 0015, `flask rebuild-summaries`):
- learner_summaries: per exercise, course ('' for none) and learner: attempts (invalid ones are not
  counted), the score histogram's five bins, and the first attempt (time, id, whether correct).
- misconception_learners: which learners' reports named which slug.
- misconception_days: how many reports named a slug on each UTC day.

A graded submission adds itself in its own transaction (`add`, a few upserts). Anything that changes
stored rows afterwards (a queued grade, a regrade batch, an erasure) runs inside `changing`, which
recomputes exactly the learners it touched from the stored rows, in the same transaction.
"""
from __future__ import annotations

from collections import Counter
from contextlib import contextmanager

from sqlalchemy import bindparam, text

from grader.storage.prepared import Cursor, Prepared
from grader.storage.types import UTCDateTime

# The score bin of a submission (int(5 * score / max_score), capped at 4; none when max_score <= 0),
# as gradebook.stats always counted it.
BIN = ("CASE WHEN max_score <= 0 THEN -1 WHEN 5 * score / max_score >= 4 THEN 4 "
       "WHEN 5 * score / max_score >= 3 THEN 3 WHEN 5 * score / max_score >= 2 THEN 2 "
       "WHEN 5 * score / max_score >= 1 THEN 1 ELSE 0 END")


def _summaries_from(where: str) -> str:
    """INSERT … SELECT of learner_summaries from the submissions matching `where`."""
    bins = ", ".join(f"SUM(CASE WHEN bin = {k} THEN 1 ELSE 0 END)" for k in range(5))
    return (
        "INSERT INTO learner_summaries (exercise_id, course_key, learner, attempts, bin0, bin1, bin2, bin3, bin4, "
        "first_at, first_id, first_correct) "
        f"SELECT exercise_id, course_key, learner, COUNT(*), {bins}, "
        "MAX(CASE WHEN rank = 1 THEN created_at END), MAX(CASE WHEN rank = 1 THEN id END), "
        "MAX(CASE WHEN rank = 1 AND verdict = 'correct' THEN 1 ELSE 0 END) "
        f"FROM (SELECT exercise_id, COALESCE(course_id, '') AS course_key, learner, verdict, created_at, id, {BIN} AS bin, "
        "ROW_NUMBER() OVER (PARTITION BY exercise_id, COALESCE(course_id, ''), learner ORDER BY created_at, id) AS rank "
        f"FROM submissions WHERE verdict <> 'invalid' AND {where}) ranked "
        "GROUP BY exercise_id, course_key, learner "
        # a concurrent refresh of the same learner (PostgreSQL, READ COMMITTED) may have inserted it again:
        # this statement's snapshot is the newer one
        "ON CONFLICT (exercise_id, course_key, learner) DO UPDATE SET "
        + ", ".join(f"{c} = excluded.{c}" for c in ("attempts", "bin0", "bin1", "bin2", "bin3", "bin4", "first_at",
                                                     "first_id", "first_correct")))


def _slug_learners_from(where: str) -> str:
    return ("INSERT INTO misconception_learners (exercise_id, course_key, slug, learner) "
            "SELECT DISTINCT exercise_id, COALESCE(course_id, ''), slug, learner "
            f"FROM submission_misconceptions WHERE {where} ON CONFLICT DO NOTHING")


def _day(dialect: str) -> str:
    """A stored instant's UTC day as YYYY-MM-DD (SQLite stores UTC digits: storage.types.UTCDateTime)."""
    return "to_char(timezone('UTC', created_at), 'YYYY-MM-DD')" if dialect == "postgresql" else "date(created_at)"


LEARNERS = "learner IN :learners"
FOR = f"exercise_id = :exercise_id AND {LEARNERS}"


def _expanding(sql: str):
    return text(sql).bindparams(bindparam("learners", expanding=True))


REFRESH = [
    _expanding(f"DELETE FROM learner_summaries WHERE {FOR}"),
    _expanding(_summaries_from(FOR)),
    _expanding(f"DELETE FROM misconception_learners WHERE {FOR}"),
    _expanding(_slug_learners_from(FOR)),
]
# this submission came before the stored first attempt (stored out of order, or a tie broken by id)
EARLIER = ("excluded.first_at < learner_summaries.first_at OR (excluded.first_at = learner_summaries.first_at "
           "AND excluded.first_id < learner_summaries.first_id)")
ADD_SUMMARY = Prepared(text(
    "INSERT INTO learner_summaries (exercise_id, course_key, learner, attempts, bin0, bin1, bin2, bin3, bin4, "
    "first_at, first_id, first_correct) VALUES (:exercise_id, :course_key, :learner, 1, :b0, :b1, :b2, :b3, :b4, "
    ":at, :id, :correct) ON CONFLICT (exercise_id, course_key, learner) DO UPDATE SET "
    "attempts = learner_summaries.attempts + 1, bin0 = learner_summaries.bin0 + excluded.bin0, "
    "bin1 = learner_summaries.bin1 + excluded.bin1, bin2 = learner_summaries.bin2 + excluded.bin2, "
    "bin3 = learner_summaries.bin3 + excluded.bin3, bin4 = learner_summaries.bin4 + excluded.bin4, "
    + ", ".join(f"{c} = CASE WHEN {EARLIER} THEN excluded.{c} ELSE learner_summaries.{c} END"
                for c in ("first_at", "first_id", "first_correct"))
).bindparams(bindparam("at", type_=UTCDateTime())))  # stored as every instant is (UTC digits on SQLite)
ADD_SLUG_LEARNER = text(
    "INSERT INTO misconception_learners (exercise_id, course_key, slug, learner) "
    "VALUES (:exercise_id, :course_key, :slug, :learner) ON CONFLICT DO NOTHING")
ADD_DAY = text(
    "INSERT INTO misconception_days (exercise_id, course_key, slug, day, count) "
    "VALUES (:exercise_id, :course_key, :slug, :day, :delta) ON CONFLICT (exercise_id, course_key, slug, day) "
    "DO UPDATE SET count = misconception_days.count + excluded.count")


ADD_SLUG_LEARNER_PREPARED, ADD_DAY_PREPARED = Prepared(ADD_SLUG_LEARNER), Prepared(ADD_DAY)  # a submission's own
DROP_EMPTY_DAYS = text("DELETE FROM misconception_days WHERE exercise_id = :exercise_id AND count <= 0")


def score_bin(score: float, max_score: float) -> int:
    """The bin of BIN, in Python (the same IEEE arithmetic as the database's)."""
    if max_score <= 0:
        return -1
    ratio = 5 * score / max_score
    return min(4, int(ratio)) if ratio >= 1 else 0


def add(cursor: Cursor, row, slugs: list[str]) -> None:
    """A new submission, in the cursor's transaction: one upsert for its learner's summary and two per
    slug. The first attempt is the earliest (created_at, then id), whatever order the rows were stored in."""
    if row.verdict == "invalid":
        return
    key = {"exercise_id": row.exercise_id, "course_key": row.course_id or "", "learner": row.learner}
    where = score_bin(row.score, row.max_score)
    cursor.execute(ADD_SUMMARY, {**key, **{f"b{k}": int(k == where) for k in range(5)}, "at": row.created_at,
                                     "id": row.id, "correct": int(row.verdict == "correct")})
    if slugs:
        day = row.created_at.strftime("%Y-%m-%d")  # created_at is UTC (storage.models.utcnow)
        cursor.execute_many(ADD_SLUG_LEARNER_PREPARED, [{**key, "slug": slug} for slug in slugs])
        cursor.execute_many(ADD_DAY_PREPARED, [{**key, "slug": slug, "day": day, "delta": 1} for slug in slugs])


@contextmanager
def changing(db, exercise_id: str, learners, submissions=None):
    """Around a change of stored submissions of these learners on this exercise: afterwards their
    summaries and slug rows are recomputed, and the day counts move by the difference. With
    `submissions` (the ids that change), the day counts read only those rows, so a submission the
    same learner stores meanwhile is not counted twice."""
    learners = sorted(set(learners))
    if not learners:
        yield
        return
    scope = {"exercise_id": exercise_id, "learners": learners, **({"ids": sorted(submissions)} if submissions else {})}
    before = _day_counts(db, scope)
    yield
    db.flush()
    for statement in REFRESH:
        db.execute(statement, {"exercise_id": exercise_id, "learners": learners})
    after = _day_counts(db, scope)
    after.subtract(before)
    moved = [{"exercise_id": exercise_id, "course_key": course_key, "slug": slug, "day": day, "delta": delta}
             for (course_key, slug, day), delta in after.items() if delta]
    if moved:
        db.execute(ADD_DAY, moved)
        db.execute(DROP_EMPTY_DAYS, {"exercise_id": exercise_id})  # as a rebuild leaves them: no row


def _day_counts(db, scope: dict) -> Counter:
    day = _day(db.get_bind().dialect.name)
    where = f"{FOR} AND submission_id IN :ids" if "ids" in scope else FOR
    statement = text(f"SELECT COALESCE(course_id, ''), slug, {day}, COUNT(*) FROM submission_misconceptions "
                     f"WHERE {where} GROUP BY COALESCE(course_id, ''), slug, {day}").bindparams(
        *(bindparam(name, expanding=True) for name in ("learners", "ids") if name in scope))
    return Counter({(c, s, str(d)): n for c, s, d, n in db.execute(statement, scope)})


def rebuild(connection) -> None:
    """All three tables from the stored rows (a migration, the CLI, or a bulk load that bypassed the service)."""
    day = _day(connection.dialect.name)
    for table in ("learner_summaries", "misconception_learners", "misconception_days"):
        connection.execute(text(f"DELETE FROM {table}"))
    connection.execute(text(_summaries_from("1 = 1")))
    connection.execute(text(_slug_learners_from("1 = 1")))
    connection.execute(text(
        "INSERT INTO misconception_days (exercise_id, course_key, slug, day, count) "
        f"SELECT exercise_id, COALESCE(course_id, ''), slug, {day}, COUNT(*) FROM submission_misconceptions "
        f"GROUP BY exercise_id, COALESCE(course_id, ''), slug, {day}"))
