"""Traces, metrics and structured logs (OpenTelemetry), off unless CASELEDGER_OTEL says
`console` or `otlp`. The domain knows none of it: wrappers decorate the services from outside."""
