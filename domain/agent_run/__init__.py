"""Agent runs (seed §11): the runtime's record of what the user asked, what the model answered
and which tools it called, in `run-<tenant>_<run_id>` streams."""
