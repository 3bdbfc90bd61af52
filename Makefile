# pollux: make [BOARD=x86_64] [CONFIG=config.h] [OUT=pollux] [BEARSSL_SRC=dir]
# Honours CC CFLAGS LDFLAGS DESTDIR PREFIX from outside (OpenWrt and Buildroot pass them).

BOARD  ?= x86_64
CONFIG ?= config.h
OUT    ?= pollux
PREFIX ?= /usr/local
HOSTCC ?= cc

# make's built-in default CC gives way to the board's compiler; CC=... from outside wins
ifeq ($(origin CC),default)
undefine CC
endif
ifeq ($(origin AR),default)
undefine AR
endif
include boards/$(BOARD).mk
AR    ?= ar
STRIP ?= strip

# a cross board whose compiler is missing: say what to install (boards/deps.sh boards
# does it as root); a CC from outside (OpenWrt, Buildroot) is used as given
ifneq ($(PACKAGES),)
ifeq ($(origin CC),file)
ifeq ($(shell command -v $(CROSS)gcc 2>/dev/null),)
$(error $(BOARD): $(CROSS)gcc not found; as root run boards/deps.sh boards, or: dpkg --add-architecture $(DPKG_ARCH) && apt-get update && apt-get install $(PACKAGES))
endif
endif
endif

CONFNAME := $(subst /,_,$(basename $(CONFIG)))
B        := build/$(BOARD)/$(CONFNAME)
BB       := build/$(BOARD)/bearssl
BEARSSL_SRC ?= build/src/bearssl
BSSL_LIB := $(BB)/libbearssl.a

WARN     := -std=c11 -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Werror
DEFS     := -D_GNU_SOURCE -DPOLLUX_BOARD='"$(BOARD)"' 
SIZEFL   := -ffunction-sections -fdata-sections
ALLCFLAGS = $(WARN) $(DEFS) $(OPTFLAGS) $(SIZEFL) -I$(BEARSSL_SRC)/inc $(CFLAGS)
ALLLDFLAGS = $(OPTFLAGS) $(LDSTATIC) -Wl,--gc-sections $(LDFLAGS)

SRCS := $(wildcard src/*.c)
OBJS := $(patsubst src/%.c,$(B)/%.o,$(SRCS))

.PHONY: all run test test-boards clean install fuzz bench deps-build FORCE
all: $(OUT)

$(OUT): $(OBJS) $(BSSL_LIB) $(B)/confcheck.ok
	@mkdir -p $(dir $@)
	$(CC) $(ALLLDFLAGS) -o $@ $(OBJS) $(BSSL_LIB) $(LDLIBS)
	$(STRIP) $@

# the TLS and auth modules include BearSSL's headers: fetch its source first
$(B)/%.o: src/%.c $(B)/flags | $(B)/.dir $(BEARSSL_SRC)/inc/bearssl.h
	$(CC) $(ALLCFLAGS) -MMD -MP -c -o $@ $<

# objects are rebuilt when the compiler or its flags change
$(B)/flags: FORCE | $(B)/.dir
	@echo '$(CC) $(ALLCFLAGS)' | cmp -s - $@ || echo '$(CC) $(ALLCFLAGS)' >$@

# only conf.c sees the user's config.h
$(B)/conf.o: CFLAGS += -DCONFIG_FILE='"$(abspath $(CONFIG))"'
$(B)/conf.o: $(CONFIG)

# a broken table fails the build here, with a message naming the entry
$(B)/confcheck: src/conf.c src/guard.c src/*.h $(CONFIG) | $(B)/.dir
	$(HOSTCC) $(WARN) $(DEFS) -DCONF_CHECK -DCONFIG_FILE='"$(abspath $(CONFIG))"' \
		-o $@ src/conf.c src/guard.c src/util.c
$(B)/confcheck.ok: $(B)/confcheck
	$(B)/confcheck $(CONFIG)
	@touch $@

$(B)/.dir:
	@mkdir -p $(B) && touch $@

$(BEARSSL_SRC)/inc/bearssl.h:
	@mkdir -p $(dir $(BEARSSL_SRC))
	boards/bearssl.sh $(BEARSSL_SRC)

# BearSSL may be optimised apart from pollux (a board trades its speed for size)
BSSL_OPTFLAGS ?= $(OPTFLAGS)
BSSL_FLAGS = $(CC) $(BSSL_OPTFLAGS) $(SIZEFL) $(BSSL_CFLAGS) $(CFLAGS)
$(BB)/flags: FORCE
	@mkdir -p $(BB)
	@echo '$(BSSL_FLAGS)' | cmp -s - $@ || echo '$(BSSL_FLAGS)' >$@

$(BSSL_LIB): $(BEARSSL_SRC)/inc/bearssl.h $(BB)/flags
	$(MAKE) -f boards/bearssl.mk SRC=$(BEARSSL_SRC) OUTDIR=$(BB) CC="$(CC)" AR="$(AR)" \
		CFLAGS="$(BSSL_OPTFLAGS) $(SIZEFL) $(BSSL_CFLAGS) $(CFLAGS)" FLAGS=$(BB)/flags

deps-build:
	@boards/deps.sh build

# the README's first command: deps, build, demo backends, pollux in the foreground
run:
	@boards/deps.sh run
	@$(MAKE) --no-print-directory all
	@tests/demo.sh ./$(OUT)

# the README's second command: every test, ending with "N passed, N failed"
test:
	@boards/deps.sh test
	@tests/run

fuzz:
	@tests/run fuzz

# every cross board built and put through the integration suite under qemu-user
test-boards:
	@tests/boards

# pollux, nginx and HAProxy side by side on loopback; a table of ratios (pollux's build
# needs musl-gcc; the run installs nginx, HAProxy and wrk itself)
bench:
	@boards/deps.sh build
	@tests/bench/run

install: $(OUT)
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/share/man/man8
	install -m 0755 $(OUT) $(DESTDIR)$(PREFIX)/sbin/pollux
	install -m 0644 boards/pollux.8 $(DESTDIR)$(PREFIX)/share/man/man8/pollux.8

clean:
	rm -rf build pollux

-include $(OBJS:.o=.d)
