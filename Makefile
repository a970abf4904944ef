# SOS build.  `make` builds build/sos (the CLI) and build/sosd (the node
# kernel); `make test` runs every test suite
# (unit, spec, sanitizers, fuzz smoke, differential) and ends with
# "N passed, N failed"; `make spec`, `make fuzz` and `make bench` run one part.
#
# Variables: CC (gcc or clang), B (build folder), SAN=1 for an ASan+UBSan
# build, OPT (optimisation flags).

CC      ?= cc
B       ?= build
OPT     ?= -O2
WARN    := -Wall -Wextra -Wshadow -Wmissing-prototypes -Wstrict-prototypes -Werror
CFLAGS  := -std=c11 -D_GNU_SOURCE -ffp-contract=off $(OPT) -g $(WARN) -Iinclude -Isrc $(EXTRA_CFLAGS)
LDLIBS  := -llmdb -lcjson -lcrypto -lm -lpthread
AR      := ar
ifeq ($(SAN),1)
CFLAGS  += -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
LDFLAGS += -fsanitize=address,undefined
else ifeq ($(findstring clang,$(shell $(CC) --version 2>/dev/null | head -1)),)
# gcc optimises across files (link-time optimisation): the kernel's many
# small calls between files (the engine's, the scheduler's) are inlined,
# about 8% off a service call.  LTO=0 turns it off.
ifneq ($(LTO),0)
CFLAGS  += -flto=auto
LDFLAGS += -flto=auto $(OPT)
AR      := gcc-ar
endif
# On x86-64, gcc clears a struct of a few hundred bytes (a request, 256)
# with `rep stos`, whose start-up costs more than the stores: SSE stores
# up to 512 bytes, libc's memset beyond.  About 10 ns off every call.
ifeq ($(findstring x86_64,$(shell $(CC) -dumpmachine)),x86_64)
CFLAGS  += -mmemset-strategy=vector_loop:512:noalign,libcall:-1:noalign
LDFLAGS += -mmemset-strategy=vector_loop:512:noalign,libcall:-1:noalign
endif
endif

LIB_SRC   := $(wildcard src/base/*.c src/wasm/*.c src/wasi/*.c src/lang/*.c src/image/*.c src/store/*.c src/idl/*.c)
CLI_SRC   := $(wildcard src/cli/*.c)
KERN_SRC  := $(wildcard src/kernel/*.c src/net/*.c)
UNIT_SRC  := $(wildcard tests/unit/*.c)
LIB_OBJ   := $(LIB_SRC:%.c=$(B)/obj/%.o)
CLI_OBJ   := $(CLI_SRC:%.c=$(B)/obj/%.o)
KERN_OBJ  := $(KERN_SRC:%.c=$(B)/obj/%.o)
UNIT_OBJ  := $(UNIT_SRC:%.c=$(B)/obj/%.o)

all: $(B)/sos $(B)/sosd

$(B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(B)/libsos.a: $(LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(B)/sos: $(CLI_OBJ) $(B)/libsos.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/sosd: $(KERN_OBJ) $(B)/libsos.a
	$(CC) $(LDFLAGS) -o $@ $^ -luv -lhttp_parser -lssl $(LDLIBS)

$(B)/tests/unit: $(UNIT_OBJ) $(B)/libsos.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/tests/spec: $(B)/obj/tests/spec/spec.o $(B)/libsos.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

unit: $(B)/tests/unit
	$(B)/tests/unit

spec: $(B)/tests/spec
	scripts/spec.sh $(B)

test: 
	bash scripts/test.sh

fuzz:
	scripts/fuzz.sh 60

bench:
	scripts/bench.sh

clean:
	rm -rf build

.PHONY: all unit spec test fuzz bench clean
-include $(wildcard mk/*.mk)
-include $(shell find $(B)/obj -name '*.d' 2>/dev/null)
