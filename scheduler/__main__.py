"""``python -m scheduler`` is ``schoolpost``."""

from scheduler.entry import main

main()
