"""The ``schoolpost`` command line: one module per command, each a thin layer that parses its
options, calls the library and writes what it returns; nothing outside this package imports click.
Library code returns data; these modules decide what to show.

Bad input exits with code 2 and one line naming the field (a workbook with several bad cells:
a line ``plan.xlsx: 7 errors`` and one line per cell, the first 20); a hard-rule violation found by
``check`` exits with code 1.
"""

from __future__ import annotations

import sys

import click

from models import InstanceError
from models.errors import InstanceErrors


class _Group(click.Group):
    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except InstanceErrors as exc:  # several problems: a first line, then one line each
            click.echo("error: " + "\n".join(exc.lines()), err=True)
            sys.exit(2)
        except InstanceError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)
        except click.UsageError as exc:  # a bad option or argument: one line too, naming it
            click.echo(f"error: {exc.format_message()}", err=True)
            sys.exit(2)
        except KeyboardInterrupt:  # a Ctrl-C before the command set its own handler (click says "Aborted!", exit 1)
            click.echo("\ninterrupted", err=True)
            sys.exit(130)


def run() -> int:
    """Run the group on ``sys.argv`` and return the exit code, outside click's standalone mode:
    there a Ctrl-C while click parses the options (before the command sets its own handler)
    printed "Aborted!" and exited 1; here it raises ``KeyboardInterrupt`` for the entry point
    (:mod:`scheduler.entry`: "interrupted", 130). Usage errors are shown as standalone mode shows
    them, with their exit code."""
    try:
        code = main(standalone_mode=False)
    except click.exceptions.Abort:
        raise KeyboardInterrupt from None
    except click.exceptions.ClickException as exc:
        exc.show()
        return exc.exit_code
    # an int is click's Exit (--help, --version); a command's own return value is not an exit code
    return code if isinstance(code, int) else 0


@click.group(cls=_Group)
@click.version_option(package_name="schoolpost")
@click.option("-v", "--verbose", is_flag=True, help="Also log what the engine does, stage by stage (to stderr).")
def main(verbose: bool) -> None:
    """Rosters for school protection posts."""
    _configure_logging(verbose)


def _configure_logging(verbose: bool) -> None:
    """The one place logging is set up: the library logs to the ``schoolpost`` logger; warnings
    reach stderr always, its stage-by-stage lines with ``--verbose`` (each command's ``--quiet``
    only silences the command's own summary lines)."""
    import logging

    logger = logging.getLogger("schoolpost")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
        logger.addHandler(handler)
        logger.propagate = False
    logger.setLevel(logging.INFO if verbose else logging.WARNING)


def _register() -> None:
    from scheduler.commands.batch import batch_command
    from scheduler.commands.calibrate import calibrate_command
    from scheduler.commands.check import check_command
    from scheduler.commands.generate import generate_command
    from scheduler.commands.info import info_command
    from scheduler.commands.recommend import recommend_command
    from scheduler.commands.repair import repair_command
    from scheduler.commands.report import report_command
    from scheduler.commands.serve import history_command, serve_command, token_command
    from scheduler.commands.solve import solve_command
    from scheduler.commands.staffing import staffing_command
    from scheduler.commands.template import template_command
    from scheduler.commands.whatif import whatif_command

    main.add_command(solve_command, "solve")
    main.add_command(check_command, "check")
    main.add_command(info_command, "info")
    main.add_command(report_command, "report")
    main.add_command(generate_command, "generate")
    main.add_command(batch_command, "batch")
    main.add_command(whatif_command, "whatif")
    main.add_command(repair_command, "repair")
    main.add_command(recommend_command, "recommend")
    main.add_command(staffing_command, "staffing")
    main.add_command(template_command, "template")
    main.add_command(calibrate_command, "calibrate")
    main.add_command(serve_command, "serve")
    main.add_command(token_command, "token")
    main.add_command(history_command, "history")


_register()
