// SPDX-License-Identifier: GPL-2.0
/* host-driver/hvmm-mon.c — the monitor-world C code (monitor/mon-*.c and the
 * shadowmm walker), compiled into the module with the kernel's flags. It
 * calls no Linux function: it runs with the monitor's GDT/IDT/CR3. */
#include "shadowmm/sm-walk.c"
#include "monitor/mon-shadow.c"
#include "monitor/mon-trap.c"
