# taskmaster: `make run` runs the example config in the foreground shell,
# `make test` runs every check CI runs.
GO      ?= go
BIN     := bin
# A static binary: the worker re-execs it, and os/user needs no libc.
BUILD   := CGO_ENABLED=0 $(GO) build -trimpath

.PHONY: all build run test bench fuzz clean

all: build

build:
	$(BUILD) -o $(BIN)/taskmaster ./cmd/taskmaster
	$(BUILD) -o $(BIN)/tm-worker ./cmd/tm-worker

run: build
	$(BIN)/taskmaster -c examples/taskmaster.yaml

# gofmt and vet first: they are fast and their failures are the clearest.
test:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt: not formatted:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 9m ./...

# Benchmarks against Debian's supervisord (installed here if missing; the
# benchmarks print "supervisord: not available" and go on without it).
# The last table is issue 12's figures, side by side. Knobs (see
# cmd/taskmaster/bench_test.go): TM_BENCH_ONLY=start,status,... a subset,
# TM_BENCH_N=200 fewer programs, TM_BENCH_ROUNDS (3), TM_BENCH_IDLE (10s),
# TM_BENCH_RESTARTS (31), TM_BENCH_POLL=1 polls instead of the kernel's
# process events. About 10 minutes on 2 quiet cores.
bench:
	-command -v supervisord >/dev/null || (apt-get update -qq && apt-get install -y -qq supervisor) || echo "supervisord: not available"
	$(GO) test -run '^$$' -bench . -benchtime 1x -timeout 40m ./cmd/taskmaster

# Longer fuzzing than the seed corpus `make test` runs.
FUZZTIME ?= 60s
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzDecode -fuzztime $(FUZZTIME) ./ipc
	$(GO) test -run '^$$' -fuzz FuzzParse -fuzztime $(FUZZTIME) ./config
	$(GO) test -run '^$$' -fuzz FuzzQuickGlobal -fuzztime $(FUZZTIME) ./config
	$(GO) test -run '^$$' -fuzz FuzzDecodeKey -fuzztime $(FUZZTIME) ./lineedit
	$(GO) test -run '^$$' -fuzz FuzzDecodeCall -fuzztime $(FUZZTIME) ./master/xmlrpc
	$(GO) test -run '^$$' -fuzz FuzzImport -fuzztime $(FUZZTIME) ./config/supervisord

clean:
	rm -rf $(BIN) examples/run examples/*.log
