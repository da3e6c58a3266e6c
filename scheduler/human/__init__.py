"""Human outputs of a roster (issue 5): files people open, print and carry.

Everything here is made from the instance, the roster rows (SPEC columns), the validator's
:class:`scheduler.check.CheckReport`, the gap rows and summary.json, never from the model, so the
same files can be made again from a roster folder (``schoolpost report``).

| file | module |
|---|---|
| ``roster.xlsx`` | :mod:`scheduler.human.workbook` |
| ``duty-sheets.html`` | :mod:`scheduler.human.sheets` |
| ``calendars/<person>.ics`` | :mod:`scheduler.human.calendars` |
| ``report.html`` | :mod:`scheduler.human.report` |
"""

from __future__ import annotations

#: the human outputs ``solve`` writes by default (``--outputs``), in the order they are made
HUMAN_OUTPUTS = ("xlsx", "sheets", "calendars", "report")


def human_files(inst, rows: list[dict], report, gaps: list, summary: dict,
                outputs: tuple[str, ...] = HUMAN_OUTPUTS, *, previous=None, published_at=None,
                reminder: int | None = None) -> dict[str, str | bytes]:
    """``{file name: content}`` of the chosen human outputs (names as in the table above).

    ``previous`` (the previous publication's events, :func:`scheduler.human.calendars.previous_events`),
    ``published_at`` (DTSTAMP) and ``reminder`` (minutes) go to the calendars."""
    files: dict[str, str | bytes] = {}
    if "xlsx" in outputs:
        from scheduler.human.workbook import roster_workbook

        files["roster.xlsx"] = roster_workbook(inst, rows, report, gaps, summary)
    if "sheets" in outputs:
        from scheduler.human.sheets import duty_sheets_html

        files["duty-sheets.html"] = duty_sheets_html(inst, rows, report, gaps)
    if "calendars" in outputs:
        from scheduler.human.calendars import person_calendars

        for name, data in person_calendars(inst, rows, previous=previous, published_at=published_at,
                                           reminder=reminder).items():
            files[f"calendars/{name}"] = data
    if "report" in outputs:
        from scheduler.human.report import report_html

        files["report.html"] = report_html(inst, rows, report, gaps, summary)
    return files
