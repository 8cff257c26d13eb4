# The two commands of the README, and a few more for developers.
#   make demo   build, then match the bundled demo feed against the shipped rule packs
#   make test   install dependencies, build, run every test (also under ASan+UBSan)
SHELL := /bin/bash
JOBS ?= $(shell nproc)

.PHONY: deps build build-asan demo test test-release test-asan bench lint-rules format clean

deps:
	@bash packaging/install-deps.sh

build: deps
	cmake --preset release >/dev/null
	cmake --build --preset release -j $(JOBS)

build-asan: deps
	cmake --preset asan >/dev/null
	cmake --build --preset asan -j $(JOBS)

demo: build
	@echo "== vigilctl rules test rules/packs"
	@build/release/daemon/vigilctl rules test rules/packs | tail -n 1
	@echo "== vigilctl match: the demo feed (tests/data/demo_feed.jsonl) against rules/packs"
	@build/release/daemon/vigilctl match --rules rules/packs tests/data/demo_feed.jsonl \
	  | tee build/release/demo-hits.jsonl | head -n 20
	@echo "== all hits are in build/release/demo-hits.jsonl; try --explain for why each matched"

test-release: build
	ctest --preset release

test-asan: build-asan
	ctest --preset asan

test: test-release test-asan

bench: build
	python3 tests/bench/gen_rules.py --count 1000 --seed 7 --out build/release/bench-rules.yaml
	python3 tests/bench/gen_corpus.py --count 200000 --seed 7 > build/release/bench-corpus.jsonl
	build/release/daemon/vigilctl bench --rules build/release/bench-rules.yaml --corpus build/release/bench-corpus.jsonl

lint-rules: build
	build/release/daemon/vigilctl rules lint rules/packs

format:
	clang-format -i $$(git ls-files '*.cc' '*.h')

clean:
	rm -rf build
