# astro-cred: one GNU Makefile.  See README.md for the two commands that
# matter on a fresh machine: `make demo` and `make check`.
#
# Layout of the build (the same under $(BUILD) and under $(PREFIX)):
#   bin/astro-cred, bin/docker-credential-astro -> astro-cred
#   lib/astro-cred/net.so       Astro API client (libcurl, OpenSSL) helper/api/api*.c
#   lib/astro-cred/keyring.so   Secret Service (GDBus)        backends/keyring*.c
# The executable links libsodium (statically unless SODIUM_STATIC=0) and
# cJSON only; see helper/base/module.h.

PREFIX ?= /usr/local
DESTDIR ?=
BUILD ?= build
SAN ?=
VERSION := 0.1.0
FUZZ_SECONDS ?= 60

CC ?= cc
PKG_CONFIG ?= pkg-config
CORE_PKGS := libsodium libcjson
# openssl: net.so calls OpenSSL itself to make it wipe what it frees and
# the plaintext it has read (helper/api/api_mem.h; security.md 3.8, M-02).
# Debian's libcurl4-openssl loads libssl and libcrypto anyway, so this
# adds no library at run time, and only to net.so: the executable still
# loads neither (t0700-startup.sh).
NET_PKGS := libcurl openssl
KEYRING_PKGS := gio-2.0

WARN := -Wall -Wextra -Wformat=2 -Wshadow -Wmissing-prototypes \
	-Wstrict-prototypes -Werror
CFLAGS ?= -O2 -g
BASE_CFLAGS := -std=c11 -D_GNU_SOURCE -fPIC -I. $(WARN) \
	-DASTRO_CRED_VERSION='"$(VERSION)"'
ifeq ($(SAN),1)
CFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
	-fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif

# Quiet build lines; `make V=1` shows the full commands.
ifeq ($(V),1)
Q :=
else
Q = @echo "  $(1) $@";
endif

# pkg-config runs when a recipe first needs its answer, not when this file
# is read: on a fresh machine `make demo` and `make check` install the -dev
# packages (and pkg-config itself) through scripts/deps first, and flags
# computed at parse time would be empty (tests/t/t0925-fresh-machine.sh).
# lazy NAME,VALUE: set NAME to VALUE once, on first use, and return it.
lazy = $(eval $(1) := $(2))$($(1))
pc_cflags = $(shell $(PKG_CONFIG) --cflags $(1))
pc_libs = $(shell $(PKG_CONFIG) --libs $(1))
CORE_CFLAGS = $(call lazy,CORE_CFLAGS,$(call pc_cflags,$(CORE_PKGS)))
NET_CFLAGS = $(call lazy,NET_CFLAGS,$(call pc_cflags,$(NET_PKGS)))
KEYRING_CFLAGS = $(call lazy,KEYRING_CFLAGS,$(call pc_cflags,$(KEYRING_PKGS)))
# libsodium is linked statically into the executable by default.  Why: a
# cache-hit `get` is a short process, and each shared object costs it an
# open, four mmaps, an mprotect, its relocations and page faults; for
# libsodium that was about a tenth of the run (make bench: 1.57x -> 1.45x
# of a bare C process under load, the target being 1.5x).  The price: a
# Debian security update to libsodium reaches astro-cred only when
# astro-cred is rebuilt (the library's own updates no longer replace the
# code in the binary).  SODIUM_STATIC=0 links it dynamically, as a
# distribution package should.  The modules use libsodium through the
# executable (--export-dynamic exports what was linked in; net.so needs
# randombytes_uniform, which comes with randombytes_buf).
SODIUM_STATIC ?= 1
ifeq ($(SODIUM_STATIC),1)
SODIUM_LIBS = $(call lazy,SODIUM_LIBS,\
	$(shell $(PKG_CONFIG) --variable=libdir libsodium)/libsodium.a)
else
SODIUM_LIBS = $(call lazy,SODIUM_LIBS,$(call pc_libs,libsodium))
endif
CORE_LIBS = $(SODIUM_LIBS) $(call lazy,CJSON_LIBS,$(call pc_libs,libcjson)) -ldl
# Full RELRO and no lazy binding for the executable and the modules.  Also
# for secrets: the lazy-binding resolver (_dl_runtime_resolve_xsavec) saves
# every vector register on the stack, and after a memcpy or strlen of a
# token they hold pieces of it, left in dead stack frames until exit
# (security.md 3.8, M-02; tests/t/t0860-residue.sh counts them).
BIND_LDFLAGS := -Wl,-z,relro -Wl,-z,now
NET_LIBS = $(call lazy,NET_LIBS,$(call pc_libs,$(NET_PKGS)))
KEYRING_LIBS = $(call lazy,KEYRING_LIBS,$(call pc_libs,$(KEYRING_PKGS)))

ALL_SRCS := $(wildcard helper/*/*.c protocol/*.c backends/*.c)
NET_SRCS := $(wildcard helper/api/api*.c)
KEYRING_SRCS := $(wildcard backends/keyring*.c)
MAIN_SRC := helper/cmd/main.c
CORE_SRCS := $(filter-out $(NET_SRCS) $(KEYRING_SRCS) $(MAIN_SRC),$(ALL_SRCS))

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))
CORE_OBJS := $(call obj,$(CORE_SRCS))
NET_OBJS := $(call obj,$(NET_SRCS))
KEYRING_OBJS := $(call obj,$(KEYRING_SRCS))
MAIN_OBJ := $(call obj,$(MAIN_SRC))

BIN := $(BUILD)/bin/astro-cred
DOCKER_BIN := $(BUILD)/bin/docker-credential-astro
MODDIR := $(BUILD)/lib/astro-cred
MODULES := $(if $(NET_SRCS),$(MODDIR)/net.so) \
	$(if $(KEYRING_SRCS),$(MODDIR)/keyring.so)

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
TEST_TOOL_SRCS := $(wildcard tests/tools/*.c)
TEST_TOOLS := $(patsubst tests/tools/%.c,$(BUILD)/tests/%,$(TEST_TOOL_SRCS))

.PHONY: all check demo bench fuzz fuzz-smoke install uninstall clean style \
	layering deps test-build unit-tests hardening memcheck
all: $(BIN) $(DOCKER_BIN) $(MODULES)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(call Q,CC)$(CC) $(BASE_CFLAGS) $(CORE_CFLAGS) $(NET_CFLAGS) $(KEYRING_CFLAGS) \
		$(CFLAGS) -MMD -MP -c -o $@ $<

$(BIN): $(MAIN_OBJ) $(CORE_OBJS)
	@mkdir -p $(dir $@)
	$(call Q,LD)$(CC) $(LDFLAGS) $(BIND_LDFLAGS) -Wl,--export-dynamic -o $@ $^ \
		$(CORE_LIBS)

$(DOCKER_BIN): $(BIN)
	ln -sf astro-cred $@

$(MODDIR)/net.so: $(NET_OBJS)
	@mkdir -p $(dir $@)
	$(call Q,LD)$(CC) $(LDFLAGS) $(BIND_LDFLAGS) -shared -o $@ $^ $(NET_LIBS)

$(MODDIR)/keyring.so: $(KEYRING_OBJS)
	@mkdir -p $(dir $@)
	$(call Q,LD)$(CC) $(LDFLAGS) $(BIND_LDFLAGS) -shared -o $@ $^ \
		$(KEYRING_LIBS)

# Unit tests link every object directly (no modules) with every library.
$(BUILD)/tests/%: tests/unit/%.c $(CORE_OBJS) $(NET_OBJS) $(KEYRING_OBJS)
	@mkdir -p $(dir $@)
	$(call Q,LD)$(CC) $(BASE_CFLAGS) $(CORE_CFLAGS) $(NET_CFLAGS) $(KEYRING_CFLAGS) \
		$(CFLAGS) $(LDFLAGS) -o $@ $^ $(CORE_LIBS) $(NET_LIBS) \
		$(KEYRING_LIBS)
$(BUILD)/tests/%: tests/tools/%.c $(CORE_OBJS) $(NET_OBJS) $(KEYRING_OBJS)
	@mkdir -p $(dir $@)
	$(call Q,LD)$(CC) $(BASE_CFLAGS) $(CORE_CFLAGS) $(NET_CFLAGS) $(KEYRING_CFLAGS) \
		$(CFLAGS) $(LDFLAGS) -o $@ $^ $(CORE_LIBS) $(NET_LIBS) \
		$(KEYRING_LIBS)
# backend-tool is linked as the executable is (core objects, libsodium and
# cJSON only, --export-dynamic) so that it loads keyring.so like astro-cred.
$(BUILD)/tests/backend-tool: tests/tools/backend-tool.c $(CORE_OBJS)
	@mkdir -p $(dir $@)
	$(call Q,LD)$(CC) $(BASE_CFLAGS) $(CORE_CFLAGS) $(CFLAGS) $(LDFLAGS) \
		-Wl,--export-dynamic -o $@ $^ $(CORE_LIBS)

test-build: all $(UNIT_BINS) $(TEST_TOOLS)

deps:
	@scripts/deps

# check: install what is missing, build everything with ASan + UBSan, and
# run every layer (C unit tests, shell tests against the emulator and a
# real Secret Service, the fuzz smoke run) through prove.
check: deps
	$(MAKE) style
	$(MAKE) layering
	$(MAKE) test-build BUILD=build-san SAN=1
	$(MAKE) all
	$(MAKE) fuzz-smoke
	ASTRO_CRED_BUILD=$(CURDIR)/build-san ASTRO_CRED_RELEASE=$(CURDIR)/build \
		tests/run

# hardening: the crash, power-loss, HTTP, canary, hygiene and concurrency tests at full
# size (every fault point; 128 x 20 stampede), then memcheck.  make check
# runs the same tests at smoke size.  See docs/security.md.
hardening: deps
	$(MAKE) test-build BUILD=build-san SAN=1
	$(MAKE) all
	FULL=1 STAMPEDE_N=128 STAMPEDE_RUNS=20 ASTRO_CRED_BUILD=$(CURDIR)/build-san \
		ASTRO_CRED_RELEASE=$(CURDIR)/build tests/run -v tests/t/t08*.sh
	$(MAKE) memcheck

# memcheck: representative commands under Valgrind on the release build.
memcheck: all
	ASTRO_CRED_BUILD=$(CURDIR)/build-san ASTRO_CRED_RELEASE=$(CURDIR)/build \
		tests/run -v tests/hardening/memcheck

# The build runs in a new make, started after scripts/deps has installed
# what it needs (see the pkg-config note above).
demo: deps
	$(MAKE) all
	tests/demo/run

bench:
	@scripts/deps bench
	$(MAKE) all
	tests/bench/run

# Fuzzing: clang's libFuzzer with ASan + UBSan, one binary per target in
# tests/fuzz/fuzz_*.c, each linked with every library object.
FUZZ_CC ?= clang
FUZZ_BUILD := build-fuzz
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(FUZZ_BUILD)/%,$(FUZZ_SRCS))
FUZZ_LIB_SRCS := $(CORE_SRCS) $(NET_SRCS) $(KEYRING_SRCS)
FUZZ_OBJS := $(patsubst %.c,$(FUZZ_BUILD)/obj/%.o,$(FUZZ_LIB_SRCS))
FUZZ_FLAGS := -g -O1 -fsanitize=fuzzer-no-link,address,undefined

$(FUZZ_BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(call Q,FUZZCC)$(FUZZ_CC) $(BASE_CFLAGS) -Wno-unused-command-line-argument \
		$(CORE_CFLAGS) $(NET_CFLAGS) $(KEYRING_CFLAGS) $(FUZZ_FLAGS) \
		-MMD -MP -c -o $@ $<
$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_OBJS)
	$(call Q,FUZZLD)$(FUZZ_CC) $(BASE_CFLAGS) $(CORE_CFLAGS) -g -O1 \
		-fsanitize=fuzzer,address,undefined -o $@ $^ $(CORE_LIBS) \
		$(NET_LIBS) $(KEYRING_LIBS)

# Keep the objects: make would delete them as intermediates of the pattern.
.SECONDARY: $(FUZZ_OBJS)
fuzz-build: $(FUZZ_BINS)
fuzz-smoke: fuzz-build
	tests/fuzz/run smoke $(FUZZ_BINS)
fuzz: fuzz-build
	tests/fuzz/run $(FUZZ_SECONDS) $(FUZZ_BINS)

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/astro-cred \
		$(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions \
		$(DESTDIR)$(PREFIX)/share/zsh/vendor-completions \
		$(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
	install -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/astro-cred
	ln -sf astro-cred $(DESTDIR)$(PREFIX)/bin/docker-credential-astro
	$(if $(strip $(MODULES)),install -m 0644 $(MODULES) \
		$(DESTDIR)$(PREFIX)/lib/astro-cred/)
	install -m 0644 docs/astro-cred.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 0644 completions/astro-cred.bash \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/astro-cred
	install -m 0644 completions/_astro-cred \
		$(DESTDIR)$(PREFIX)/share/zsh/vendor-completions/_astro-cred
	install -m 0644 completions/astro-cred.fish \
		$(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/astro-cred.fish

# Removes exactly what install put there; the shared directories stay.
uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/astro-cred \
		$(DESTDIR)$(PREFIX)/bin/docker-credential-astro \
		$(DESTDIR)$(PREFIX)/lib/astro-cred/net.so \
		$(DESTDIR)$(PREFIX)/lib/astro-cred/keyring.so \
		$(DESTDIR)$(PREFIX)/share/man/man1/astro-cred.1 \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/astro-cred \
		$(DESTDIR)$(PREFIX)/share/zsh/vendor-completions/_astro-cred \
		$(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/astro-cred.fish
	if [ -d $(DESTDIR)$(PREFIX)/lib/astro-cred ]; then \
		rmdir $(DESTDIR)$(PREFIX)/lib/astro-cred; fi

style:
	@tests/style-check

# layering: which folder may include which (tests/layering, docs/architecture.md).
layering:
	@tests/layering

clean:
	rm -rf build build-san build-fuzz

-include $(shell find $(BUILD) $(FUZZ_BUILD) -name '*.d' 2>/dev/null)
