# asan: a test profile, not a board. glibc (musl has no sanitizer runtime), clang,
# AddressSanitizer and UndefinedBehaviorSanitizer, not stripped.
CC       := clang
OPTFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
LDSTATIC :=
STRIP    := true
# BearSSL loads little-endian words unaligned on purpose where the CPU allows it
BSSL_CFLAGS := -fno-sanitize=alignment
