"""This dialect's own schemas, for the views whose SQLite and PostgreSQL schemas differ in kind
(full-text search); each takes the place of a shared one in
`caseledger.adapters.readstore.schemas` (see `caseledger.adapters.readstore.dialect`). A
version's file never changes meaning once shipped: a new shape is a new version."""
