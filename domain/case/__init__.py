"""The Case aggregate (stream `case-<tenant>_<id>`): lifecycle, evidence, briefs, proposals."""
