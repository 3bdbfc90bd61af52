# mipsel: MT7621 routers (MIPS 1004Kc, no FPU: the kernel emulates the few float instructions musl's printf has; pollux prints no floats).
# A static musl binary from Debian's cross gcc (mipsel-linux-gnu-gcc) and musl-dev:mipsel.
CROSS    ?= mipsel-linux-gnu-
MUSL     ?= /usr/lib/mipsel-linux-musl
CC       ?= $(CROSS)gcc -specs $(MUSL)/musl-gcc.specs
AR       ?= $(CROSS)ar
STRIP    ?= $(CROSS)strip
OPTFLAGS ?= -Os -march=mips32r2 -mtune=1004kc
LDSTATIC ?= -static
QEMU     := qemu-mipsel-static
PACKAGES := gcc-mipsel-linux-gnu musl-dev:mipsel qemu-user-static
DPKG_ARCH := mipsel
