# mk/examples.mk - WASI C programs built for wasm32 (included by the top
# Makefile).
#
# examples/*.c are the demo programs that scripts/start.sh runs; they go
# to $(B)/examples/NAME.wasm.  tests/wasm/*.c are the programs tests/cli.sh
# runs; they go to $(B)/testwasm/NAME.wasm.  Both are built with clang's
# wasm32-wasi target against the wasi-libc sysroot (Debian's wasi-libc),
# whatever CC is, since gcc cannot target wasm.
# `make examples` and `make testwasm` build each set.

WASI_CC     ?= clang --target=wasm32-wasi
WASI_CFLAGS ?= -O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror

EXAMPLES_WASM := $(patsubst examples/%.c,$(B)/examples/%.wasm,$(wildcard examples/*.c))
TEST_WASM     := $(patsubst tests/wasm/%.c,$(B)/testwasm/%.wasm,$(wildcard tests/wasm/*.c))

$(B)/examples/%.wasm: examples/%.c
	@mkdir -p $(dir $@)
	$(WASI_CC) $(WASI_CFLAGS) -o $@ $<

$(B)/testwasm/%.wasm: tests/wasm/%.c
	@mkdir -p $(dir $@)
	$(WASI_CC) $(WASI_CFLAGS) -o $@ $<

examples: $(EXAMPLES_WASM)
testwasm: $(TEST_WASM)

.PHONY: examples testwasm
