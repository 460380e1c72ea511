/* tests/guests/hostile/triple-fault.c — IDT limit 0, then UD2: #UD cannot be
 * delivered (#GP), nor can #GP (#DF), nor #DF: a triple fault, i.e. a
 * shutdown (SDM Vol. 3A 6.15, interrupt 8). The VM must end with a reset
 * or shutdown reported by the engine. QEMU -no-reboot exits with status 0. */
#include "hostile.h"

const char rt_test_name[] = "triple-fault";

void test_main(void)
{
	struct { uint16_t limit; uint32_t base; } __attribute__((packed)) idtr = { 0, 0 };

	rt_printf("HOSTILE triple-fault: IDT limit 0, then ud2\n");
	asm volatile("lidt %0\n\tud2" :: "m"(idtr));
	rt_printf("FAIL triple-fault: still running\n");
}
