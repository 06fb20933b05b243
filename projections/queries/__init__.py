"""The query side: `QueryEnvelope -> QueryResult` over the active read models."""
