# aarch64: Raspberry Pi 4/5, MT7622/MT7986 routers.
# A static musl binary from Debian's cross gcc (aarch64-linux-gnu-gcc) and musl-dev:arm64.
CROSS    ?= aarch64-linux-gnu-
MUSL     ?= /usr/lib/aarch64-linux-musl
CC       ?= $(CROSS)gcc -specs $(MUSL)/musl-gcc.specs
AR       ?= $(CROSS)ar
STRIP    ?= $(CROSS)strip
OPTFLAGS ?= -Os -march=armv8-a
LDSTATIC ?= -static
QEMU     := qemu-aarch64-static
PACKAGES := gcc-aarch64-linux-gnu musl-dev:arm64 qemu-user-static
DPKG_ARCH := arm64
