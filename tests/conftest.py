"""Shared fixtures come from tests/support (a real credit server on loopback, real SQLite
files, a real keyring in a temp folder); see tests/support/plugin.py for the list."""

pytest_plugins = ["tests.support.plugin"]
