"""Integration events: public, versioned, sanitized contracts published from committed events
through an outbox relay to NATS JetStream, and the inbox consumers deduplicate with."""
