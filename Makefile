# Two commands a user needs: `make serve` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY_STAMP := $(VENV)/.installed
JS_STAMP := node_modules/.package-lock.json
SDK_STAMP := sdk/node_modules/.package-lock.json
# The browser suites drive Debian's chromium; playwright never downloads a browser of its own.
CHROMIUM ?= /usr/bin/chromium
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

.PHONY: serve test install migrate check-config clean bench types sdk

$(PY_STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit("feltsync needs Python 3.11+" if sys.version_info < (3, 11) else 0)'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

$(JS_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund

$(SDK_STAMP): sdk/package.json sdk/package-lock.json
	cd sdk && npm ci --no-audit --no-fund

# Installed when missing and we are root (CI, containers); elsewhere the browser suites skip
# loudly, or fail under CI=true, as for any missing service.
$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	else \
		echo "browser tests need Debian's chromium: sudo apt-get install -y chromium"; \
	fi

# The two-instance topology test puts Debian's nginx in front (same rule as chromium).
NGINX ?= /usr/sbin/nginx
$(NGINX):
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx; \
	else \
		echo "the topology test needs Debian's nginx: sudo apt-get install -y nginx"; \
	fi

install: $(PY_STAMP) $(JS_STAMP)

## Install, migrate and start on the embedded default (SQLite under ./var) at 127.0.0.1:8080.
serve: $(PY_STAMP)
	$(BIN)/feltsync serve

## Install everything and run the whole test suite.
test: $(PY_STAMP) $(JS_STAMP) $(SDK_STAMP) $(CHROMIUM) $(NGINX)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## Fan-out benchmark: Node's socket.io reference and feltsync under the same load, one run,
## ratios printed (needs Node + npm; several minutes, most of it opening 19k idle connections,
## as many as a hard file limit of 20000 leaves room for: BENCH_ARGS="--clients 2000 --stock"
## skips them). --instances compares two instances behind Redis with one (needs PostgreSQL and
## Redis, BENCH_DATABASE_URL / BENCH_REDIS_URL). BENCH_ARGS overrides the defaults.
BENCH_ARGS ?= --clients 2000 --rate 5 --burst 100 --idle 19000 --stock --client-sim --instances
bench: $(PY_STAMP)
	ulimit -n $$(ulimit -Hn) && $(BIN)/python bench/fanout.py $(BENCH_ARGS)

## TypeScript types for clients from the server's pydantic schemas (commit the result).
types: $(PY_STAMP) $(SDK_STAMP)
	$(BIN)/python scripts/gen_ts_types.py

## The browser SDK bundle sdk/dist/feltsync.js, after its types (commit the result).
sdk: types
	cd sdk && npx tsc --noEmit && npm run --silent build

migrate: $(PY_STAMP)
	$(BIN)/feltsync migrate

check-config: $(PY_STAMP)
	$(BIN)/feltsync check-config

clean:
	rm -rf $(VENV) node_modules sdk/node_modules .pytest_cache test-artifacts
