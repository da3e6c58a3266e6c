"""``python -m scheduler`` is ``schoolpost``. A Ctrl-C is noted from this module's first line on
(importing the entry point takes time too) and handed to :func:`scheduler.entry.main`."""

import _signal  # type: ignore[import-not-found]  # built in: nothing to load before the handler is set

_asked: list[int] = []
_signal.signal(_signal.SIGINT, lambda signum, _frame: _asked.append(signum))

from scheduler.entry import main  # after the handler, on purpose

main(_asked)
