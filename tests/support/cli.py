"""Running the `cme-offline` command line in the test's own process, as a user or IT script would."""

from __future__ import annotations

import io
import sys

from desktop.app import main


def run_cli(monkeypatch, capsys, *args: str, stdin: str = "") -> tuple[int, str, str]:
    """`cme-offline ARGS` with `stdin` as its input; returns (exit code, stdout, stderr)."""
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err
