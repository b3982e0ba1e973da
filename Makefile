# The README's two commands: `make demo` runs the app on the built-in demo,
# `make test` runs the tests. Each first installs the Debian packages it needs
# (packaging/system-packages; without root it stops with the exact line to run), then
# creates .venv and installs the project on first use.
PY ?= python3
VENV := .venv
STAMP := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)
# Ralph, the learning record store the server's xAPI tests report to, in a venv of its own
# (its pinned dependencies would fight ours): tests/support/ralph.py makes it, once per
# version of its requirements file, and names the stamp the same way.
RALPH_REQUIREMENTS := tests/support/ralph-requirements.txt
RALPH_STAMP := .venv-ralph/.installed-$(shell sha1sum $(RALPH_REQUIREMENTS) | cut -c1-12)

.PHONY: demo test bench screenshots clean system-demo system-test system-bench

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check -e '.[test]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

$(RALPH_STAMP): $(RALPH_REQUIREMENTS) $(STAMP)
	$(VENV)/bin/python -m tests.support.ralph

system-demo:
	packaging/system-packages demo

system-test:
	packaging/system-packages test

system-bench:
	packaging/system-packages bench

demo: system-demo $(STAMP)
	$(VENV)/bin/cme-offline --demo

# The whole suite, then the server tests again on PostgreSQL (a private cluster the session
# starts and removes: tests/support/postgres.py), so every server test runs on both backends.
test: system-test $(STAMP) $(RALPH_STAMP)
	QT_QPA_PLATFORM=offscreen $(VENV)/bin/pytest -q -p no:cacheprovider
	QT_QPA_PLATFORM=offscreen $(VENV)/bin/pytest -q -p no:cacheprovider tests/server --server-db=postgresql

bench: system-bench $(STAMP)
	QT_QPA_PLATFORM=offscreen $(VENV)/bin/python -m tests.bench

# A PNG of every main screen, light and dark, at 1024x700 and at 2x scaling (a 2048x1400
# X screen), under Xvfb: look at the app without running it.
screenshots: system-test $(STAMP)
	xvfb-run -a -s "-screen 0 2048x1400x24" $(VENV)/bin/python -m tests.screens.take build/screenshots

clean:
	rm -rf $(VENV) .venv-ralph build *.egg-info
