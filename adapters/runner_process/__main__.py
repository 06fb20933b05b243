"""`python -m caseledger.adapters.runner_process FD`: the runner child (see `child`)."""

from caseledger.adapters.runner_process.child import main

main()
