# The two commands of the README, and a few more for developers.
#   make demo   build, then run vigild on the embedded broker with the bundled demo feed
#   make test   install dependencies, build, run every test (also under ASan+UBSan)
#   make docs   regenerate the generated parts of docs/ (configuration reference)
#   make package  build, then build/release/vigil_<version>_amd64.deb (docs/install.md)
SHELL := /bin/bash
JOBS ?= $(shell nproc)
# ccache: the same object whatever folder the tree is checked out in (CI uses a fresh
# clone), so a second checkout on one machine compiles little.
export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_NOHASHDIR := 1

.PHONY: deps build build-asan demo test test-release test-asan package bench lint-rules docs format clean

deps:
	@bash packaging/install-deps.sh

build: deps
	cmake --preset release >/dev/null
	cmake --build --preset release -j $(JOBS)

build-asan: deps
	cmake --preset asan >/dev/null
	cmake --build --preset asan -j $(JOBS)

DEMO_LISTEN ?= 127.0.0.1:8080
DEMO_ROBOTS_PORT ?= 9095
demo: build
	@echo "== vigild on the embedded Kafka broker, replaying tests/data/demo_feed.jsonl (Ctrl-C stops it)"
	@echo "== pages go to the demo robots (packaging/demo/receiver.py on 127.0.0.1:$(DEMO_ROBOTS_PORT)); who is paged: packaging/demo/paging.yaml"
	@echo "== incidents: build/release/daemon/vigilctl incidents list --server http://$(DEMO_LISTEN)"
	@echo "== acknowledge: build/release/daemon/vigilctl incidents ack ID --server http://$(DEMO_LISTEN)  (or open the link in a page)"
	@echo "== status: curl -s http://$(DEMO_LISTEN)/api/v1/status   try a text: curl -s -XPOST http://$(DEMO_LISTEN)/api/v1/rules/test -d '{\"text\":\"退款一个月了还没到账\"}'"
	@python3 packaging/demo/receiver.py --listen 127.0.0.1:$(DEMO_ROBOTS_PORT) & robots=$$!; \
	  trap 'kill $$robots 2>/dev/null' EXIT INT TERM; \
	  sed 's/127.0.0.1:9095/127.0.0.1:$(DEMO_ROBOTS_PORT)/' packaging/demo/paging.yaml > build/demo-paging.yaml; \
	  build/release/daemon/vigild --set kafka.brokers=embedded --set rules.paths=rules/packs \
	  --set http.listen=$(DEMO_LISTEN) --set state.dir=build/demo-state \
	  --set demo.feed=tests/data/demo_feed.jsonl --set demo.rate_per_s=5 \
	  --set alerts.paging=build/demo-paging.yaml

test-release: build
	ctest --preset release

test-asan: build-asan
	ctest --preset asan

test: test-release test-asan

package: build
	cd build/release && cpack -G DEB

bench: build
	python3 tests/bench/gen_rules.py --count 1000 --seed 7 --out build/release/bench-rules.yaml
	python3 tests/bench/gen_corpus.py --count 200000 --seed 7 > build/release/bench-corpus.jsonl
	build/release/daemon/vigilctl bench --rules build/release/bench-rules.yaml --corpus build/release/bench-corpus.jsonl

lint-rules: build
	build/release/daemon/vigilctl rules lint rules/packs

# The generated parts of the docs (the configuration reference), from the code.
docs: deps
	cmake --preset release >/dev/null
	cmake --build --preset release -j $(JOBS) --target vigild
	python3 docs/generate.py --vigild build/release/daemon/vigild

format:
	clang-format -i $$(git ls-files '*.cc' '*.h')

clean:
	rm -rf build
