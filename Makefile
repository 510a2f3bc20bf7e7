# CivicLine. `make run` serves everything on http://localhost:5005; `make test` runs every test.
# Both set up what they need on a fresh machine: Python 3.10 venv, pinned packages, database,
# trained model (reused while the training data is unchanged).

SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
RASA := $(VENV)/bin/rasa
export RASA_TELEMETRY_ENABLED := false
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: run test test-fast lint model venv setup nlu-report browser-deps browser-tools nginx-deps serve clean bench

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.lock scripts/find-python310
	@echo "== packages: Python 3.10 venv in $(VENV) and requirements.lock (about 2 min the first time)"
	@test -x $(PY) || "$$(scripts/find-python310)" -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check "pip<25"
	@set -o pipefail; $(PY) -m pip install --disable-pip-version-check --progress-bar off \
	  -r requirements.lock 2>&1 | sed -u -n -e 's/^Collecting \([^ ]*\).*/packages: \1/p' \
	  -e 's/^Installing collected packages.*/packages: installing them (a minute or two).../p' \
	  -e '/^ERROR/,$$p'
	$(PY) -m pip check
	@touch $@

# The trained model, named by the fingerprint of config.yml, domain/ and data/.
model: venv
	@echo "== model: the trained Rasa model for config.yml, domain/ and data/"
	@mkdir -p var models; fp=$$($(PY) -m bot fingerprint); model=models/civicline-$$fp.tar.gz; \
	if [ -f "$$model" ]; then echo "model: $$model is up to date"; else \
	  echo "model: config.yml, domain/ or data/ changed since the last training"; \
	  $(PY) -m scripts.train civicline-$$fp --log var/train.log || exit 1; \
	  ls -1t models/civicline-*.tar.gz | tail -n +3 | xargs -r rm -f; fi

setup: venv
	@mkdir -p var
	@echo "== database: development secrets (.env), migrations and demo data"
	$(PY) -m bot dev-env
	$(PY) -m bot setup --demo

run: setup model
	@$(PY) -m bot dev-staff
	@echo "== serving: the action server and the Rasa server (loading the model takes a minute)"
	@scripts/serve models/civicline-$$($(PY) -m bot fingerprint).tar.gz

# Production (SPEC §11): settings checked (every missing one named), migrations once, then
# CIVICLINE_REPLICAS Rasa replicas (SANIC_WORKERS each) with their action servers behind nginx
# on PORT; JSON logs on stdout. scripts/production.py; deploy/ for systemd hosts.
serve: venv model nginx-deps
	@CIVICLINE_MODEL=$${CIVICLINE_MODEL:-models/civicline-$$($(PY) -m bot fingerprint).tar.gz} \
	  exec $(PY) -m scripts.production serve

# Debian's Chromium for the browser tests (never `playwright install`: it cannot download).
browser-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  sudo=$$([ "$$(id -u)" -ne 0 ] && command -v sudo >/dev/null && echo sudo); \
	  echo "browser-deps: installing Debian's chromium with apt..."; \
	  $$sudo apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq chromium >/dev/null; }

# Debian's nginx, the reverse proxy in front of the Rasa replicas (`make serve`, deploy/, and
# tests/test_replicas.py); scripts/serve-production runs it with deploy/'s site, not the service.
nginx-deps:
	@command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || { \
	  sudo=$$([ "$$(id -u)" -ne 0 ] && command -v sudo >/dev/null && echo sudo); \
	  echo "nginx-deps: installing Debian's nginx with apt..."; \
	  $$sudo apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends \
	    nginx >/dev/null; }

# What the browser tests inject into the console (axe-core, Twilio's sms-segments-calculator):
# npm ci from the committed package-lock.json into tools/browser/node_modules.
browser-tools: tools/browser/node_modules/.installed

tools/browser/node_modules/.installed: tools/browser/package.json tools/browser/package-lock.json
	@command -v npm >/dev/null 2>&1 || { \
	  sudo=$$([ "$$(id -u)" -ne 0 ] && command -v sudo >/dev/null && echo sudo); \
	  echo "browser-tools: installing Debian's npm with apt..."; \
	  $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq npm >/dev/null; }
	cd tools/browser && npm ci --no-audit --no-fund --silent
	@touch $@

# The replica suites start their own stacks (two replicas, nginx, PostgreSQL, Redis) and mostly
# wait on them: they run in a second pytest beside the rest, so `make test` takes the longer of
# the two rather than their sum.
SIDE_SUITES := tests/test_replicas.py tests/test_replicas_stock.py
test: venv model browser-deps browser-tools nginx-deps
	@mkdir -p var results
	$(RASA) data validate --fail-on-warnings --domain domain > var/validate.log 2>&1 \
	  || { tail -40 var/validate.log; exit 1; }
	$(PY) -m ruff check .
	$(VENV)/bin/lint-imports --no-cache
	@export CIVICLINE_MODEL=models/civicline-$$($(PY) -m bot fingerprint).tar.gz; \
	echo "== tests: $(SIDE_SUITES) beside the rest (log: var/test-side.log)"; \
	$(PY) -m pytest -p no:cacheprovider --basetemp=var/pytest-side $(SIDE_SUITES) \
	  > var/test-side.log 2>&1 & side=$$!; \
	$(PY) -m pytest $(addprefix --ignore=,$(SIDE_SUITES)); main=$$?; \
	wait $$side; side_rc=$$?; echo "== $(SIDE_SUITES):"; tail -25 var/test-side.log; \
	[ $$main -eq 0 ] && [ $$side_rc -eq 0 ]

# The quick loop while changing code (under a minute): no trained model, no browser, no stack,
# no PostgreSQL, nothing slow by design. Modules marked stack or postgres as a whole are not
# even imported; compiled (and assertion-rewritten) modules are kept in var/pycache between
# runs. `make test` still runs everything.
FAST_MARKS := not stack and not postgres and not slow
test-fast: venv
	@mkdir -p var
	PYTHONDONTWRITEBYTECODE= PYTHONPYCACHEPREFIX=$(CURDIR)/var/pycache \
	  $(PY) -m pytest -q -p no:hypothesispytest -m "$(FAST_MARKS)" \
	  $$(grep -L -E '^pytestmark = \[?pytest\.mark\.(stack|postgres)\b' tests/test_*.py)

# ruff, and the import contracts of pyproject.toml ([tool.importlinter]).
lint: venv
	$(PY) -m ruff check .
	$(VENV)/bin/lint-imports --no-cache

# Held-out NLU quality per language: results/nlu-report.md (macro-F1 per language, target 0.92,
# every misclassified held-out example); SEED=N draws another split -> results/nlu-report-seedN.md.
# REVIEWED=data/nlu/reviewed (what `python -m bot nlu export` wrote): the same split trained
# without and with those examples -> results/nlu-report-reviewed.md; REVIEWED=round: the
# learning round's batch through the inbox first -> results/learning-round.md.
nlu-report: venv
	@mkdir -p results var
	$(PY) -m scripts.nlu_report $(if $(REVIEWED),--reviewed $(REVIEWED)) $(if $(SEED),--seed $(SEED))

# Distress detection per language (held-out recall, false alarms): results/distress-report.md.
.PHONY: distress-report
distress-report: venv
	@mkdir -p results
	$(PY) -m scripts.distress_report

# The benchmark (not a test): stock Rasa's `rasa init` bot and CivicLine's signed SMS webhook
# under one load generator, in one run; results/bench.{md,json,png}, every figure also a ratio
# to stock. BENCH_ARGS=--quick for 5 s rows; --seconds, --long-turns, --concurrency, --configs.
BENCH_ARGS ?=
bench: venv model
	@mkdir -p results var
	CIVICLINE_STARTUP_SECONDS=$${CIVICLINE_STARTUP_SECONDS:-400} \
	  CIVICLINE_MODEL=models/civicline-$$($(PY) -m bot fingerprint).tar.gz \
	  $(PY) -m scripts.bench $(BENCH_ARGS)

# A newcomer's first `make run` (fresh clone: new venv, training) and an unchanged second one,
# each timed until the assistant answers: into results/bench.{json,md}. About 10 minutes.
.PHONY: bench-first-run
bench-first-run: venv
	@mkdir -p results var
	$(PY) -m scripts.bench_first_run

# Where the time of one SMS turn goes (py-spy on both servers): results/profile-turn-LABEL.md.
# PROFILE_ARGS="--config civicline-pg-redis-2w" for PostgreSQL, Redis and two workers.
PROFILE_ARGS ?=
.PHONY: profile-turn
profile-turn: venv model
	@mkdir -p results var
	CIVICLINE_STARTUP_SECONDS=$${CIVICLINE_STARTUP_SECONDS:-400} \
	  CIVICLINE_MODEL=models/civicline-$$($(PY) -m bot fingerprint).tar.gz \
	  $(PY) -m scripts.profile_turn --label $${LABEL:-now} $(PROFILE_ARGS)

clean:
	rm -rf var models .pytest_cache .ruff_cache
