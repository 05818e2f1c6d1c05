# govsig developer loop. `make help` lists the targets.
PY ?= python3
CARGO ?= cargo
export PYTHONPATH := $(CURDIR)/python:$(CURDIR)/tests
EXT := python/govsig/_govsig.abi3.so

.PHONY: help dev build-dev build-prod test test-rust test-python bench bench-save bench-compare lint demo fuzz all clean

help: ## this list
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

dev: ## build the extension (release) in place under python/govsig
	$(CARGO) build --release -p govsig-py
	cp target/release/lib_govsig.so $(EXT)

build-dev: dev ## alias of dev

build-prod: ## build a release wheel into dist/
	$(PY) -m maturin build --release --out dist

test-rust: ## cargo tests of the pure crates (release: crypto is slow in debug)
	$(CARGO) test --release --workspace --exclude govsig-py

test-python: dev ## pytest suite
	$(PY) -m pytest tests

test: test-rust test-python ## everything CI runs

bench: dev ## benches side by side with their peers; prints ratios
	$(PY) -m pytest benches --benchmark-enable -p no:cacheprovider -s

bench-save: dev ## run benches and store a baseline in .benchmarks/
	$(PY) -m pytest benches --benchmark-enable -s --benchmark-save=baseline

bench-compare: dev ## fail when a bench regresses >15% (median) against the saved baseline
	$(PY) -m pytest benches --benchmark-enable -s --benchmark-compare --benchmark-compare-fail=median:15%

lint: ## rustfmt, clippy, mypy stubtest
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --release --workspace -- -D warnings
	$(PY) -m mypy.stubtest govsig._govsig

demo: dev ## generate a signed archive and verify it in bulk
	$(PY) scripts/demo.py

all: lint test

clean:
	$(CARGO) clean
	rm -f $(EXT)
