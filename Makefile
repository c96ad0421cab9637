# Human interface to the project: see README.md.
SHELL := bash
GO ?= go

# make run: server mode on the embedded local sinks.
DEV_TOKEN ?= local-dev-token
LISTEN_ADDR ?= 127.0.0.1:8080
LOCAL_DIR ?= .local

.PHONY: run test bench lint build clean

run: build
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

test:
	$(GO) vet ./...
	$(GO) test -race -count=1 ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

lint:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt would change: $$unformatted"; exit 1; fi
	$(GO) vet ./...

build:
	$(GO) build -trimpath -o bin/callback ./functions/callback

clean:
	rm -rf bin $(LOCAL_DIR)
