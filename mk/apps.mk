# mk/apps.mk - the example apps compiled with the guest SDK (included by
# the top Makefile), with warnings as errors, so that a change that breaks
# the SDK or an app breaks the build.
#
# Each folder apps/NAME/ with an app.sos is compiled the way `sos build`
# compiles it (clang for wasm32-wasi as a reactor, -I sdk, the folder's C
# sources plus sdk/sos.c) with -Wall -Wextra -Werror added, into
# $(B)/apps/NAME.wasm.  `make apps` builds them all.  What they do is
# tested against a real node by tests/kernel.sh.

SDK_CC      ?= clang --target=wasm32-wasi
SDK_CFLAGS  := -O2 -std=c11 -mexec-model=reactor -I sdk
SDK_WARN    := -Wall -Wextra -Werror
SDK_DEPS    := sdk/sos.c sdk/sos.h include/sos/abi.h
APP_NAMES   := $(notdir $(patsubst %/app.sos,%,$(wildcard apps/*/app.sos)))
APP_WASM    := $(APP_NAMES:%=$(B)/apps/%.wasm)

# One rule per app: its sources are every .c file in its folder.
define sdk_app_rule
$(B)/apps/$(1).wasm: $(wildcard apps/$(1)/*.c apps/$(1)/*.h) $(SDK_DEPS)
	@mkdir -p $$(dir $$@)
	$(SDK_CC) $(SDK_CFLAGS) $(SDK_WARN) -o $$@ $(wildcard apps/$(1)/*.c) sdk/sos.c
endef
$(foreach a,$(APP_NAMES),$(eval $(call sdk_app_rule,$(a))))

apps: $(APP_WASM)

.PHONY: apps
