"""SQL migrations, one file per projection version (`<name>_v<version>.sql`): its tables, then
after the line `-- indexes` its secondary indexes, created when the version is activated (see
`caseledger.adapters.readstore.sql_store`). A version's file never changes meaning once
shipped: a new shape is a new version."""
