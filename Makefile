# Thin helper over meson. On a fresh Debian bookworm machine (root):
#   make demo   installs what it needs, builds, runs the demo
#   make test   installs what it needs, builds, runs every test (unit, integration, ASan/UBSan)
SHELL := /bin/bash
.DEFAULT_GOAL := build

BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
TSAN_BUILD ?= build-tsan
JOBS       ?= 2
# The sanitizer and fuzz builds compile a few sources as one (meson's unity build): each heavy
# header (nlohmann/json, cpprestsdk, doctest) is parsed once per group, not once per file, which
# takes each of them from ~12 to ~3 minutes on two cores. build/ stays one file at a time, so
# a missing #include still shows there.
UNITY      := -Dunity=on -Dunity_size=6

# Debian packages: the toolchain and libraries, then the real peers the tests start.
BUILD_PACKAGES := g++ meson ninja-build pkg-config cmake python3 libcpprest-dev libssl-dev \
	libyaml-cpp-dev nlohmann-json3-dev prometheus-cpp-dev doctest-dev libcli11-dev libnghttp2-dev
TEST_PACKAGES  := curl openssl golang-go etcd-server dpkg-dev clang libclang-rt-14-dev pebble \
	clang-format shellcheck

.PHONY: deps test-deps build asan tsan fuzz-build fuzz fuzz-long test unit integration sanitize race demo demo-cluster clean

# Installs only what is missing; silent when everything is there.
deps:
	@./tests/install-packages.sh $(BUILD_PACKAGES)

test-deps: deps
	@./tests/install-packages.sh $(TEST_PACKAGES)
	@command -v kubectl >/dev/null || ./tests/install-packages.sh kubernetes-client
	@./tests/lib/promtool.sh >/dev/null

$(BUILD)/build.ninja:
	meson setup $(BUILD) >/dev/null

$(ASAN_BUILD)/build.ninja:
	meson setup $(ASAN_BUILD) $(UNITY) -Dbuildtype=debug -Db_sanitize=address,undefined \
	  -Dcpp_args=-fno-sanitize-recover=all -Dintegration_tests=false >/dev/null

# ThreadSanitizer with clang, which also checks the thread contracts (-Wthread-safety -Werror).
$(TSAN_BUILD)/build.ninja:
	CXX=clang++ meson setup $(TSAN_BUILD) $(UNITY) -Db_sanitize=thread -Db_lundef=false \
	  -Dintegration_tests=false >/dev/null

# libFuzzer targets with clang; only the fuzz targets are built in that directory.
$(FUZZ_BUILD)/build.ninja:
	CXX=clang++ meson setup $(FUZZ_BUILD) $(UNITY) -Dfuzzing=true -Dtests=disabled -Dintegration_tests=false \
	  -Db_sanitize=address,undefined -Db_lundef=false >/dev/null

FUZZ_TARGETS := http_parser_fuzz h2_session_fuzz route_fuzz snapshot_file_fuzz watch_stream_fuzz manifest_fuzz \
	acme_fuzz ingress_compile_fuzz pem_fuzz

fuzz-build: test-deps $(FUZZ_BUILD)/build.ninja
	ninja -C $(FUZZ_BUILD) -j$(JOBS) $(addprefix tests/fuzz/,$(FUZZ_TARGETS))

fuzz: fuzz-build
	meson test -C $(FUZZ_BUILD) --suite fuzz --no-rebuild --print-errorlogs

# An hour per target (FUZZ_SECONDS to change it); what they find is kept in the source tree's
# corpus (tests/fuzz/corpus/<target>/), crashes as tests/fuzz/crash-* files.
FUZZ_SECONDS ?= 3600
fuzz-long: fuzz-build
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p tests/fuzz/corpus/$$t; \
	  echo "== $$t ($(FUZZ_SECONDS) s)"; \
	  $(FUZZ_BUILD)/tests/fuzz/$$t -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 -timeout=10 \
	    -print_final_stats=1 -artifact_prefix=tests/fuzz/ tests/fuzz/corpus/$$t 2>&1 | \
	    grep -E '^(stat::number_of_executed_units|stat::new_units_added|==.*ERROR)|SUMMARY' || true; \
	done

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD) -j$(JOBS)

asan: deps $(ASAN_BUILD)/build.ninja
	ninja -C $(ASAN_BUILD) -j$(JOBS)

tsan: test-deps $(TSAN_BUILD)/build.ninja
	ninja -C $(TSAN_BUILD) -j$(JOBS)

unit: build
	meson test -C $(BUILD) --suite unit --print-errorlogs

# Builds the test kube-apiserver once (cached in /var/cache/portico-test), then runs the suite.
integration: build test-deps
	./tests/cluster/build.sh >/dev/null
	meson test -C $(BUILD) --suite integration --print-errorlogs

ASAN_ENV := ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp \
	UBSAN_OPTIONS=print_stacktrace=1
sanitize: asan
	$(ASAN_ENV) meson test -C $(ASAN_BUILD) --suite unit --suite proxy --print-errorlogs

# The unit and proxy suites (the data plane, `portico local`) under ThreadSanitizer.
TSAN_ENV := TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$(CURDIR)/tests/tsan.supp"
TSAN_TESTS := --suite unit --suite proxy
race: tsan
	$(TSAN_ENV) meson test -C $(TSAN_BUILD) $(TSAN_TESTS) --print-errorlogs

# Every suite runs even when an earlier one fails; the summary counts them all.
LOGS := $(BUILD)/meson-logs/testlog.json $(ASAN_BUILD)/meson-logs/testlog.json \
	$(TSAN_BUILD)/meson-logs/testlog.json $(FUZZ_BUILD)/meson-logs/testlog.json

test: build asan tsan fuzz-build test-deps
	@./tests/cluster/build.sh >/dev/null
	@rm -f $(LOGS)
	@status=0; \
	meson test -C $(BUILD) --print-errorlogs || status=1; \
	$(ASAN_ENV) meson test -C $(ASAN_BUILD) --suite unit --suite proxy --print-errorlogs || status=1; \
	$(TSAN_ENV) meson test -C $(TSAN_BUILD) $(TSAN_TESTS) --print-errorlogs || status=1; \
	meson test -C $(FUZZ_BUILD) --suite fuzz --no-rebuild --print-errorlogs || status=1; \
	./tests/summary.py $(LOGS) || status=1; \
	exit $$status

# The embedded default: `portico local` on manifests/examples/ with example backends.
# Let's Encrypt's test CA (pebble) shows the certificate half; without it, the routing half.
demo: build
	@./tests/install-packages.sh curl openssl
	@./tests/install-packages.sh pebble >/dev/null 2>&1 || true
	./tests/local/demo.sh $(BUILD)/portico

# The runtime against a real kube-apiserver built from Debian's source (~5 min the first time).
demo-cluster: build test-deps
	./tests/cluster/build.sh >/dev/null
	./tests/cluster/cluster_demo.sh $(BUILD)/portico

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(TSAN_BUILD) $(FUZZ_BUILD)
