# mk/kernel.mk - tools for the kernel tests (tests/kernel.sh).
# $(B)/tests/poke writes raw bytes to a control socket.

$(B)/tests/poke: tests/kernel/poke.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $<

kernel-tools: $(B)/tests/poke
.PHONY: kernel-tools
