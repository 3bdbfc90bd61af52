# x86_64: the host, a static musl binary.
CC       ?= musl-gcc
OPTFLAGS ?= -Os
LDSTATIC ?= -static
