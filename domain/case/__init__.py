"""The Case aggregate (stream `case-<id>`): lifecycle, evidence, briefs, proposals."""
