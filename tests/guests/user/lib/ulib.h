/* tests/guests/user/lib/ulib.h — the whole "libc" of the user-mode test
 * programs: Linux i386 system calls through int 0x80 (write = 4, exit = 1),
 * so that one static binary runs natively and under hvmm --user-program. */
#ifndef HVMM_GUEST_ULIB_H
#define HVMM_GUEST_ULIB_H

#include <stdint.h>

#define SYS_exit	1
#define SYS_write	4

/* write(2): eax=4, ebx=fd, ecx=buf, edx=len; returns bytes or -errno. */
int sys_write(int fd, const void *buf, uint32_t len);
/* exit(2): eax=1, ebx=status. */
void sys_exit(int status) __attribute__((noreturn));

/* Output on stdout: a string, a number in hex (0x...) or decimal. */
void put(const char *s);
void puthex(uint32_t v);
void putdec(uint32_t v);

int main(void);



/* Prints the machine-readable line a fault program states before faulting:
 * "EXPECT vector=V error=0xE eip=0xI [cr2=0xC]" (error < 0: none pushed,
 * cr2 0: not a page fault). The system tests compare it with hvmm's report. */
void expect_fault(int vector, long error, uint32_t eip, uint32_t cr2);
/* Reached only when the fault did not happen: says so, exits 1. */
void survived(void) __attribute__((noreturn));
#endif
