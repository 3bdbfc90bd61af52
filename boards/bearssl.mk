# Builds libbearssl.a from BearSSL's source tree with the board's compiler and flags.
# Called by the main Makefile: make -f boards/bearssl.mk SRC=dir INC=dir OUTDIR=dir CC=...
# CFLAGS=... (INC: the headers, see BSSL_INC in the Makefile)
BSRCS := $(wildcard $(SRC)/src/*/*.c) $(SRC)/src/settings.c
BOBJS := $(patsubst $(SRC)/src/%.c,$(OUTDIR)/%.o,$(BSRCS))

$(OUTDIR)/libbearssl.a: $(BOBJS)
	@rm -f $@
	@echo "AR $@"
	@$(AR) rcs $@ $(BOBJS)

$(OUTDIR)/%.o: $(SRC)/src/%.c $(FLAGS)
	@mkdir -p $(dir $@)
	@$(CC) $(CFLAGS) -I$(INC) -I$(SRC)/src -c -o $@ $<
