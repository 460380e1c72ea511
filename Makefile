# hvmm — top-level build.
#   make            userland binary build/hvmm, the freestanding monitor check
#                   build, and the kernel module host-driver/hvmm.ko
#   make test       unit tests, then system tests; ends with "N passed, N failed"
#   make guest      default Linux guest (686 kernel + busybox initramfs) in build/guest
#   V=1             show commands;  WERROR=1  warnings are errors (CI sets it)
# Sources are found by wildcard: a new .c file in a component folder is built
# without touching this file. Each component may add rules in its Makefile.inc.

BUILD   ?= build
CC      ?= gcc
V       ?= 0
WERROR  ?= 0
Q       := $(if $(filter 1,$(V)),,@)
say      = $(if $(filter 1,$(V)),,@printf '  %-7s %s\n' $(1) $(2);)

WARN := -Wall -Wextra -Wmissing-prototypes -Wstrict-prototypes -Wshadow \
        -Wpointer-arith -Wundef -Wvla -Wwrite-strings -Wformat=2 \
        -Wno-unused-parameter -Wimplicit-fallthrough
ifeq ($(WERROR),1)
WARN += -Werror
endif

CPPFLAGS := -I. -D_GNU_SOURCE
CFLAGS   := -std=gnu11 -O2 -g $(WARN) -MD -MP
LDLIBS   := -lZydis -lnl-3 -lnl-route-3 -lpciaccess -llzma -lpthread -lm
NL_CFLAGS := -I/usr/include/libnl3

# Code shared with the monitor must compile freestanding (see docs/ARCHITECTURE.md).
SHARED_DIRS := monitor shadowmm bt
SHARED_SRCS := $(wildcard $(addsuffix /*.c,$(SHARED_DIRS)))
DEV_SRCS    := $(wildcard devices/*.c)
USER_SRCS   := $(filter-out userland/main.c,$(wildcard userland/*.c))
UNIT_SRCS   := $(wildcard tests/unit/*.c)

SHARED_OBJS := $(SHARED_SRCS:%.c=$(BUILD)/obj/%.o)
DEV_OBJS    := $(DEV_SRCS:%.c=$(BUILD)/obj/%.o)
USER_OBJS   := $(USER_SRCS:%.c=$(BUILD)/obj/%.o)
UNIT_OBJS   := $(UNIT_SRCS:%.c=$(BUILD)/obj/%.o)
LIB_OBJS    := $(SHARED_OBJS) $(DEV_OBJS) $(USER_OBJS)

# Freestanding build of the shared code: no libc headers, no red zone, no SSE,
# kernel code model — the flags the monitor is built with inside hvmm.ko.
GCC_INC  := $(shell $(CC) -print-file-name=include)
FS_CFLAGS := -std=gnu11 -O2 -g $(WARN) -MD -MP -ffreestanding -fno-pic \
        -mno-red-zone -mgeneral-regs-only -mcmodel=kernel -fno-stack-protector \
        -nostdinc -isystem $(GCC_INC) -I. -I$(BUILD)/fs-include -DHVMM_FREESTANDING \
        -DZYAN_NO_LIBC
FS_OBJS  := $(SHARED_SRCS:%.c=$(BUILD)/fs/%.o)

KVER ?= $(shell cat $(BUILD)/cache/testhost-kernel.version 2>/dev/null || \
          ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | sort -V | tail -1 | sed 's,.*/linux-headers-,,')
KDIR ?= /usr/src/linux-headers-$(KVER)

.PHONY: all userland monitor module test unit check guest clean distclean deps
all: userland monitor module

deps:
	./scripts/deps.sh

userland: $(BUILD)/hvmm
monitor: $(BUILD)/monitor-fs.a

$(BUILD)/hvmm: $(BUILD)/obj/userland/main.o $(LIB_OBJS)
	$(call say,LD,$@)
	$(Q)$(CC) -o $@ $^ $(LDLIBS)

$(BUILD)/hvmm-unit: $(UNIT_OBJS) $(LIB_OBJS)
	$(call say,LD,$@)
	$(Q)$(CC) -o $@ $^ -lcunit $(LDLIBS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(call say,CC,$<)
	$(Q)$(CC) $(CPPFLAGS) $(NL_CFLAGS) $(CFLAGS) -c -o $@ $<

# Zydis headers of Debian's source package, the one build/zydis-fs.a is built
# from (scripts/zydis-fs.mk); Zycore is headers only, from libzycore-dev.
ZYDIS_SRC := $(BUILD)/cache/src/zydis
$(BUILD)/fs-include/.stamp: $(ZYDIS_SRC)/.done
	@mkdir -p $(dir $@)
	$(Q)ln -sfn $(abspath $(ZYDIS_SRC))/include/Zydis $(BUILD)/fs-include/Zydis
	$(Q)ln -sfn /usr/include/Zycore $(BUILD)/fs-include/Zycore
	@touch $@

$(BUILD)/fs/%.o: %.c $(BUILD)/fs-include/.stamp
	@mkdir -p $(dir $@)
	$(call say,CC-FS,$<)
	$(Q)$(CC) $(FS_CFLAGS) -c -o $@ $<

$(BUILD)/monitor-fs.a: $(FS_OBJS)
	$(call say,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

module:
	$(call say,KBUILD,host-driver/hvmm.ko)
	@test -d $(KDIR) || { echo "kernel headers $(KDIR) missing: run ./scripts/deps.sh" >&2; exit 1; }
	$(Q)$(MAKE) -s -C $(KDIR) M=$(CURDIR)/host-driver HVMM_ROOT=$(CURDIR) \
		$(if $(filter 1,$(WERROR)),KCFLAGS=-Werror) $(if $(filter 1,$(V)),V=1) modules

unit: $(BUILD)/hvmm-unit
	$(BUILD)/hvmm-unit

# The tests run as from a shell: they must not inherit this make's jobserver
# (a nested make would warn "jobserver unavailable", which the kbuild tests
# rightly count as a warning).
test: all $(BUILD)/hvmm-unit
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL ./tests/run-all

check: test

-include $(wildcard */Makefile.inc tests/*/Makefile.inc)

clean:
	rm -rf $(BUILD)/obj $(BUILD)/fs $(BUILD)/fs-include $(BUILD)/hvmm $(BUILD)/hvmm-unit $(BUILD)/monitor-fs.a
	-$(MAKE) -s -C $(KDIR) M=$(CURDIR)/host-driver clean 2>/dev/null

distclean: clean
	rm -rf $(BUILD)

-include $(shell find $(BUILD)/obj $(BUILD)/fs -name '*.d' 2>/dev/null)
