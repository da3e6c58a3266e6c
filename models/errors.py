"""The error every reader of input raises: bad input, named by its field (or sheet, row and column).

Shared by the instance loader (:mod:`models.loader`) and the workbook reader
(:mod:`models.spreadsheet`), so that neither imports the other for it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


class InstanceError(ValueError):
    """Bad input: ``path`` names the field, ``message`` says what is wrong."""

    def __init__(self, path: str, message: str):
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path
        self.message = message


def format_loc(loc: Iterable[Any]) -> str:
    """``('schools', 3, 'posts', 1, 'id')`` -> ``schools[3].posts[1].id``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out
