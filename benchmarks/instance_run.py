"""The command line of a benchmark script that runs one instance and prints a JSON record."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path


def main(description: str, run: Callable[[str, float, int], dict], *, workers: int) -> None:
    """``INSTANCE [--time-limit S] [--workers N] [--out FILE]``: ``run(instance, time_limit,
    workers)``, its record printed as JSON and written to FILE when given."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("instance")
    ap.add_argument("--time-limit", type=float, default=600.0)
    ap.add_argument("--workers", type=int, default=workers)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    text = json.dumps(run(args.instance, args.time_limit, args.workers), indent=2)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="utf-8")
