# mk/apps.mk - the example apps compiled with the guest SDK (included by
# the top Makefile), with warnings as errors, so that a change that breaks
# the SDK or an app breaks the build.
#
# Each folder apps/NAME/ with an app.sos is compiled the way `sos build`
# compiles it (clang for wasm32-wasi as a reactor, -I sdk, the folder's C
# sources plus sdk/sos.c) with -Wall -Wextra -Werror added, into
# $(B)/apps/NAME.wasm (apps with IDL declarations: see IDL_APPS below).
# `make apps` builds them all.  What they do is tested against a real node
# by tests/kernel.sh.

SDK_CC      ?= clang --target=wasm32-wasi
SDK_CFLAGS  := -O2 -flto -std=c11 -mexec-model=reactor -mbulk-memory -ftls-model=local-exec -I sdk
SDK_WARN    := -Wall -Wextra -Werror
SDK_DEPS    := sdk/sos.c sdk/sos.h include/sos/abi.h
APP_NAMES   := $(notdir $(patsubst %/app.sos,%,$(wildcard apps/*/app.sos)))
APP_WASM    := $(APP_NAMES:%=$(B)/apps/%.wasm)

# Apps that declare or import structs, enums or interfaces also get the C
# code of `sos idl`, as `sos build` gives them: generated into
# $(B)/apps/gen/NAME/ (NAME.sos.h, NAME.sos.c) by $(B)/sos and compiled
# with sdk/sos_wire.c, sdk/sos_typed.c and sdk/sos_json.c.  They depend on every app.sos, since one app may
# import another's.
IDL_APPS    := $(notdir $(patsubst %/app.sos,%,$(shell grep -lE \
                 '^[[:space:]]*(struct|enum|interface|import)[[:space:]]' apps/*/app.sos)))
IDL_DEPS    := $(B)/sos $(wildcard apps/*/app.sos) sdk/sos_wire.c sdk/sos_wire.h sdk/sos_typed.c sdk/sos_json.c

# One rule per app: its sources are every .c file in its folder.
define sdk_app_rule
$(B)/apps/$(1).wasm: $(wildcard apps/$(1)/*.c apps/$(1)/*.h) $(SDK_DEPS)
	@mkdir -p $$(dir $$@)
	$(SDK_CC) $(SDK_CFLAGS) $(SDK_WARN) -o $$@ $(wildcard apps/$(1)/*.c) sdk/sos.c
endef
$(foreach a,$(filter-out $(IDL_APPS),$(APP_NAMES)),$(eval $(call sdk_app_rule,$(a))))

# The same for an app with IDL declarations, plus its generated code (a
# copy of it left in the app's folder by `sos idl` is not compiled).
define idl_app_rule
$(B)/apps/$(1).wasm: $(wildcard apps/$(1)/*.c apps/$(1)/*.h) $(SDK_DEPS) $(IDL_DEPS)
	@mkdir -p $$(dir $$@) $(B)/apps/gen/$(1)
	$(B)/sos idl -o $(B)/apps/gen/$(1) apps/$(1) >/dev/null
	$(SDK_CC) $(SDK_CFLAGS) $(SDK_WARN) -I $(B)/apps/gen/$(1) -o $$@ \
	  $(filter-out %.sos.c,$(wildcard apps/$(1)/*.c)) $(B)/apps/gen/$(1)/$(1).sos.c \
	  sdk/sos.c sdk/sos_wire.c sdk/sos_typed.c sdk/sos_json.c
endef
$(foreach a,$(IDL_APPS),$(eval $(call idl_app_rule,$(a))))

apps: $(APP_WASM)

.PHONY: apps
