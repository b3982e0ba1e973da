# The README's two commands: `make demo` runs the app on the built-in demo,
# `make test` runs the tests. Each first installs the Debian packages it needs
# (packaging/system-packages; without root it stops with the exact line to run), then
# creates .venv and installs the project on first use.
PY ?= python3
VENV := .venv
STAMP := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)

.PHONY: demo test bench clean system-demo system-test

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check -e '.[test]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

system-demo:
	packaging/system-packages demo

system-test:
	packaging/system-packages test

demo: system-demo $(STAMP)
	$(VENV)/bin/cme-offline --demo

test: system-test $(STAMP)
	QT_QPA_PLATFORM=offscreen $(VENV)/bin/pytest -q -p no:cacheprovider

bench: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(VENV)/bin/python -m tests.bench

clean:
	rm -rf $(VENV) build *.egg-info
