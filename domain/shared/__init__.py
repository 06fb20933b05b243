"""Shared kernel: ids, actors, envelopes, outcomes, reason codes, errors, the event registry."""
