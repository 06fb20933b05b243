"""The audit over the event store and the workers' records: `caseledger audit ...` and
`GET /v1/audit/...`."""
