"""The CP-SAT back-end: the only package that imports ortools."""

from scheduler.cpsat.model import SOFT_RULES, RosterModel

__all__ = ["SOFT_RULES", "RosterModel"]
