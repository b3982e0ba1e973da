"""The test suite's shared support, loaded by tests/conftest.py as a pytest plugin.

Fixtures (each defined once, here or in a directory's conftest.py for that directory only;
tests/test_support.py keeps it so):

- tests.support.environment — autouse: `keyring_home`, `no_machine_policy`, `headless_vlc`;
  `libvlc` skips a test where libvlc cannot be loaded.
- tests.support.servers — `start_server(*, demo=True, **options)`, the one way to get a
  running reference server; `server` (the demo server); `proxy` and `fault_proxy` in front
  of it; `server_data()` (a data folder and database for commands run before a server;
  `data_options(server)` gives a command the options for a running server's data). All on
  the suite's backend: SQLite, or PostgreSQL with `--server-db=postgresql`.
- tests.support.clients — `data_dir`, `make_services(server_url=None, *, at=None, **kwargs)`.
- tests.support.ralph — `ralph`: a real learning record store (Ralph, in its own venv), made
  but not started.

Plain helpers, imported where used: `tests.support.activities` (`DEMO_ID`, the one activity
builder `activity_doc` and its presets), `tests.support.cli` (`run_cli`).
"""

pytest_plugins = [
    "tests.support.environment",
    "tests.support.servers",
    "tests.support.clients",
    "tests.support.ralph",
]
