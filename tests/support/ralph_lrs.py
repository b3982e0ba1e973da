"""Ralph's LRS as `ralph runserver -b fs` serves it, with one fix; run by the Ralph venv's
own Python (tests/support/ralph.py), never imported by the suite.

    .venv-ralph/bin/python -P tests/support/ralph_lrs.py HOST PORT

The fix: Ralph 5.1.0's file-system LRS backend writes its statements file in "create"
mode, so only the first write ever succeeds and every later statement is answered 500
"Statement indexation failed" (the file exists). Here it appends, as a store must. Nothing
else changes: the app is `ralph.api:app` with its own validation, basic auth from the
auth file `ralph auth` wrote, the same-id checks (204 for the same statement, 409 for a
different one) and the statements query. Configuration comes from the environment, as
`ralph runserver` passes it (RALPH_RUNSERVER_BACKEND=fs,
RALPH_BACKENDS__LRS__FS__DEFAULT_DIRECTORY_PATH, RALPH_AUTH_FILE). No auto-reload, so it
is one process.
"""

import sys

import uvicorn
from ralph.backends.data.base import BaseOperationType
from ralph.backends.lrs.fs import FSLRSBackend

FSLRSBackend.default_operation_type = BaseOperationType.APPEND

if __name__ == "__main__":
    host, port = sys.argv[1], int(sys.argv[2])
    uvicorn.run("ralph.api:app", host=host, port=port, log_level="info")
