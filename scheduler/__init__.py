"""schoolpost: everything that acts on an instance (duties, model, solve, check, io)."""
