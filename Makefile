# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

# Python caches compiled modules in __pycache__ (git ignores them) unless PYTHONDONTWRITEBYTECODE is set, as some
# machines' environments do. Every command here starts many Python processes (pytest-xdist workers, Celery
# workers, servers, manage.py), and each one would compile the project and its tests again: collecting the
# suite took 7.3 s of CPU per process without the cache and 2.9 s with it.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: run test install lint migrate clean eval bench

$(PY):
	$(PYTHON) -m venv $(VENV)

# Reinstall only when requirements.txt changes.
$(STAMP): requirements.txt | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $(STAMP)

install: $(STAMP)

run: install
	PYTHON=$(PY) ./scripts/run

# mypy checks the packages and strictness set in pyproject.toml ([tool.mypy]).
# pytest runs on PYTEST_WORKERS pytest-xdist processes (README, "Tests"); PYTEST_WORKERS=0 runs it in one process.
# worksteal: an idle worker takes queued tests from a busy one (a few tests take a minute or more).
# In a fresh checkout every pytest-xdist worker would rewrite and compile each test module itself (~4 s of CPU
# per worker: collecting takes 6.3 s cold, 2.2 s with the cache). Then one collection runs beside mypy, which
# keeps only one core busy, and writes that cache for all of them.
PYTEST_WORKERS ?= 4
test: install
	$(PY) -m ruff check .
	@if ls tests/__pycache__/conftest.*-pytest-*.pyc >/dev/null 2>&1; then $(PY) -m mypy; else \
	  echo "A fresh checkout: collecting the tests once beside mypy, so that the workers find them compiled"; \
	  $(PY) -m pytest --collect-only -q -p no:xdist -p no:cacheprovider >/dev/null 2>&1 & warm=$$!; \
	  $(PY) -m mypy; status=$$?; wait $$warm; exit $$status; fi
	$(PY) -m pytest -n $(PYTEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

# The conversation corpus end to end on a throw-away database (see README, "Evaluation").
# EVAL_ARGS: e.g. --category promo_codes, --task <id> --transcripts, --llm, --json out.json.
eval: install
	$(PY) manage.py eval_conversations $(EVAL_ARGS)

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

migrate: install
	$(PY) manage.py migrate

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .mypy_cache test-artifacts

# Issue #15's measures against their goals, beside the floor and the LangGraph peer (docs/performance.md).
# Needs PostgreSQL (DATABASE_URL's server) and Redis (BENCH_REDIS_URL, default index 15); creates and drops
# its own bench_* databases. BENCH_ARGS: e.g. --quick, --repeat 5, --rows 1,2,3,8, --json out.json.
bench: install
	DJANGO_SETTINGS_MODULE=config.settings.bench $(PY) manage.py bench $(BENCH_ARGS)
