# scripts/zydis-fs.mk — Zydis compiled freestanding for the monitor.
# Sources: Debian's zydis source package, the version userland links
# (libzydis-dev), fetched and extracted by scripts/deps.sh. Flags: exactly
# FS_CFLAGS (no libc, no red zone, no SSE, -mcmodel=kernel) so the archive
# links into hvmm.ko; see docs/monitor-build.md. Included by scripts/Makefile.inc.

ZYDIS_FS_UNITS := Decoder DecoderData SharedData MetaInfo Mnemonic Register \
	Segment Utils Zydis Encoder EncoderData Formatter FormatterBase \
	FormatterBuffer FormatterIntel FormatterATT String Disassembler
ZYDIS_FS_OBJS := $(ZYDIS_FS_UNITS:%=$(BUILD)/zydis-fs/%.o)
# Zydis's own code leaves a few non-static helpers without a prototype.
ZYDIS_FS_CFLAGS := $(FS_CFLAGS) -Wno-missing-prototypes -I$(ZYDIS_SRC)/src \
	-DZYDIS_STATIC_BUILD -DZYCORE_STATIC_BUILD

monitor: $(BUILD)/zydis-fs.a
# hvmm.ko links both archives (Kbuild recipe in docs/monitor-build.md).
module: $(BUILD)/monitor-fs.a $(BUILD)/zydis-fs.a

$(ZYDIS_SRC)/.done:
	@echo "Zydis source package missing in $(ZYDIS_SRC): run ./scripts/deps.sh" >&2
	@exit 1

$(BUILD)/zydis-fs/%.o: $(ZYDIS_SRC)/src/%.c $(BUILD)/fs-include/.stamp
	@mkdir -p $(dir $@)
	$(call say,CC-FS,zydis/$*.c)
	$(Q)$(CC) $(ZYDIS_FS_CFLAGS) -c -o $@ $<

$(BUILD)/zydis-fs.a: $(ZYDIS_FS_OBJS)
	$(call say,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

.PHONY: zydis-fs-clean
clean: zydis-fs-clean
zydis-fs-clean:
	rm -rf $(BUILD)/zydis-fs $(BUILD)/zydis-fs.a

-include $(wildcard $(BUILD)/zydis-fs/*.d)
