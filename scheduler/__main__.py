"""``python -m scheduler`` is ``schoolpost``."""

from scheduler.cli import main

main()
