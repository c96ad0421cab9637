# Human interface to the project: see README.md.
SHELL := bash
# A pipe fails when any of its commands does (go build -v | the progress count).
.SHELLFLAGS := -o pipefail -c
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

# PROGRESS turns `go build -v` or `go install -v` output, one package per
# line, into a count on one line, and passes errors through.
PROGRESS := awk '/^\#|: |^go: / { print; next } { n++; printf "\r  %d packages built", n } END { if (n) print "" }'

# SAM: from the project's environment, without telemetry.
SAM := SAM_CLI_TELEMETRY=0 $(CURDIR)/$(VENV)/bin/sam
CFN_LINT := $(CURDIR)/$(VENV)/bin/cfn-lint
SAM_ENV ?= default
# make invoke: FUNCTION (callback or assembler) and its event, by default a
# sample of the function's own.
EVENT ?= $(if $(filter assembler,$(FUNCTION)),events/assembler/sqs-callback-event.json,events/http-api-multipart.json)

.PHONY: run test fuzz load bench bench-peers lint build build-local bootstrap build-CallbackFunction build-AssemblerFunction build-ReconcilerFunction reconcile deploy logs delete region image image-push invoke clean tools

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
	./internal/callback:FuzzScanJSON ./internal/apigateway:FuzzDecode ./internal/apigateway:FuzzFastDecode \
	./internal/apigateway:FuzzUnquote
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
	@echo "tools: installing moto, aws-sam-cli and cfn-lint into $(VENV) (once; about 3 minutes on a fresh machine)"
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --disable-pip-version-check --progress-bar on -r requirements.txt
	touch $@

$(RIE):
	@echo "tools: building the Lambda Runtime Interface Emulator into $(TOOLS) (once; under a minute)"
	mkdir -p $(TOOLS)
	GOBIN=$(TOOLS) $(GO) install -v github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@$(RIE_VERSION) 2>&1 | $(PROGRESS)
	mv $(TOOLS)/aws-lambda-rie $@

# make bench: the handler against its floor for each kind of body, timed
# interleaved over BENCH_ROUNDS rounds; the cold start of the bootstrap, as
# deployed, against a hello-world that reads the same secret, COLDSTART_RUNS
# inits of each under the emulator; what tracing adds to the init; the
# streaming test with STREAM_BYTES of media (make test sends 64 MiB). Each
# goal's row goes to BENCH_TABLE, and the target ends with the one table
# (internal/benchtable), which names the goals missed and fails when a
# measurement is broken.
BENCH_ROUNDS ?= 41
COLDSTART_RUNS ?= 31
STREAM_BYTES ?= 1073741824
BENCH_TABLE := $(CURDIR)/bin/bench/table.jsonl
# How long each step took on this project's machine, for the progress lines.
BENCH_MINUTES_EVENT := about 15 seconds
BENCH_MINUTES_COLD := about 30 seconds
BENCH_MINUTES_STREAM := about 20 seconds for 1 GiB
bench: tools
	@mkdir -p $(dir $(BENCH_TABLE)) && rm -f $(BENCH_TABLE)
	@echo "bench 1/4: the handler against its floor, each kind of body, $(BENCH_ROUNDS) interleaved rounds ($(BENCH_MINUTES_EVENT))"
	BENCH_TABLE=$(BENCH_TABLE) BENCH_ROUNDS=$(BENCH_ROUNDS) \
		$(GO) test -run '^$$' -bench '^BenchmarkEvent$$' -benchtime 1x ./internal/apigateway
	@echo "bench 2/4 and 3/4: cold starts under the emulator, $(COLDSTART_RUNS) of each function, then with and without tracing ($(BENCH_MINUTES_COLD))"
	MOTO_SERVER=$(CURDIR)/$(VENV)/bin/moto_server AWS_LAMBDA_RIE=$(RIE) COLDSTART_RUNS=$(COLDSTART_RUNS) BENCH_TABLE=$(BENCH_TABLE) \
		$(GO) test -run '^$$' -bench '^Benchmark(Tracing)?ColdStart$$' -benchtime 1x -v ./functions/callback
	@echo "bench 4/4: $(STREAM_BYTES) bytes of media streamed through server mode into moto ($(BENCH_MINUTES_STREAM))"
	MOTO_SERVER=$(CURDIR)/$(VENV)/bin/moto_server STREAM_BYTES=$(STREAM_BYTES) \
		$(GO) test -count=1 -timeout 30m -run '^TestServerStreamsLargeMedia$$' -v ./functions/callback | grep -E '^(\s+stream_test.go|---|ok|FAIL)'
	@$(GO) run ./internal/benchtable/cmd/benchtable $(BENCH_TABLE)

# make bench-peers (not part of make test), for the record: the same events
# through Node.js with busboy and Python with python-multipart, pinned in
# scripts/peers and installed once into .tools/peers and .venv, beside this
# handler, Go's naive path and the floor.
PEERS := scripts/peers
NODE_PEERS := $(CURDIR)/.tools/peers
PEER_ROUNDS ?= 21
bench-peers: $(NODE_PEERS)/.installed $(VENV)/.peers-installed
	NODE_PATH=$(NODE_PEERS)/node_modules BENCH_PEERS_NODE=node BENCH_PEERS_PYTHON=$(CURDIR)/$(VENV)/bin/python BENCH_ROUNDS=$(PEER_ROUNDS) \
		$(GO) test -run '^$$' -bench '^BenchmarkPeers$$' -benchtime 1x ./internal/apigateway

$(NODE_PEERS)/.installed: $(PEERS)/package.json $(PEERS)/package-lock.json
	@echo "bench-peers: installing busboy into $(NODE_PEERS) (once)"
	mkdir -p $(NODE_PEERS)
	cp $^ $(NODE_PEERS)/
	cd $(NODE_PEERS) && npm ci --no-audit --no-fund
	touch $@

$(VENV)/.peers-installed: $(VENV)/.installed $(PEERS)/requirements.txt
	@echo "bench-peers: installing python-multipart into $(VENV) (once)"
	$(VENV)/bin/pip install --disable-pip-version-check -r $(PEERS)/requirements.txt
	touch $@


lint: tools
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null | grep . || echo .)); \
	if [ -n "$$unformatted" ]; then echo "gofmt would change: $$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(CFN_LINT) template.yaml
	$(SAM) validate --lint --region us-east-1

# The Lambda package, as `sam deploy` uploads it.
build: tools
	$(SAM) build --config-env $(SAM_ENV)

deploy: region build
	$(SAM) deploy --config-env $(SAM_ENV) --region $(REGION)

# Tails the logs of every function of the deployed stack.
logs: region
	$(SAM) logs --config-env $(SAM_ENV) --region $(REGION) --tail

# Deletes the deployed stack. The bucket and its transcripts stay.
delete: region
	@echo "delete: the stack goes; its bucket and every transcript in it stay (DeletionPolicy: Retain)."
	@echo "        Empty and delete the bucket yourself if you mean to: aws s3 rb s3://<bucket> --force"
	$(SAM) delete --config-env $(SAM_ENV) --region $(REGION)

# Server mode's container image, built without Docker: a static linux binary
# (GOARCH, arm64 unless set) with Go's copy of the TLS roots, alone on an
# empty base, written as an OCI image layout in one tar file.
IMAGE ?= bin/image.tar
image:
	@echo "image: $(IMAGE), server mode for linux/$(GOARCH) (GOARCH=amd64 for x86)"
	CGO_ENABLED=0 GOOS=linux GOARCH=$(GOARCH) $(GO) build -tags fallbackroots -trimpath -ldflags='-s -w' \
		-o bin/image/$(GOARCH)/callback ./functions/callback
	$(GO) run ./scripts/image build -binary bin/image/$(GOARCH)/callback -arch $(GOARCH) -o $(IMAGE)

# Pushes the image to the stack's ECR repository (its MediaRepositoryUri
# output, with MediaReceiver=fargate), authenticated with your AWS
# credentials, and prints the reference to deploy.
REPOSITORY ?= $(shell $(VENV)/bin/python scripts/samenv.py output $(SAM_ENV) MediaRepositoryUri $(REGION) 2>/dev/null)
image-push: region image
	@[ -n '$(REPOSITORY)' ] || { echo "image-push: no ECR repository: the stack of $(SAM_ENV) in $(REGION) has no MediaRepositoryUri output (not deployed, or not with MediaReceiver=fargate), or AWS could not be asked (credentials?); name one: make image-push REPOSITORY=<uri>" >&2; exit 2; }
	AWS_REGION=$(REGION) $(GO) run ./scripts/image push -image $(IMAGE) -repository $(REPOSITORY)

# The region of deploy, logs and delete: REGION, else the one samconfig.toml
# holds for SAM_ENV (sam deploy --guided saves it), else the AWS settings'
# (AWS_REGION, AWS_DEFAULT_REGION, the profile's).
REGION ?= $(shell $(VENV)/bin/python scripts/samenv.py region $(SAM_ENV) 2>/dev/null)
region: tools
	@[ -n '$(REGION)' ] || { echo "make $(or $(filter-out region,$(MAKECMDGOALS)),deploy) needs an AWS region, and none is set: run 'sam deploy --guided' once (it saves one in samconfig.toml), or name one: make $(or $(filter-out region,$(MAKECMDGOALS)),deploy) REGION=eu-west-1 (AWS_REGION or a profile's region work too)" >&2; exit 2; }

# Runs one event through the real bootstrap of FUNCTION (callback or
# assembler) under the Lambda Runtime Interface Emulator, against moto unless
# the environment names a bucket and queue:
# make invoke EVENT=events/http-api-transcript-srt.json, make invoke FUNCTION=assembler
invoke: tools
	@[ -f '$(EVENT)' ] || { echo "no such file: $(EVENT) (the receiver's sample events are in events/, the assembler's in events/assembler/)" >&2; exit 2; }
	@case '$(FUNCTION)' in callback|assembler) ;; *) echo "FUNCTION=$(FUNCTION): want callback or assembler" >&2; exit 2;; esac
	$(MAKE) -s bootstrap GOARCH=$$($(GO) env GOARCH) BOOTSTRAP_DIR=bin/invoke/$(FUNCTION) FUNCTION=$(FUNCTION)
	VENV=$(VENV) RIE=$(RIE) ./scripts/invoke $(FUNCTION) bin/invoke/$(FUNCTION)/bootstrap '$(EVENT)'

# The server-mode binary, for this machine. The first build compiles the
# AWS SDK; go build -v names each package it compiles, counted on one line.
build-local:
	@echo "build-local: bin/callback (the first build compiles the AWS SDK: 1 to 3 minutes; later ones take seconds)"
	$(GO) build -v -trimpath -o bin/callback ./functions/callback 2>&1 | $(PROGRESS)

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

# .local by name: LOCAL_DIR may point anywhere (make run LOCAL_DIR=...), and
# clean removes only what the project made in its own folder.
clean:
	rm -rf bin .local .aws-sam
