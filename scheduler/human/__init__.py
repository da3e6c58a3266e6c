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
