"""Grading: the answer ladder, comparison with the reference, diagnosis and reports (no Flask)."""
