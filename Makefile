# etl - build, test, install and benchmark.
#
#   make                 programs into bin/
#   make check           every test (tests/run); ends with "N passed, N failed"
#   make check TESTS=46-stop  only the test files whose path contains 46-stop
#   make check SANITIZE=1  the same under AddressSanitizer + UBSan (build/san/)
#   make check SANITIZE=thread  the same under ThreadSanitizer (build/tsan/)
#   make install PREFIX=/usr/local DESTDIR=
#   make bench           benchmarks against the tools users would pick instead
#   make clean

VERSION = 0.1.0
PREFIX ?= /usr/local
BINDIR = $(PREFIX)/bin
INCLUDEDIR = $(PREFIX)/include
LIBDIR = $(PREFIX)/lib
PKGCONFIGDIR = $(PREFIX)/share/pkgconfig
MANDIR = $(PREFIX)/share/man
BASHCOMPDIR = $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR = $(PREFIX)/share/zsh/site-functions

CC ?= cc
PKG_CONFIG ?= pkg-config
CFLAGS ?= -O2 -g
STD = -std=c11 -D_POSIX_C_SOURCE=200809L
WARN = -Wall -Wextra -Wpedantic
PKGS = jansson zlib libpq libmariadb sqlite3 libmicrohttpd gnutls yajl libcurl libnats libseccomp
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
ALL_CFLAGS = $(STD) $(WARN) $(CFLAGS) $(PKG_CFLAGS) -Ilib -DETL_VERSION='"$(VERSION)"' -MMD -MP

ifeq ($(SANITIZE),1)
O = build/san
BIN = build/san/bin
SAN = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
else ifeq ($(SANITIZE),thread)
O = build/tsan
BIN = build/tsan/bin
SAN = -fsanitize=thread -fno-omit-frame-pointer
else
O = build/obj
BIN = bin
SAN =
endif

LIB_SRC = $(wildcard lib/*.c)
LIB_OBJ = $(LIB_SRC:lib/%.c=$(O)/lib/%.o)
LIBETL = $(O)/libetl.a
PROGRAMS = $(patsubst src/%.c,$(BIN)/%,$(wildcard src/*.c))
UNIT_TESTS = $(patsubst tests/unit/%.c,$(O)/tests/%,$(wildcard tests/unit/*.c))

# Libraries every program links, then each program's own.
LIBS_common = $(shell $(PKG_CONFIG) --libs jansson zlib yajl) -pthread -lm
LIBS_etl-map = -ldl
LIBS_etl-load-sql = $(shell $(PKG_CONFIG) --libs libpq libmariadb sqlite3 2>/dev/null)
LIBS_etl-extract-sql = $(shell $(PKG_CONFIG) --libs libpq libmariadb sqlite3 libseccomp 2>/dev/null)
LIBS_etl-extract-http = $(shell $(PKG_CONFIG) --libs libmicrohttpd gnutls nettle libseccomp 2>/dev/null)
LIBS_etl-load-http = $(shell $(PKG_CONFIG) --libs libcurl nettle libseccomp 2>/dev/null)
LIBS_etl-extract-nats = $(shell $(PKG_CONFIG) --libs libnats libmicrohttpd nettle libseccomp 2>/dev/null)
LIBS_etl-load-nats = $(shell $(PKG_CONFIG) --libs libnats libseccomp 2>/dev/null)
LIBS_all = $(LIBS_etl-map) $(LIBS_etl-load-sql) $(LIBS_etl-extract-http) $(LIBS_etl-load-http) $(LIBS_etl-extract-nats)

.PHONY: all check npm-modules check-san install uninstall bench clean demo fuzz
# Every build on all processors; objects are kept (not intermediate), so a
# second make does nothing.
MAKEFLAGS += -j$(shell nproc 2>/dev/null || echo 1)
.SECONDARY:
all: $(PROGRAMS)

$(O)/lib/%.o: lib/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(SAN) -fPIC -c $< -o $@

$(LIBETL): $(LIB_OBJ)
	rm -f $@
	$(AR) rcs $@ $(LIB_OBJ)

$(O)/src/%.o: src/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(SAN) -c $< -o $@

$(BIN)/%: $(O)/src/%.o $(LIBETL)
	@mkdir -p $(@D)
	$(CC) $(SAN) $(LDFLAGS) -rdynamic $< $(LIBETL) $(LIBS_$*) $(LIBS_common) -o $@

$(O)/tests/%.o: tests/unit/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(SAN) -c $< -o $@

$(O)/tests/%: $(O)/tests/%.o $(LIBETL)
	$(CC) $(SAN) $(LDFLAGS) $< $(LIBETL) $(LIBS_all) $(LIBS_common) -o $@

# Transforms: the examples users copy, and the benchmark's.
TRANSFORMS = $(patsubst %.c,$(O)/%.so,$(wildcard examples/*.c) bench/total.c)
# md5.so reads base64 with lib/b64 (built position-independent), linked in.
LIBS_md5 = $(O)/lib/b64.o $(shell $(PKG_CONFIG) --libs nettle 2>/dev/null) -pthread
$(O)/examples/md5.so: $(O)/lib/b64.o
$(O)/examples/%.so: examples/%.c lib/etl.h
	@mkdir -p $(@D)
	$(CC) $(STD) $(WARN) $(CFLAGS) $(SAN) -shared -fPIC -Ilib $(shell $(PKG_CONFIG) --cflags jansson) $< -o $@ $(LIBS_$*) -lm
$(O)/bench/%.so: bench/%.c lib/etl.h
	@mkdir -p $(@D)
	$(CC) $(STD) $(WARN) $(CFLAGS) $(SAN) -shared -fPIC -Ilib $(shell $(PKG_CONFIG) --cflags jansson) $< -o $@
all: $(TRANSFORMS)

# The transform in a second language, built only where rustc is installed.
RUSTC ?= rustc
ifneq ($(shell command -v $(RUSTC) 2>/dev/null),)
$(O)/examples/upper-rs.so: examples/rust/upper.rs
	@mkdir -p $(@D)
	MAKEFLAGS= $(RUSTC) --edition 2021 -O --crate-type cdylib $< -o $@
all: $(O)/examples/upper-rs.so
endif

# The npm modules come over the network while the build runs.
check: npm-modules all $(UNIT_TESTS)
	@tests/deps.sh
	ETL_BIN=$(CURDIR)/$(BIN) ETL_UNIT=$(CURDIR)/$(O)/tests ETL_TRANSFORMS=$(CURDIR)/$(O) \
	    ETL_SANITIZE=$(SANITIZE) tests/run $(TESTS)

npm-modules:
	@tests/deps.sh --npm

bench: all
	bench/run

# The README's first command: the main job on SQLite, end to end.
demo:
	@tests/deps.sh
	@$(MAKE) -s all
	@examples/demo.sh

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(INCLUDEDIR) \
	    $(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(MANDIR)/man1 \
	    $(DESTDIR)$(MANDIR)/man3 $(DESTDIR)$(MANDIR)/man7 \
	    $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR)
	install -m 755 $(PROGRAMS) $(DESTDIR)$(BINDIR)
	install -m 644 lib/etl.h $(DESTDIR)$(INCLUDEDIR)/etl.h
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' etl.pc.in \
	    > $(DESTDIR)$(PKGCONFIGDIR)/etl.pc
	for m in man/*.1; do [ -f "$$m" ] && install -m 644 "$$m" $(DESTDIR)$(MANDIR)/man1; done; true
	for m in man/*.3; do [ -f "$$m" ] && install -m 644 "$$m" $(DESTDIR)$(MANDIR)/man3; done; true
	for m in man/*.7; do [ -f "$$m" ] && install -m 644 "$$m" $(DESTDIR)$(MANDIR)/man7; done; true
	if [ -f completion/etl.bash ]; then for p in $(notdir $(PROGRAMS)); do \
	    install -m 644 completion/etl.bash $(DESTDIR)$(BASHCOMPDIR)/$$p; done; fi
	if [ -f completion/_etl ]; then install -m 644 completion/_etl $(DESTDIR)$(ZSHCOMPDIR)/_etl; fi

clean:
	rm -rf build bin

-include $(LIB_OBJ:.o=.d) $(wildcard $(O)/src/*.d) $(wildcard $(O)/tests/*.d)

# Fuzzing (libFuzzer, clang): each target runs FUZZ_SECONDS from its seed
# corpus in tests/fuzz/corpus/<name>; new inputs go to build/fuzz/corpus.
# FUZZ_LDFLAGS_<name> and FUZZ_ARGS_<name> are a target's own link flags and
# libFuzzer options: the reader's inputs choose the sizes read(2) returns
# (it wraps read) and must be long enough to cross its 256 KiB chunks.
FUZZ_SECONDS ?= 60
FUZZ_CC ?= clang
FUZZ_FLAGS = -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZ_TARGETS = $(patsubst tests/fuzz/fuzz-%.c,build/fuzz/fuzz-%,$(wildcard tests/fuzz/fuzz-*.c))
FUZZ_LDFLAGS_reader = -Wl,--wrap=read
FUZZ_ARGS_reader = -max_len=300000
FUZZ_LIBS = $(shell $(PKG_CONFIG) --libs jansson zlib libpq libmariadb sqlite3 libmicrohttpd gnutls nettle yajl libnats libseccomp 2>/dev/null) -pthread -lm -ldl

# lib/ is compiled once for all the targets, instrumented (fuzzer-no-link).
FUZZ_LIB_OBJ = $(LIB_SRC:lib/%.c=build/fuzz/lib/%.o)
build/fuzz/lib/%.o: lib/%.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(STD) $(PKG_CFLAGS) -Ilib $(FUZZ_FLAGS:fuzzer,%=fuzzer-no-link,%) -MMD -MP -c $< -o $@
build/fuzz/libetl.a: $(FUZZ_LIB_OBJ)
	rm -f $@
	$(AR) rcs $@ $(FUZZ_LIB_OBJ)
build/fuzz/fuzz-%: tests/fuzz/fuzz-%.c build/fuzz/libetl.a
	@mkdir -p $(@D)
	$(FUZZ_CC) $(STD) $(PKG_CFLAGS) -Ilib $(FUZZ_FLAGS) $< build/fuzz/libetl.a $(FUZZ_LDFLAGS_$*) $(FUZZ_LIBS) -o $@
-include $(FUZZ_LIB_OBJ:.o=.d)

# The targets run side by side, one per processor (make -j).
fuzz: $(FUZZ_TARGETS:build/fuzz/fuzz-%=fuzz-run-%)
fuzz-run-%: build/fuzz/fuzz-%
	@mkdir -p build/fuzz/corpus/$*
	@build/fuzz/fuzz-$* -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 $(FUZZ_ARGS_$*) \
	    -artifact_prefix=build/fuzz/$*- build/fuzz/corpus/$* tests/fuzz/corpus/$* \
	    >build/fuzz/$*.log 2>&1; status=$$?; \
	echo "fuzz: $* for $(FUZZ_SECONDS) s"; \
	grep -E '^(#[0-9]+.*DONE|stat::number_of_executed_units|==[0-9]+==ERROR|SUMMARY)' build/fuzz/$*.log; \
	[ $$status -eq 0 ] || { tail -n 40 build/fuzz/$*.log; exit $$status; }

# The benchmark and test data generator.
build/gen-orders: bench/gen-orders.c
	@mkdir -p $(@D)
	$(CC) $(STD) $(WARN) -O2 $< -o $@
all: build/gen-orders
