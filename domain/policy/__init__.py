"""The Policy aggregate (stream `policy-<tenant>`): versions of a tenant's rules."""
