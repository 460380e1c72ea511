/* monitor/monitor.h — interface of the shared CPU code (the IA-32 interpreter
 * and, later, the monitor's trap handling). Everything under monitor/,
 * shadowmm/ and bt/ compiles both into userland and freestanding (no libc),
 * so this header includes only compiler-provided headers.
 * (Filled in by the interpreter issue.) */
#ifndef HVMM_MONITOR_H
#define HVMM_MONITOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#endif
