# mk/bench.mk - builds for the benchmark, the differential tests and the
# fuzzer's helpers (included by the top Makefile).
#
# Each bench/kernel_NAME.c is built twice: natively with gcc -O2 and
# bench/native_main.c into $(B)/bench/native/NAME, and for wasm32 with
# clang -O2 -nostdlib (no imports, no WASI) into $(B)/bench/wasm/NAME.wasm.
# The SOS drivers (bench/run_sos.c, bench/micro.c, tests/diff/diff_run.c)
# link with $(B)/libsos.a through the top Makefile's object rule.
# `make bench-build` builds everything scripts/bench.sh needs.

BENCH_NATIVE_CC ?= gcc
BENCH_WASM_CC   ?= clang
BENCH_KERNELS   := $(patsubst bench/kernel_%.c,%,$(wildcard bench/kernel_*.c))
BENCH_EXPORTS   := run bench_n bench_interp_n run_interp
BENCH_NATIVE    := $(BENCH_KERNELS:%=$(B)/bench/native/%)
BENCH_WASM      := $(BENCH_KERNELS:%=$(B)/bench/wasm/%.wasm)

# -fno-math-errno: wasm's f64.sqrt sets no errno either, and with it gcc
# inlines sqrtsd instead of calling libm.
$(B)/bench/native/%: bench/kernel_%.c bench/native_main.c bench/bench.h
	@mkdir -p $(dir $@)
	$(BENCH_NATIVE_CC) -std=c11 -D_GNU_SOURCE -O2 -fno-math-errno $(WARN) \
	  -o $@ bench/native_main.c $<

$(B)/bench/wasm/%.wasm: bench/kernel_%.c bench/bench.h
	@mkdir -p $(dir $@)
	$(BENCH_WASM_CC) --target=wasm32 -ffreestanding -std=c11 -O2 $(WARN) \
	  -nostdlib -Wl,--no-entry $(BENCH_EXPORTS:%=-Wl,--export=%) -o $@ $<

$(B)/bench/run_sos: $(B)/obj/bench/run_sos.o $(B)/libsos.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/bench/micro: $(B)/obj/bench/micro.o $(B)/libsos.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/tests/diff_run: $(B)/obj/tests/diff/diff_run.o $(B)/libsos.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

bench-kernels: $(BENCH_NATIVE) $(BENCH_WASM)
bench-build: bench-kernels $(B)/bench/run_sos $(B)/bench/micro $(B)/bench/store_direct \
             $(B)/bench/idl/bench

.PHONY: bench-kernels bench-build

# The native reference of the storage benchmark (scripts/bench_store.sh).
$(B)/bench/store_direct: $(B)/obj/bench/store_direct.o $(B)/libsos.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The IDL codec benchmark: bench/idl/bench.c with the code `sos idl`
# generates for bench/idl/bench.sos and the guest runtime, built natively.
$(B)/bench/idl/gen/bench.sos.c: bench/idl/bench.sos $(B)/sos
	@mkdir -p $(dir $@)
	$(B)/sos idl -o $(dir $@) bench/idl/bench.sos >/dev/null

$(B)/bench/idl/bench: bench/idl/bench.c $(B)/bench/idl/gen/bench.sos.c sdk/sos_wire.c \
                      sdk/sos_wire.h
	$(BENCH_NATIVE_CC) -std=c11 -D_GNU_SOURCE -O2 $(WARN) -I $(B)/bench/idl/gen -I sdk \
	  -I include -o $@ bench/idl/bench.c $(B)/bench/idl/gen/bench.sos.c sdk/sos_wire.c
