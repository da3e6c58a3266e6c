"""The error every reader of input raises: bad input, named by its field (or sheet, row and column).

Shared by the instance loader (:mod:`models.loader`) and the workbook reader
(:mod:`models.spreadsheet`), so that neither imports the other for it. A reader that finds several
problems in one run (the workbook reader) raises them together as :class:`InstanceErrors`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

#: the most problems :class:`InstanceErrors` lists, one line each; the rest are counted
MAX_SHOWN = 20


class InstanceError(ValueError):
    """Bad input: ``path`` names the field, ``message`` says what is wrong."""

    def __init__(self, path: str, message: str):
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path
        self.message = message

    def __reduce__(self):  # picklable (process pools send it back): rebuilt from path and message
        return (type(self), (self.path, self.message))


class InstanceErrors(InstanceError):
    """Several problems in one input file, each an :class:`InstanceError` (``errors``); ``path``
    is the file as given. Its text is one line like every InstanceError's (``plan.xlsx: 7 errors:
    <the first> (and 6 more)``); :meth:`lines` is how a command shows it: ``plan.xlsx: 7 errors``,
    then one indented line per problem, the first :data:`MAX_SHOWN`, then ``and N more``."""

    def __init__(self, source: str, errors: Sequence[InstanceError]):
        self.errors = list(errors)
        more = len(self.errors) - 1
        super().__init__(source, f"{len(self.errors)} errors: {self.errors[0]} (and {more} more)")

    def lines(self) -> list[str]:
        head = f"{len(self.errors)} errors"
        out = [f"{self.path}: {head}" if self.path else head]
        out += [f"  {e}" for e in self.errors[:MAX_SHOWN]]
        if len(self.errors) > MAX_SHOWN:
            out.append(f"  and {len(self.errors) - MAX_SHOWN} more")
        return out

    def __reduce__(self):  # picklable, for process pools
        return (type(self), (self.path, self.errors))


def collected(source: str, errors: Sequence[InstanceError]) -> InstanceError:
    """One problem as itself (one line, as a reader that stops at the first would show it),
    several as :class:`InstanceErrors` of ``source`` (the file's name as given)."""
    plain = [InstanceError(e.path, e.message) for e in errors]
    return plain[0] if len(plain) == 1 else InstanceErrors(source, plain)


def format_loc(loc: Iterable[Any]) -> str:
    """``('schools', 3, 'posts', 1, 'id')`` -> ``schools[3].posts[1].id``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def printable(part: Any) -> Any:
    """A path part as one line of plain text: keys holding line breaks or control characters
    (``"a\\nb"``) are escaped, so an error message is always exactly one line."""
    if isinstance(part, int):
        return part
    text = str(part)
    return text if text.isprintable() else repr(text)[1:-1]


def validation_error(err: Mapping[str, Any]) -> InstanceError:
    """One entry of pydantic's ``ValidationError.errors(include_url=False)`` as an
    :class:`InstanceError` naming the field, in the words the loader uses for the first one."""
    loc = list(err["loc"])
    # Drop pydantic's union-branch tags (e.g. '§date', 'function-after[...]').
    clean = [p for p in loc if isinstance(p, int) or not (str(p).startswith("§") or "function-" in str(p))]
    msg = err["msg"]
    if err["type"] == "extra_forbidden":
        msg = "unknown field"
    elif err["type"] == "missing":
        msg = "required field is missing"
    elif msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    elif err["type"] == "literal_error":
        msg = msg.replace("Input should be", "must be")
    else:
        msg = re.sub(r"^(?:Input|String|List|Dictionary|Tuple|Set) should ", "must ", msg)
    if clean and clean[-1] == "[key]":  # a mapping key of the wrong type, e.g. {1: ...} or {null: ...}
        clean, key = clean[:-2], clean[-2]
        msg = f"key {key!r} {msg.replace('must be a valid string', 'must be text')}"
    return InstanceError(format_loc(printable(p) for p in clean), msg)
