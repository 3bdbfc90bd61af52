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

# BearSSL's headers as pollux and its BearSSL build see them: a copy of $(BEARSSL_SRC)/inc
# with one constant changed. BR_MAX_CIPHER_SUITES (48) sizes two arrays of every engine
# and bounds a loop of the server's handshake code, which looks each of its 48 slots up
# in BearSSL's table of 46 suites, empty ones included (about 540,000 instructions per
# handshake, full or resumed: callgrind). pollux offers 6 suites (src/tls.c checks that
# they fit), so 8 slots do; each engine is 240 bytes smaller. The source stays as fetched.
BSSL_SUITES := 8
BSSL_INC := build/bearssl-inc/suites$(BSSL_SUITES)

WARN     := -std=c11 -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Werror
DEFS     := -D_GNU_SOURCE -DPOLLUX_BOARD='"$(BOARD)"' 
SIZEFL   := -ffunction-sections -fdata-sections
ALLCFLAGS = $(WARN) $(DEFS) $(OPTFLAGS) $(SIZEFL) -I$(BSSL_INC) $(CFLAGS)
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
$(B)/%.o: src/%.c $(B)/flags | $(B)/.dir $(BSSL_INC)/bearssl.h
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
BSSL_FLAGS = $(CC) $(BSSL_OPTFLAGS) $(SIZEFL) -I$(BSSL_INC) $(BSSL_CFLAGS) $(CFLAGS)
$(BB)/flags: FORCE
	@mkdir -p $(BB)
	@echo '$(BSSL_FLAGS)' | cmp -s - $@ || echo '$(BSSL_FLAGS)' >$@

$(BSSL_LIB): $(BSSL_INC)/bearssl.h $(BB)/flags
	$(MAKE) -f boards/bearssl.mk SRC=$(BEARSSL_SRC) INC=$(BSSL_INC) OUTDIR=$(BB) CC="$(CC)" \
		AR="$(AR)" CFLAGS="$(BSSL_OPTFLAGS) $(SIZEFL) $(BSSL_CFLAGS) $(CFLAGS)" FLAGS=$(BB)/flags

# the copy is made whole in a temporary directory, and fails when the line is not found
$(BSSL_INC)/bearssl.h: $(BEARSSL_SRC)/inc/bearssl.h
	@rm -rf $(BSSL_INC) $(BSSL_INC).tmp && mkdir -p $(BSSL_INC).tmp
	@cp $(BEARSSL_SRC)/inc/*.h $(BSSL_INC).tmp/
	@sed -i 's/^#define BR_MAX_CIPHER_SUITES .*/#define BR_MAX_CIPHER_SUITES   $(BSSL_SUITES)/' \
		$(BSSL_INC).tmp/bearssl_ssl.h
	@grep -q '^#define BR_MAX_CIPHER_SUITES   $(BSSL_SUITES)$$' $(BSSL_INC).tmp/bearssl_ssl.h || \
		{ echo "pollux: BR_MAX_CIPHER_SUITES not found in bearssl_ssl.h" >&2; exit 1; }
	@mv $(BSSL_INC).tmp $(BSSL_INC)

# a variable's value, for scripts (tests/fuzz/run asks for BSSL_INC)
print-%:
	@echo '$($*)'

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
