# Entry points users type; every target first runs scripts/bootstrap.sh (installs what is
# missing on Debian 12, fetches and checks PQClean).
#   make            release build in build/release
#   make test       the release build first (what make and make demo build: the system compiler,
#                   -Werror), then the sanitizer build (ASan+UBSan, -Werror, clang) and every
#                   test (LABEL=x for one label)
#   make demo       post-quantum secured CoAP exchange on loopback
#   make bench      optimised build, benchmarks, bench/results.{md,json} and two charts
#   make fuzz       each libFuzzer target for FUZZ_SECONDS (default 60)
#   make memcheck   integration tests under valgrind memcheck
#   make install    installs into PREFIX (default /usr/local)
#   make mutate     mutation testing: each mutant of tests/mutation/mutants.txt must make a test
#                   fail (MUTANT=name for one); not part of make test

BUILD ?= build
PREFIX ?= /usr/local
JOBS ?= $(shell nproc)
FUZZ_SECONDS ?= 60
LABEL ?=
MUTANT ?=
CTEST_LABEL := $(if $(LABEL),-L $(LABEL),)

.PHONY: all bootstrap release test demo bench fuzz memcheck mutate install clean

all: release

bootstrap:
	@scripts/bootstrap.sh

release: bootstrap
	@cmake -S . -B $(BUILD)/release -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=$(PREFIX) -DPQCOAP_TESTS=ON >/dev/null
	@cmake --build $(BUILD)/release -j $(JOBS)

test: release
	@cmake -S . -B $(BUILD)/test -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang -DPQCOAP_SANITIZE=ON -DPQCOAP_FUZZ=ON >/dev/null
	@cmake --build $(BUILD)/test -j $(JOBS)
	@cd $(BUILD)/test && ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
		ctest --output-on-failure -j $(JOBS) $(CTEST_LABEL)

demo: release
	@scripts/demo.sh $(BUILD)/release

bench:
	@scripts/bootstrap.sh --bench
	@cmake -S . -B $(BUILD)/bench -DCMAKE_BUILD_TYPE=Release -DPQCOAP_TESTS=OFF >/dev/null
	@cmake --build $(BUILD)/bench -j $(JOBS)
	@bench/run.sh $(BUILD)/bench

fuzz: bootstrap
	@cmake -S . -B $(BUILD)/fuzz -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang -DPQCOAP_SANITIZE=ON -DPQCOAP_FUZZ=ON -DPQCOAP_TESTS=OFF >/dev/null
	@cmake --build $(BUILD)/fuzz -j $(JOBS)
	@fuzz/run.sh $(BUILD)/fuzz $(FUZZ_SECONDS)

memcheck: release
	@cd $(BUILD)/release && ctest --output-on-failure -j $(JOBS) -L memcheck-ok -T memcheck

mutate: bootstrap
	@JOBS=$(JOBS) MUTATE_DIR=$(BUILD)/mutate tests/mutation/run.sh $(MUTANT)

install: release
	@cmake --install $(BUILD)/release

clean:
	rm -rf $(BUILD)
