"""The ``schoolpost`` program's entry point: a Ctrl-C at any moment, even while the libraries
are still loading (before any command has set its own handler), ends it with one line and exit
code 130, never a traceback.

The handler that only notes a Ctrl-C is set by the first statement of :func:`main`, through the
interpreter's built-in ``_signal`` module: ``import signal`` builds its enums first, a few
milliseconds in which a Ctrl-C raised ``KeyboardInterrupt`` inside that import, with a traceback.
Before the program's first line runs (the interpreter starting, ``site``), the interpreter's own
handling applies."""

from __future__ import annotations

import _signal  # type: ignore[import-not-found]  # built in: loaded with the interpreter, nothing to wait for
import sys


def main(asked: list[int] | None = None) -> None:
    """Run the program; ``asked`` holds the Ctrl-Cs noted before (``python -m scheduler`` notes
    them from its first line)."""
    asked = [] if asked is None else asked
    # while the libraries load, a Ctrl-C is only noted: raised inside a C extension's
    # initialisation (OR-Tools) it would surface as an ImportError with a traceback
    _signal.signal(_signal.SIGINT, lambda signum, _frame: asked.append(signum))
    try:
        import scheduler.cpsat  # noqa: F401 - OR-Tools loaded here, under the deferred Ctrl-C
        from scheduler.commands import run
    finally:
        _signal.signal(_signal.SIGINT, _signal.default_int_handler)
    try:
        if asked:
            raise KeyboardInterrupt
        code = run()
    except KeyboardInterrupt:
        sys.stderr.write("\ninterrupted\n")
        sys.exit(130)
    sys.exit(code)
