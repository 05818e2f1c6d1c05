# govsig developer loop. `make help` lists the targets.
#
# Every target that runs Python first makes `.venv` in the checkout (reused when present) with
# the test dependencies and govsig's source tree on its path, and the system packages the tests
# need (scripts/setup-system.sh: apt when root, else the command to run). A fresh machine
# needs only Rust and CPython.
SYSPY ?= python3
VENV ?= .venv
PY := $(CURDIR)/$(VENV)/bin/python
SETUP := $(VENV)/.govsig-setup
CARGO ?= cargo
export PYTHONPATH := $(CURDIR)/python:$(CURDIR)/tests
EXT := python/govsig/_govsig.abi3.so

.PHONY: help setup dev build-dev build-prod wheel test test-rust test-python bench bench-save bench-compare lint demo fuzz all clean

help: ## this list
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

setup: $(SETUP) ## .venv with the test dependencies, and the system packages the tests need

$(SETUP): requirements-dev.txt pyproject.toml scripts/setup-system.sh
	SYSPY=$(SYSPY) bash scripts/setup-system.sh
	test -x $(PY) || $(SYSPY) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	@# govsig itself comes from the checkout (built in place by `make dev`), as an editable
	@# install would: the venv's interpreter imports it without PYTHONPATH.
	$(PY) -c 'import sysconfig, pathlib; pathlib.Path(sysconfig.get_paths()["purelib"], "govsig-checkout.pth").write_text("$(CURDIR)/python\n")'
	touch $@

dev: ## build the extension (release) in place under python/govsig
	$(CARGO) build --release -p govsig-py
	cp target/release/lib_govsig.so $(EXT).tmp && mv -f $(EXT).tmp $(EXT)

build-dev: dev ## alias of dev

wheel: $(SETUP) ## manylinux abi3 wheel into dist/ (maturin checks manylinux compliance); installs without Rust
	rm -f dist/govsig-*.whl
	$(PY) -m maturin build --release --strip --out dist

build-prod: wheel ## alias of wheel

test-rust: ## cargo tests of the pure crates (optimised, overflow checks on)
	$(CARGO) test --profile test-release --workspace --exclude govsig-py

test-python: $(SETUP) dev ## pytest suite
	$(PY) -m pytest tests

test: test-rust fuzz-smoke test-python ## everything CI runs (pytest last: its summary closes the run)

# Bench runs time whole corpora (and sign them once, on first use): longer than the test
# timeout in pyproject. GOVSIG_BENCH_SCALE=0.05 shrinks them; see benches/README.md.
BENCH := $(PY) -m pytest benches --benchmark-enable -p no:cacheprovider -s --timeout=3600

bench: export OPENBLAS_NUM_THREADS = 1
bench: $(SETUP) dev ## benches side by side with their peers; prints ratios
	$(BENCH)

bench-save: $(SETUP) dev ## run benches and store a baseline in .benchmarks/
	$(BENCH) --benchmark-save=baseline

bench-compare: $(SETUP) dev ## fail when a bench regresses >15% (median) against the saved baseline
	@ls .benchmarks/*/[0-9][0-9][0-9][0-9]_*.json >/dev/null 2>&1 || { echo "bench-compare:" \
	  "no saved baseline in .benchmarks/; run 'make bench-save' first (same GOVSIG_BENCH_SCALE)" >&2; \
	  exit 2; }
	$(BENCH) --benchmark-compare --benchmark-compare-fail=median:15%

lint: $(SETUP) ## rustfmt, clippy, mypy --strict, mypy stubtest
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --release --workspace -- -D warnings
	$(PY) -m mypy --strict python/govsig
	$(PY) -m mypy.stubtest govsig._govsig --allowlist tests/stubtest-allowlist.txt

demo: $(SETUP) dev ## generate a signed archive and verify it in bulk
	$(PY) scripts/demo.py

# Fuzzing (fuzz/README.md): libFuzzer on stable Rust, no cargo-fuzz. The targets are built
# with the coverage instrumentation cargo-fuzz would pass (no sanitizer: govsig-core forbids
# unsafe); --target keeps the flags off build scripts and proc macros. Each target runs on
# fuzz/corpus/<target>, seeded by fuzz/seed.py; crashes land in fuzz/artifacts/<target>/.
FUZZ_SECONDS ?= 120
FUZZ_SMOKE_SECONDS ?= 10
FUZZ_TARGETS ?= $(sort $(basename $(notdir $(wildcard fuzz/fuzz_targets/*.rs))))
FUZZ_RUSTFLAGS := -Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
  -Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
  -Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Cdebug-assertions -Coverflow-checks
# Runs every target for $(1) seconds, one after another; reports all failing targets, not
# only the first. -timeout makes an input that hangs a finding too.
define fuzz_run
	@set -e; T=$$(rustc -vV | sed -n 's/host: //p'); \
	(cd fuzz && RUSTFLAGS="$(FUZZ_RUSTFLAGS)" $(CARGO) build --release --target $$T); \
	$(PY) fuzz/seed.py fuzz/corpus; failed=; set +e; \
	for t in $(FUZZ_TARGETS); do \
	  mkdir -p fuzz/corpus/$$t fuzz/artifacts/$$t && echo "== $$t ($(1) s)" && \
	  fuzz/target/$$T/release/$$t fuzz/corpus/$$t -max_total_time=$(1) -timeout=30 \
	    -artifact_prefix=fuzz/artifacts/$$t/ -print_final_stats=1 2>fuzz/artifacts/$$t.log; \
	  rc=$$?; grep -E '^(#[0-9]+.*DONE|stat::number_of_executed_units|stat::average_exec_per_sec)' fuzz/artifacts/$$t.log; \
	  if [ $$rc -ne 0 ]; then tail -40 fuzz/artifacts/$$t.log; failed="$$failed $$t"; fi; \
	done; \
	if [ -n "$$failed" ]; then echo "fuzz: failing targets:$$failed (inputs in fuzz/artifacts/)" >&2; exit 1; fi
endef

.PHONY: fuzz-smoke
fuzz: $(SETUP) ## fuzz every target for FUZZ_SECONDS each (default 120), one after another
	$(call fuzz_run,$(FUZZ_SECONDS))

fuzz-smoke: $(SETUP) ## build the fuzz targets and run each for FUZZ_SMOKE_SECONDS (default 10): part of make test
	$(call fuzz_run,$(FUZZ_SMOKE_SECONDS))

all: lint test

clean: ## remove build output and .venv
	$(CARGO) clean
	rm -rf $(EXT) $(VENV)
