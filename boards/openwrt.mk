# openwrt: the OpenWrt SDK's toolchain (musl already); CC, CFLAGS and STRIP come from
# the package Makefile (boards/openwrt/Makefile).
OPTFLAGS ?= -Os
LDSTATIC ?= -static
