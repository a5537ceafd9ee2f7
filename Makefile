# lab: build, test, and the day-two commands of the lab.
SHELL := /bin/bash
GO ?= go
LAB_FILE ?= lab.hcl
PLUGINS := $(patsubst plugins/%/go.mod,%,$(wildcard plugins/*/go.mod))
BIN := bin
# Stripped binaries: a plugin launches faster when there is less to map. No -trimpath: it
# would compile every package again beside the tests' builds, doubling a cold `make test`.
GOFLAGS_BUILD ?= -ldflags "-s -w"
# No cgo, for every go command here (so tests share the build's compiled packages): lab
# needs none, and with cgo the linker keeps every exported method (Helm's kustomize imports
# package plugin), which made lab 99 MB instead of 75 and every lab process 25-30 MB bigger.
export CGO_ENABLED := 0

.PHONY: all build test testbin unit e2e bench proto chartkeys fmt vet clean up demo

all: build

## build: ./bin/lab, and ./bin/lab-plugins, which carries every first-party stack, with a link
## lab-plugin-<name> to it per stack: started under that name, it is that stack's plugin process
build:
	@mkdir -p $(BIN)
	$(GO) build $(GOFLAGS_BUILD) -o $(BIN)/ ./cmd/lab ./cmd/lab-plugins
	@for p in $(PLUGINS); do ln -sfn lab-plugins $(BIN)/lab-plugin-$$p; done

## testbin: the kwok test cluster's binaries, built once from the Go module proxy
testbin:
	tools/testcluster/build.sh >/dev/null

## test: every test, against a real (kwok-simulated) Kubernetes API server
test: testbin build
	$(GO) test -count=1 -timeout 60m ./core/... ./cmd/... $(addprefix ./plugins/,$(addsuffix /...,$(PLUGINS))) ./examples/motd/... ./e2e/...

## standins: the stand-in k3d node images the k3d tests run where no image can be pulled
.PHONY: standins
standins: testbin
	tools/k3dstandin/build.sh

## up: build and bring the lab of lab.hcl up
up: build
	./$(BIN)/lab apply $(LAB_FILE)

## demo: the lab on a kwok-simulated cluster with the test charts: no Docker, no internet
demo: testbin build
	./$(BIN)/lab apply examples/kwok-demo.hcl

## bench: one table of issue 14's figures (no-op apply of the full lab against helm, peak
## memory, parallel launch, 50 stacks, footprint) on kwok; LAB_BENCH_OLD_BIN: an old bin/
bench: testbin
	tools/testcluster/build.sh helm >/dev/null
	$(GO) test -run '^$$' -bench . -benchtime 1x -count 1 -timeout 60m ./e2e/bench/

## proto: regenerate the plugin protocol's Go code
proto:
	$(GO) install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
	$(GO) install google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.2
	PATH="$$($(GO) env GOPATH)/bin:$$PATH" protoc -I core/proto \
		--go_out=core/proto --go_opt=paths=source_relative \
		--go-grpc_out=core/proto --go-grpc_opt=paths=source_relative core/proto/labv1/lab.proto

## chartkeys: refresh the charts' key lists from the reference charts in ../shared/refs
chartkeys:
	@for d in ../shared/refs/charts/*/; do \
		[ -f $$d/values.yaml ] || continue; \
		v=$$(awk '/^version:/{print $$2}' $$d/Chart.yaml); n=$$(awk '/^name:/{print $$2}' $$d/Chart.yaml); \
		$(GO) run ./core/helm/chartkeys/cmd/chartkeys $$d > core/helm/chartkeys/keys/$$n-$$v.keys; done

fmt:
	gofmt -w $$(git ls-files '*.go' | grep -v '\.pb\.go$$')
	./$(BIN)/lab fmt $(LAB_FILE)

vet:
	$(GO) vet ./core/... ./cmd/... $(addprefix ./plugins/,$(addsuffix /...,$(PLUGINS)))

clean:
	rm -rf $(BIN)

# Day-two targets, under the names the team already types.
LAB := ./$(BIN)/lab
NAMESPACE ?=
SERVICE ?=
ARCHIVE ?=
.PHONY: status top logs dashboard grafana kibana argocd prometheus harbor backup restore restart troubleshoot hosts destroy

status: ; $(LAB) status $(LAB_FILE)
top: ; $(LAB) top -f $(LAB_FILE)
logs: ; $(LAB) logs -f $(LAB_FILE) $(if $(NAMESPACE),-n $(NAMESPACE)) $(SERVICE)
dashboard: ; $(LAB) open -f $(LAB_FILE)
grafana kibana argocd prometheus harbor: ; $(LAB) open -f $(LAB_FILE) $@
backup: ; $(LAB) backup -f $(LAB_FILE) $(if $(ARCHIVE),--to $(ARCHIVE))
restore: ; $(LAB) restore -f $(LAB_FILE) $(ARCHIVE)
restart: ; $(LAB) restart $(LAB_FILE)
troubleshoot: ; $(LAB) troubleshoot -f $(LAB_FILE)
hosts: ; sudo $(LAB) hosts sync -f $(LAB_FILE)
destroy: ; $(LAB) destroy $(LAB_FILE)
