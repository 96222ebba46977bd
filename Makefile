# Developer and CI entry points. `make help` lists them.
GO        ?= go
# Hand-written packages: everything but the generated client.
HANDWRITTEN = $(shell $(GO) list ./... | grep -v '/gen$$')

.PHONY: help generate check-generated strict test lint stress bench fuzz ci

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

generate: ## convert api/swagger.json and regenerate gen/
	$(GO) generate ./...

GENERATED = api gen internal/routes

check-generated: generate ## regenerate and fail if api/, gen/ or the route table changed
	@if [ -n "$$(git status --porcelain -- $(GENERATED))" ]; then \
		echo "go generate ./... changed generated files; commit them:"; \
		git status --porcelain -- $(GENERATED); git --no-pager diff --stat -- $(GENERATED); exit 1; \
	fi

strict: ## convert in strict mode: every fix-up must still repair something upstream
	$(GO) run ./internal/cmd/specconv -strict -check -in api/swagger.json -out api/openapi.yaml

test: ## the test suite, with the race detector
	$(GO) test -race ./...

lint: ## go vet, gofmt and staticcheck
	$(GO) vet ./...
	@unformatted="$$(gofmt -l $$(git ls-files '*.go'))"; \
		if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) run honnef.co/go/tools/cmd/staticcheck $(HANDWRITTEN)

stress: ## STRESS_RUNS (3) concurrent `go test -race -count=STRESS_COUNT` (2) runs of STRESS_PKGS (./...)
	bash .ci/stress

bench: ## benchmarks with allocation counts
	$(GO) test -run '^$$' -bench . -benchmem ./...

fuzz: ## run each fuzz target for FUZZTIME (default 30s)
	$(GO) test -run '^$$' -fuzz FuzzUnmarshalJSON -fuzztime $${FUZZTIME:-30s} ./pkg/hordetime/

ci: ## what .ci/run runs
	bash .ci/run
