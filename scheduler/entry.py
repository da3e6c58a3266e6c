"""The ``schoolpost`` program's entry point: a Ctrl-C at any moment, even while the libraries
are still loading (before any command has set its own handler), ends it with one line and exit
code 130, never a traceback."""

from __future__ import annotations

import signal
import sys


def main() -> None:
    asked: list[int] = []
    # while the libraries load, a Ctrl-C is only noted: raised inside a C extension's
    # initialisation (OR-Tools) it would surface as an ImportError with a traceback
    signal.signal(signal.SIGINT, lambda signum, _frame: asked.append(signum))
    try:
        import scheduler.cpsat  # noqa: F401 - OR-Tools loaded here, under the deferred Ctrl-C
        from scheduler.commands import main as cli
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        if asked:
            raise KeyboardInterrupt
        cli()
    except KeyboardInterrupt:
        sys.stderr.write("\ninterrupted\n")
        sys.exit(130)
