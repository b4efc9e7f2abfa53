# codebridge — two commands on a fresh machine: `make run` and `make test`.
GO      ?= go
BIN     := bin/codebridge
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)

.PHONY: build run test vet fmt bench lint clean

build:
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/codebridge

## run: the batteries-included local mode (PostgreSQL found or started, embedded Kafka, sample data)
run: build
	./$(BIN) dev

## test: vet, then every test on a real PostgreSQL (CI=true makes a missing database a failure)
test:
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { echo "gofmt needed:"; gofmt -l .; exit 1; }
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 15m ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin
