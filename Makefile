# The commands people type. The build itself is Meson + Ninja (meson.build);
# this file only gives it short names.
#
#   make          build build/pane
#   make demo     install what the demo needs, start PostgreSQL, simulations, a demo app and pane; a story plays
#   make test     install what is missing, build, run every test; ends "N passed, N failed"
#   make asan     the whole test suite under AddressSanitizer + UBSan
#   make bench    side-by-side benchmarks (bench/README.md)
#   make fuzz     build the libFuzzer targets and run each for a short while
#   make screenshots  the console's browser test, writing a screenshot of each page to docs/console/
#   make clean    remove the build directories

.PHONY: all build demo test asan bench fuzz deps clean format screenshots

all: build

build:
	@scripts/install-deps.sh
	@[ -f build/build.ninja ] || meson setup build -Dwerror=true >/dev/null
	@ninja -C build

demo:
	@scripts/demo.sh

test:
	@scripts/test.sh

asan:
	@scripts/test.sh --asan

bench: build
	@scripts/install-deps.sh --bench
	@scripts/bench.sh

screenshots:
	@PANE_CONSOLE_SHOTS=$(CURDIR)/docs/console scripts/test.sh console_browser

fuzz:
	@scripts/fuzz.sh $(FUZZ_RUNS)

deps:
	@scripts/install-deps.sh

format:
	@clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build build-asan build-fuzz
