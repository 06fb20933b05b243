"""The projection runner in a child process that the process hosting the embedded store starts
and supervises (`caseledger serve`, `CASELEDGER_RUNNER_IN`), so the projections never hold the
commands' interpreter lock.

- `supervisor.RunnerProcess` (in the hosting process) starts the child with one end of a
  socket pair, restarts it with backoff when it dies (nothing is lost: the read store's
  checkpoints say where it resumes), and answers what the App asks of a runner (`status`,
  `wait_until`, `wait_for_progress`) from what the child reports.
- `child` (the child: `python -m caseledger.adapters.runner_process FD`) runs the same
  `ProjectionRunner` as the thread does, on `InProcessEventStore` over a `ReadOnlyStore` (the
  store's own reading code on a read-only connection to its file) and the configured read
  store, with its checkpoints, parking and reports exactly as in a thread.
- `wire`: what goes over the socket pair (see there).
"""
