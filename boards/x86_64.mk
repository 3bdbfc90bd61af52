# x86_64: the host, a static musl binary.
CC       ?= musl-gcc
# -O2 for pollux and BearSSL: BearSSL's EC, RSA and ECDSA run 15-23% faster and the
# request path is shorter than at -Os, for 45 KiB of binary (about 242 KiB in all,
# under the 256 KiB budget). The other boards keep -Os: their budget is flash.
OPTFLAGS ?= -O2
LDSTATIC ?= -static
