"""Client of the BPTT Grader: instances as numpy arrays or tensors, answers from numpy or PyTorch,
code from a notebook, reports as HTML in Jupyter and as text in a terminal."""
from bptt_grader.errors import AnswerError, ConnectionFailed, GraderError, RateLimited
from bptt_grader.grader import Grader, Instance
from bptt_grader.report import Report

__all__ = ["Grader", "Instance", "Report", "GraderError", "RateLimited", "ConnectionFailed", "AnswerError"]
__version__ = "0.1.0"
