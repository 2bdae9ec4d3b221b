"""Evaluation: the 2-D mixture protocol (modes, high-quality fraction, reverse KL)."""
from .mixture import evaluate_mixture, evaluate_toy, summarize

__all__ = ["evaluate_mixture", "evaluate_toy", "summarize"]
