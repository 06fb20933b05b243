"""The HTTP API (FastAPI): a thin entry point over the command and query services."""
