# armv7: hard float: Raspberry Pi 2/3, many ARM routers.
# A static musl binary from Debian's cross gcc (arm-linux-gnueabihf-gcc) and musl-dev:armhf.
CROSS    ?= arm-linux-gnueabihf-
MUSL     ?= /usr/lib/arm-linux-musleabihf
CC       ?= $(CROSS)gcc -specs $(MUSL)/musl-gcc.specs
AR       ?= $(CROSS)ar
STRIP    ?= $(CROSS)strip
OPTFLAGS ?= -Os -march=armv7-a -mfpu=vfpv3-d16 -mfloat-abi=hard -mthumb
LDSTATIC ?= -static
QEMU     := qemu-arm-static
PACKAGES := gcc-arm-linux-gnueabihf musl-dev:armhf qemu-user-static
DPKG_ARCH := armhf
