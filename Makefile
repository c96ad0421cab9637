# Human interface to the project: see README.md.
SHELL := bash
GO ?= go

# make run: server mode on the embedded local sinks.
DEV_TOKEN ?= local-dev-token
LISTEN_ADDR ?= 127.0.0.1:8080
LOCAL_DIR ?= .local

# Test tools: a project-local Python environment with moto, and the AWS
# Lambda Runtime Interface Emulator, both kept between runs.
PYTHON ?= python3
VENV := .venv
TOOLS := $(CURDIR)/.tools/bin
RIE_VERSION := v0.0.0-20261030222936-bef5c4ba774d
RIE := $(TOOLS)/aws-lambda-rie-$(RIE_VERSION)

# The Lambda build: what `sam build` runs for the deployed arm64 function,
# and what the tests run for this machine's architecture.
GOARCH ?= arm64
BOOTSTRAP_DIR ?= bin/lambda
LAMBDA_FLAGS := -tags lambda.norpc -trimpath -ldflags='-s -w'

# SAM: from the project's environment, without telemetry.
SAM := SAM_CLI_TELEMETRY=0 $(CURDIR)/$(VENV)/bin/sam
CFN_LINT := $(CURDIR)/$(VENV)/bin/cfn-lint
SAM_ENV ?= default
EVENT ?= events/http-api-multipart.json

.PHONY: run test fuzz load bench lint build build-local bootstrap build-CallbackFunction build-AssemblerFunction build-ReconcilerFunction reconcile deploy invoke clean tools

run: build-local
	@echo
	@echo "Callback receiver on http://$(LISTEN_ADDR), storing under $(LOCAL_DIR)/. Send a sample callback:"
	@echo
	@echo "  curl -sS -H 'Authorization: Bearer $(DEV_TOKEN)' \\"
	@echo "    -F 'transcript=@internal/callback/testdata/transcript-json-v2-example.json;type=application/json' \\"
	@echo "    -F 'jobinfo=@internal/callback/testdata/jobinfo.json;type=application/json' \\"
	@echo "    -F 'data=@internal/callback/testdata/media.wav;type=audio/wav' \\"
	@echo "    'http://$(LISTEN_ADDR)/callback?id=r6sr3jlzjj&status=success'"
	@echo
	@AUTH_HEADERS='Authorization: Bearer $(DEV_TOKEN)' LISTEN_ADDR='$(LISTEN_ADDR)' LOCAL_DIR='$(LOCAL_DIR)' ./bin/callback

# The SAM build lands in a folder of its own, so that the tests check what
# `sam build` really produced.
SAM_TEST_BUILD := $(CURDIR)/.aws-sam/test-build

# Fuzz targets, as package:Target; `make test` runs each for FUZZ_SHORT,
# `make fuzz` for FUZZTIME.
FUZZ_TARGETS := ./internal/callback:FuzzQuery ./internal/callback:FuzzMultipart ./internal/callback:FuzzBody \
	./internal/apigateway:FuzzDecode ./internal/apigateway:FuzzFastDecode
FUZZ_SHORT := 5s
FUZZTIME ?= 5m

test: tools lint
	rm -rf $(SAM_TEST_BUILD)
	$(SAM) build --build-dir $(SAM_TEST_BUILD) --no-cached
	MOTO_SERVER=$(CURDIR)/$(VENV)/bin/moto_server AWS_LAMBDA_RIE=$(RIE) SAM_BUILD_DIR=$(SAM_TEST_BUILD) \
		$(GO) test -race -count=1 -timeout 8m ./...
	$(MAKE) -s fuzz FUZZTIME=$(FUZZ_SHORT)

# The long form of the load test: LOAD_REQUESTS callbacks against server
# mode with S3 and SQS in moto.
LOAD_REQUESTS ?= 3000
load: tools
	MOTO_SERVER=$(CURDIR)/$(VENV)/bin/moto_server LOAD_REQUESTS=$(LOAD_REQUESTS) \
		$(GO) test -count=1 -run '^TestLoad$$' -v -timeout 30m ./functions/callback | grep -E '^(\s+load_test.go|---|ok|FAIL)'

fuzz:
	@for target in $(FUZZ_TARGETS); do \
		pkg=$${target%%:*} name=$${target##*:}; \
		echo "fuzz $$name ($$pkg) for $(FUZZTIME)"; \
		fuzz() { $(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) $$pkg 2>&1; }; \
		out=$$(fuzz) || { echo "$$out" | grep -v '^fuzz: elapsed'; echo "fuzz $$name failed: once more (a failing input found is kept in testdata/fuzz and fails again)"; out=$$(fuzz); } \
			|| { echo "$$out" | grep -v '^fuzz: elapsed'; exit 1; }; \
		echo "$$out" | grep -E 'execs: [0-9]+ \(' | tail -1; \
	done

tools: $(VENV)/.installed $(RIE)

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(RIE):
	mkdir -p $(TOOLS)
	GOBIN=$(TOOLS) $(GO) install github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@$(RIE_VERSION)
	mv $(TOOLS)/aws-lambda-rie $@

# The cold-start comparisons: COLDSTART_RUNS inits each of the bootstrap, as
# deployed, and of a hello-world, under the emulator; medians and their ratio.
# Then what tracing adds to the init: hello-worlds that read a secret, bare,
# with internal/xray and with aws-xray-sdk-go.
COLDSTART_RUNS ?= 15
# The streaming test's media size in make bench (make test sends 64 MiB).
STREAM_BYTES ?= 1073741824
bench: tools
	$(GO) test -run '^$$' -bench . -skip '^Benchmark(Tracing)?ColdStart$$' -benchmem ./...
	MOTO_SERVER=$(CURDIR)/$(VENV)/bin/moto_server AWS_LAMBDA_RIE=$(RIE) COLDSTART_RUNS=$(COLDSTART_RUNS) \
		$(GO) test -run '^$$' -bench '^Benchmark(Tracing)?ColdStart$$' -benchtime 1x ./functions/callback
	MOTO_SERVER=$(CURDIR)/$(VENV)/bin/moto_server STREAM_BYTES=$(STREAM_BYTES) \
		$(GO) test -count=1 -timeout 30m -run '^TestServerStreamsLargeMedia$$' -v ./functions/callback | grep -E '^(\s+stream_test.go|---|ok|FAIL)'


lint: tools
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt would change: $$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(CFN_LINT) template.yaml
	$(SAM) validate --lint --region us-east-1

# The Lambda package, as `sam deploy` uploads it.
build: tools
	$(SAM) build --config-env $(SAM_ENV)

deploy: build
	$(SAM) deploy --config-env $(SAM_ENV)

# Runs one event through the real bootstrap under the Lambda Runtime
# Interface Emulator, against moto unless BUCKET_NAME and QUEUE_URL say
# otherwise: make invoke EVENT=events/http-api-transcript-srt.json
invoke: tools
	$(MAKE) -s bootstrap GOARCH=$$($(GO) env GOARCH) BOOTSTRAP_DIR=bin/invoke
	VENV=$(VENV) RIE=$(RIE) ./scripts/invoke bin/invoke/bootstrap $(EVENT)

# The server-mode binary, for this machine.
build-local:
	$(GO) build -trimpath -o bin/callback ./functions/callback

FUNCTION ?= callback
bootstrap:
	CGO_ENABLED=0 GOOS=linux GOARCH=$(GOARCH) $(GO) build $(LAMBDA_FLAGS) -o $(BOOTSTRAP_DIR)/bootstrap ./functions/$(FUNCTION)

# Called by `sam build` (BuildMethod: makefile) with ARTIFACTS_DIR set.
build-CallbackFunction:
	$(MAKE) -s bootstrap GOARCH=arm64 BOOTSTRAP_DIR=$(ARTIFACTS_DIR)

build-AssemblerFunction:
	$(MAKE) -s bootstrap GOARCH=arm64 BOOTSTRAP_DIR=$(ARTIFACTS_DIR) FUNCTION=assembler

build-ReconcilerFunction:
	$(MAKE) -s bootstrap GOARCH=arm64 BOOTSTRAP_DIR=$(ARTIFACTS_DIR) FUNCTION=reconciler

# One reconciler pass with the embedded local sinks under LOCAL_DIR; set
# SPEECHMATICS_API_KEY and RECONCILE_CALLBACK_URL (and RECONCILE_JOB or
# RECONCILE_REPLAY for one job). Exits non-zero when the pass failed.
reconcile:
	$(GO) build -trimpath -o bin/reconciler ./functions/reconciler
	LOCAL_DIR='$(LOCAL_DIR)' ./bin/reconciler

clean:
	rm -rf bin $(LOCAL_DIR) .aws-sam
