"""File and folder names made from ids: one rule for calendars and batch district folders.

A name keeps letters, digits, ``.``, ``_`` and ``-``; anything else becomes ``_``. It never starts
with a dot (hidden) nor ends with one (Windows drops it), is never a name Windows reserves for a
device (``CON``, ``PRN``, ``AUX``, ``NUL``, ``COM1``-``COM9``, ``LPT1``-``LPT9``, with any
extension), and is unique case-insensitively, so that two ids never share a file on macOS or
Windows either. A taken name gets a numbered suffix; ids are taken in a fixed order, so the same
input gives the same names.
"""

from __future__ import annotations

import re

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_RESERVED = re.compile(r"^(con|prn|aux|nul|com[1-9]|lpt[1-9])(\.|$)", re.IGNORECASE)


def safe_name(text: str, taken: set[str], *, suffix: str = "", limit: int = 100, empty: str = "_",
              sep: str = "~") -> str:
    """A file name for ``text`` plus ``suffix``, unique (case-insensitively) in ``taken``, which it
    then joins. ``empty`` stands in when nothing of ``text`` is left; ``sep`` starts the number
    added to a taken name."""
    base = _UNSAFE.sub("_", text).strip(".")[:limit].rstrip(".") or empty
    if _RESERVED.match(base):
        base = "_" + base
    name, n = base + suffix, 2
    while name.lower() in taken:
        name = f"{base}{sep}{n}{suffix}"
        n += 1
    taken.add(name.lower())
    return name
