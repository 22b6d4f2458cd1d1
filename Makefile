# The two README commands (demo, test) create the virtualenv and install on first use.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
EXTRA_STAMP := $(VENV)/.train-stamp
# The train extra needs torch: a CPU build (this pin is the CPU wheel machines here carry;
# set TORCH to another requirement elsewhere), or pip resolves a large GPU build.
TORCH ?= torch==2.13.0
PYTEST_ARGS ?=

.PHONY: demo test lint bench audit fuzz install install-train clean

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

# The test suite runs a smoke training of the policy model, so it installs the train extra.
$(EXTRA_STAMP): $(STAMP)
	$(PY) -m pip install -q '$(TORCH)'
	$(PY) -m pip install -q -e '.[dev,train]'
	touch $(EXTRA_STAMP)

install: $(STAMP)

install-train: $(EXTRA_STAMP)

demo: $(STAMP)
	$(VENV)/bin/socialguide demo

test: $(EXTRA_STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check monitor tests bench
	$(VENV)/bin/mypy

bench: $(STAMP)
	$(PY) -m bench

# Dependency audit: pip-audit checks the installed packages against the PyPI vulnerability
# database, which is online. The summary says how many packages were really checked; where
# the database cannot be reached (or knows none of them) it prints NOT CHECKED and exits 0,
# so an offline build does not fail for lack of network. A known vulnerability exits 1.
AUDIT_JSON ?= $(VENV)/pip-audit.json
audit: $(STAMP)
	@$(PY) -m pip install -q pip-audit || echo "audit: pip-audit could not be installed"
	@rm -f $(AUDIT_JSON)
	@-$(VENV)/bin/pip-audit --skip-editable --progress-spinner off -f json -o $(AUDIT_JSON)
	@$(PY) tests/security/audit_summary.py $(AUDIT_JSON)

# Hostile generated input through the pipeline entry point for a fixed time (FUZZ_SECONDS).
FUZZ_SECONDS ?= 60
FUZZ_ARGS ?=
fuzz: $(STAMP)
	$(PY) -m tests.fuzz.target --seconds $(FUZZ_SECONDS) $(FUZZ_ARGS)

clean:
	rm -rf $(VENV) socialguide-demo .pytest_cache .ruff_cache .mypy_cache
