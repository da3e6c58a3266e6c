"""The Curtois & Qu employee shift-scheduling benchmark (instances 1-24): reader, evaluator,
CP-SAT model and a runner. See ``FORMAT.md`` in this folder for the rule readings."""
