"""schoolpost data models: the instance format ``schoolpost/1`` and the roster."""

from models.instance import (
    ROLES,
    SCHOOL_TYPES,
    WEEKDAYS,
    Instance,
    Limits,
    Person,
    Post,
    ResolvedDemand,
    Route,
    School,
    format_hhmm,
    parse_hhmm,
)
from models.loader import InstanceError, instance_from_data, load_document, load_instance
from models.roster import ASSIGNMENT_COLUMNS, GAP_COLUMNS, Assignment, Gap, csv_cell, csv_value

__all__ = [
    "ASSIGNMENT_COLUMNS",
    "GAP_COLUMNS",
    "ROLES",
    "SCHOOL_TYPES",
    "WEEKDAYS",
    "Assignment",
    "Gap",
    "Instance",
    "InstanceError",
    "Limits",
    "Person",
    "Post",
    "ResolvedDemand",
    "Route",
    "School",
    "csv_cell",
    "csv_value",
    "format_hhmm",
    "instance_from_data",
    "load_document",
    "load_instance",
    "parse_hhmm",
]
