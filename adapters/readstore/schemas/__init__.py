"""The read models' schemas, one file per view version (`<name>_v<version>.sql`) for both
dialects, and `readside.sql`, the read side's own tables: tokens for what the dialects spell
differently (`caseledger.adapters.readstore.dialect`); after the line `-- indexes`, a version's
secondary indexes, created when it is activated (`caseledger.adapters.readstore.sql_store`).
A version's file never changes meaning once shipped: a new shape is a new version."""
