# livecheck — `make run` to start the product, `make test` to test it.
# Both prepare the machine first (Debian packages, PostgreSQL, databases): scripts/setup.sh.

GO        ?= go
BIN       := bin/livecheck
export LIVECHECK_DATABASE_URL ?= postgres://livecheck:livecheck@127.0.0.1:5432/livecheck?sslmode=disable
export TEST_DATABASE_URL      ?= postgres://livecheck:livecheck@127.0.0.1:5432/livecheck_test?sslmode=disable
# OpenCV's own thread pool only oversubscribes the two cores; sessions run in parallel instead.
export OPENCV_FOR_THREADS_NUM ?= 1

.PHONY: all setup build run test test-short vet bench redteam fuzz screenshots clean

all: build

setup:
	@bash scripts/setup.sh

build:
	$(GO) build -o $(BIN) ./server

run: setup build
	@echo "==> livecheck on http://localhost:8080 (Ctrl+C stops it)"
	./$(BIN) serve

vet:
	$(GO) vet ./...

# The whole suite, browser tests included. -p 1: browser tests and the media
# pipeline share two cores; one package at a time keeps them from starving each other.
test: setup vet
	$(GO) test -p 1 -count=1 -timeout 40m ./...
	# every gocv Mat of the vision pipeline is closed
	$(GO) test -count=1 -tags matprofile ./internal/vision/
	$(GO) test -count=1 -tags matprofile -run MatProfile ./internal/faceid/

test-short:
	$(GO) test -p 1 -count=1 -short ./...

# Go micro-benchmarks (-benchmem), then `livecheck loadgen` against a local server
# at N = 1, 5, 10, 20, 30, 40 interviews, full pipeline and decode-only floor: one
# capacity table, also written into docs/BENCH.md (scripts/bench.sh has the knobs).
bench: setup build
	@GO=$(GO) BIN=$(BIN) bash scripts/bench.sh

# Simulated honest candidates and attackers over real WebRTC against a local server:
# the scenario table (APCER/BPCER, challenge pass rates), also written into
# docs/REDTEAM.md (scripts/redteam.sh has the knobs: REDTEAM_RUNS, REDTEAM_SCENARIOS, ...).
redteam: setup build
	@BIN=$(BIN) bash scripts/redteam.sh

# The tour of every page (internal/e2e TestTour) at 1280x900 and 390 px wide,
# as PNG files in screenshots/ (git-ignored); it fails on console errors, CSP
# violations and a missing icon, as it does in `make test`.
screenshots: setup
	rm -rf screenshots
	LIVECHECK_SCREENSHOTS=$(CURDIR)/screenshots $(GO) test -count=1 -timeout 20m -run '^TestTour$$' ./internal/e2e/
	@echo "==> screenshots in $(CURDIR)/screenshots"

FUZZTIME ?= 60s
fuzz:
	@bash scripts/fuzz.sh $(FUZZTIME)

clean:
	rm -rf bin
