# The two commands of the README:  `make demo`  and  `make test`.
# Everything they need is installed here: a virtualenv with the project, and Kafka plus the
# schema registry from Maven Central (cached under ~/.cache/sec-digester and ~/.m2).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test setup debian lint unit integration fuzz bench bench-gateway infra-artifacts browser helm promtool haproxy postgres clean

$(STAMP): pyproject.toml clients/python/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ./clients/python -e '.[test]'
	touch $(STAMP)

infra-artifacts: $(STAMP)
	$(BIN)/sec-digester infra fetch

demo: $(STAMP) infra-artifacts
	$(BIN)/sec-digester demo

lint: $(STAMP)
	$(BIN)/ruff check services tests bench clients
	$(BIN)/ruff format --check services tests bench clients
	$(BIN)/mypy
	$(BIN)/lint-imports

browser: $(STAMP)
	scripts/install-browser-test-deps.sh $(BIN)/python

# helm is built from the Go module proxy once (cached under ~/.cache/sec-digester and ~/go).
helm:
	scripts/install-helm.sh

# promtool from Debian's prometheus package, for the alert rules (cached under ~/.cache/sec-digester).
promtool:
	scripts/install-promtool.sh

# HAProxy from Debian's package, the load balancer of the gateway failover test.
haproxy:
	scripts/install-haproxy.sh

# PostgreSQL from Debian's package, for the filings store's tests on it (the binaries only).
postgres:
	scripts/install-postgres.sh

# Debian's packages one after another (apt-get holds a lock), beside the rest of the set-up.
debian: $(STAMP)
	$(MAKE) --no-print-directory -j1 browser postgres haproxy promtool

# Everything the tests need. The downloads (Maven, apt) and the builds (helm from Go, mypy) wait
# on different things, so they run side by side: on a fresh machine this saves minutes.
setup: $(STAMP)
	$(MAKE) --no-print-directory -j4 --output-sync=target lint infra-artifacts helm debian

# Three workers (pytest-xdist; the integration tests mostly wait, so a third overlaps more of
# the waiting on two cores), each a session with its own broker, registry and ports
# (tests/support/infra.py). loadgroup hands tests out one at a time as a worker runs short, the
# longest (integration) first, and keeps the tests on a three-node cluster together on one
# worker (tests/integration/conftest.py): the plain `load` mode sent one worker nearly every
# integration test in its first batch.
TEST_WORKERS ?= 3

test: setup
	$(BIN)/python -m pytest tests -q -n $(TEST_WORKERS) --dist loadgroup

unit: $(STAMP) helm promtool postgres
	$(BIN)/python -m pytest tests/unit -q

integration: infra-artifacts browser haproxy postgres
	$(BIN)/python -m pytest tests/integration -q

# The property-based tests at 10,000 examples per property (the `fuzz` Hypothesis profile,
# tests/hypothesis_profiles.py); `make test` runs them with the small `ci` profile.
fuzz: $(STAMP)
	HYPOTHESIS_PROFILE=fuzz $(BIN)/python -m pytest tests/unit -q -k properties \
		-o timeout=3600 --hypothesis-show-statistics -p no:cacheprovider

bench: infra-artifacts haproxy
	$(BIN)/python -W ignore::DeprecationWarning -m bench.serialization
	$(BIN)/python -m bench.infra_startup
	$(BIN)/python -m bench.ingest
	$(BIN)/python -m bench.analyze
	$(BIN)/python -m bench.gateway
	$(BIN)/python -m bench.group_commits
	$(BIN)/python -m bench.failover
	$(BIN)/python -m bench.pipeline

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache

bench-gateway: infra-artifacts
	$(BIN)/python -m bench.gateway
	$(BIN)/python -m bench.group_commits
