# asana_exporter: see README.md. `make test` runs every test; `make demo`
# runs the exporter on a simulated Asana organisation.
GO       ?= go
BIN      := asana_exporter
PKG      := github.com/prometheus/common/version
VERSION  ?= $(shell cat VERSION)
REVISION ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
BRANCH   ?= $(shell git rev-parse --abbrev-ref HEAD 2>/dev/null || echo unknown)
LDFLAGS  := -s -w -X $(PKG).Version=$(VERSION) -X $(PKG).Revision=$(REVISION) -X $(PKG).Branch=$(BRANCH) \
            -X $(PKG).BuildUser=$(shell id -un) -X $(PKG).BuildDate=$(shell date -u +%Y%m%d-%H:%M:%S)
DEMO_ADDRESS ?= 127.0.0.1:9861
# The Helm chart's default image too (image.repository, and its appVersion
# is VERSION); a test keeps them the same.
IMAGE    ?= asana_exporter:$(VERSION)
STATICCHECK_VERSION := v0.7.0
GOVULNCHECK_VERSION := v1.9.0
export GOVULNCHECK_VERSION

.PHONY: all build test test-unit test-e2e test-deps demo bench soak fuzz lint vulncheck docker chart docs clean

all: lint build test

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) .

# Every test: the exporter's module (Go only), then test/e2e (the built
# exporter with Prometheus, promtool, Alertmanager, amtool, Asana's Node
# client and Chromium, which test-deps installs when missing). Each micro-benchmark runs
# once too, so that one whose checks have gone stale fails here and not only
# in make bench.
test: test-unit test-e2e

test-unit:
	$(GO) test -race -count=1 -bench . -benchtime 1x ./...

# The e2e tests run the exporter built with the race detector; under
# CI=true a missing tool fails a test instead of skipping it. Then the
# benchmark harness runs once on its quick cases, so that its checks (the
# published counts, the roster's rows, the Node client's counts, every
# helper process) hold in CI too; its figures mean nothing with the race
# detector, and make bench is where they are measured. The audit log's
# backfill case is not among them: its 8,907 requests need 6 minutes of
# Asana's request budget.
TEST_BENCH_CASES := 1k,roster-10k
RACE_BIN := .build/$(BIN)-race
test-e2e: test-deps
	$(GO) build -race -o $(RACE_BIN) .
	cd test/e2e && ASANA_EXPORTER_BINARY=../../$(RACE_BIN) CI=$${CI:-true} \
		$(GO) test -race -count=1 -parallel 16 -bench . -benchtime 1x -skip '^BenchmarkEndToEnd$$' ./...
	cd test/e2e && ASANA_EXPORTER_BINARY=../../$(RACE_BIN) ASANA_BENCH_CASES=$(TEST_BENCH_CASES) ASANA_BENCH_REPEATS=1 \
		$(GO) test -count=1 -run '^$$' -bench '^BenchmarkEndToEnd$$' -benchtime 1x .

test-deps:
	scripts/install-test-deps.sh

demo: build
	./$(BIN) --demo --web.listen-address=$(DEMO_ADDRESS)

# Thousands of collections with random faults per refresh mode, without the
# race detector (make test runs a short one with it).
SOAK_CYCLES ?= 5000
soak:
	ASANA_SOAK_CYCLES=$(SOAK_CYCLES) $(GO) test -count=1 -run '^TestSoak$$' -v -timeout 60m ./internal/exporter

# Each fuzz target for FUZZTIME (go test -fuzz takes one target at a time),
# a duration or a count such as 60000x. .ci/run runs a short count; run
# longer ones locally, e.g. FUZZTIME=10m. A duration run that ends in a
# bare "context deadline exceeded" and writes no failing input is Go 1.26's
# coordinator (golang/go#75804), not a finding.
FUZZTIME ?= 10s
FUZZ_TARGETS := asana:FuzzDecodeClassifyPage asana:FuzzDecodeMembershipRecords asana:FuzzDecodeAuditPage asana:FuzzDecodeSingleRecord asana:FuzzAPIError asana:FuzzParseRetryAfter asana:FuzzBodyLimits config:FuzzParse internal/reconcile:FuzzReadConsole internal/reconcile:FuzzParseActivity internal/auditlog:FuzzReadState internal/reclaim:FuzzReadPlan internal/reclaim:FuzzReadExclusions internal/reclaim:FuzzReadJournal
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		echo "fuzz: $${t#*:} in ./$${t%%:*} for $(FUZZTIME)"; \
		$(GO) test -run '^$$' -fuzz "^$${t#*:}$$" -fuzztime $(FUZZTIME) ./$${t%%:*}; \
	done

# The Go micro-benchmarks, then the end-to-end harness of BENCHMARKS.md: the
# built exporter and Asana's Node client against the simulator at 50 ms a
# request. All cases take about 49 minutes a run, 2 hours 35 minutes with
# the 3 runs; BENCH_CASES=1k,10k BENCH_REPEATS=1 takes 2 minutes.
BENCH_CASES ?=
# Each case runs BENCH_REPEATS times; the figures are the medians, and the
# log gives every ratio's range.
BENCH_REPEATS ?= 3
bench: test-deps
	$(GO) test -run '^$$' -bench . -benchmem ./...
	cd test/e2e && ASANA_BENCH_CASES=$(BENCH_CASES) ASANA_BENCH_REPEATS=$(BENCH_REPEATS) $(GO) test -run '^$$' -bench '^BenchmarkEndToEnd$$' -benchtime 1x -timeout 240m -v .

lint: vulncheck
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) mod tidy -diff
	cd test/e2e && $(GO) mod tidy -diff
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...
	cd test/e2e && $(GO) vet ./... && $(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...

# govulncheck against GOVULNDB (default https://vuln.go.dev); see the script
# for what happens when the database is unreachable.
vulncheck:
	scripts/vulncheck.sh

# The image runs make build too, with this checkout's version, revision and
# branch (promu, the ecosystem's build tool, is not on the module proxy
# here; LDFLAGS above stamps what its .promu.yml would).
# The chart carries the rules and dashboards as files of its own (Helm
# reads no file outside the chart); copy them after changing either. A test
# fails while they differ.
chart:
	cp alerts/asana_rules.yml charts/asana-exporter/files/asana_rules.yml
	cp dashboards/*.json charts/asana-exporter/files/dashboards/

# The parts of the docs generated from the code: the package map
# (docs/DEVELOPMENT.md), the flags reference (docs/FLAGS.md) and the metrics
# reference (docs/METRICS.md). make test fails while the committed ones are
# stale.
docs:
	$(GO) test -count=1 -run '^(TestArchitectureIsDocumented|TestFlagsReferenceIsCurrent)$$' . -update
	cd test/e2e && $(GO) test -count=1 -run '^TestMetricsReferenceIsCurrent$$' . -update

docker:
	docker build --build-arg VERSION=$(VERSION) --build-arg REVISION=$(REVISION) --build-arg BRANCH=$(BRANCH) -t $(IMAGE) .

clean:
	rm -rf $(BIN) .build
