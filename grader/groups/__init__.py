"""Answer groups: wrong answers of a class grouped by behaviour (code) or error signature (numeric),
and the diagnoses instructors give to a group."""
