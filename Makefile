# surge — the two commands that matter are `make demo` and `make test`.
SHELL := /bin/bash
GO ?= go
BIN := bin/surge
OUT := out
VENV := .venv
PY := $(VENV)/bin/python
SAMPLE := testdata/sample
# The demo's scrub key: a real deployment keeps its own secret key
# (config scrub.key or SURGE_SCRUB_KEY).
DEMO_KEY ?= surge-demo-key
FUZZTIME ?= 60s

.PHONY: all build install demo demo-kickoff test test-go interop lint vet fmt-check bench fuzz sample clean browser-deps

all: build

# -buildvcs=auto: surge version names the commit even where GOFLAGS turns
# VCS stamping off.
build:
	$(GO) build -buildvcs=auto -o $(BIN) ./cmd/surge

## install: surge into $(go env GOBIN) or ~/go/bin, to run from anywhere.
install:
	$(GO) install -buildvcs=auto ./cmd/surge

## demo: import the bundled match-night sample, inspect it, and replay it at
## 3x (30x faster) against the built-in demo platform on 127.0.0.1 (no servers
## to install; about a minute). Ends by writing out/demo/report.html.
demo: build
	@rm -rf $(OUT)/demo && mkdir -p $(OUT)/demo
	SURGE_SCRUB_KEY=$(DEMO_KEY) $(BIN) import nginx --config configs/capture.yaml \
		--log-format @$(SAMPLE)/match-night.format $(SAMPLE)/match-night.log.gz -o $(OUT)/demo/match-night.parquet
	$(BIN) inspect $(OUT)/demo/match-night.parquet
	$(BIN) demo --from $(OUT)/demo/match-night.parquet --ratio 3 --speed 30 \
		--results $(OUT)/demo/results.parquet --summary-json $(OUT)/demo/summary.json \
		--html $(OUT)/demo/report.html
	@echo "HTML report (opens offline): $(abspath $(OUT)/demo/report.html)"

## demo-kickoff: the match night reshaped as a live event surges
## (configs/kickoff-surge.yaml, docs/SHAPING.md): live viewing 10x from kickoff,
## a half-time browsing spike, a key-moment exit to the home page. Imports the
## sample first when make demo has not.
demo-kickoff: build
	@test -f $(OUT)/demo/match-night.parquet || { mkdir -p $(OUT)/demo && SURGE_SCRUB_KEY=$(DEMO_KEY) $(BIN) import nginx --config configs/capture.yaml \
		--log-format @$(SAMPLE)/match-night.format $(SAMPLE)/match-night.log.gz -o $(OUT)/demo/match-night.parquet; }
	$(BIN) demo --config configs/kickoff-surge.yaml --dry-run
	$(BIN) demo --config configs/kickoff-surge.yaml --results $(OUT)/demo/kickoff-results.parquet --force

## test: everything — vet, format, unit/integration tests with -race (fuzz
## seed corpora included), and the DuckDB/pyarrow interop test. Integration
## tests use a real Kafka broker that scripts/with-kafka.sh starts (and stops);
## scripts/newcomer.sh then tries the README's first steps in a fresh clone.
test: vet fmt-check interop-deps browser-deps
	SURGE_PYTHON=$(abspath $(PY)) scripts/with-kafka.sh $(GO) test -race -count=1 -timeout 25m ./...
	@# The 24 h synth test writes 2.2M events: minutes under -race, which
	@# skips it; it runs here without (profile/synth_test.go).
	$(GO) test -count=1 -run 'TestSynth24hFromSample' ./profile
	scripts/newcomer.sh

vet:
	$(GO) vet ./...
	$(GO) vet ./$(SAMPLE)/gen
	@# The shell scripts parse (make bench is not run by make test: a syntax
	@# error there would otherwise go unseen until someone benches).
	@for f in scripts/*.sh .ci/run; do bash -n "$$f" || exit 1; done

fmt-check:
	@bad=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$bad" ]; then echo "gofmt needed:"; echo "$$bad"; exit 1; fi

lint: vet fmt-check

## interop-deps: a virtualenv with pyarrow and duckdb (idempotent).
interop-deps: $(VENV)/.ok

$(VENV)/.ok: scripts/requirements.txt
	scripts/install-python.sh $(VENV) scripts/requirements.txt
	@touch $@

## browser-deps: Debian's chromium for the HTML report's headless browser
## test (idempotent; the test skips, loudly, only where it cannot install).
browser-deps:
	scripts/install-chromium.sh

## bench: benchmarks recorded in docs/BENCHMARKS.md.
bench: build
	scripts/bench.sh

## fuzz: every fuzz target for FUZZTIME each.
fuzz:
	scripts/fuzz.sh $(FUZZTIME)

## sample: regenerate the bundled sample (deterministic).
sample:
	$(GO) run ./$(SAMPLE)/gen -out $(SAMPLE)

clean:
	rm -rf bin $(OUT)
