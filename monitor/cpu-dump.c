/* monitor/cpu-dump.c — readable register dump for error reports and
 * debugging, with its own tiny formatter (no libc in monitor code). */
#include "monitor/cpu-internal.h"

struct out {
	char *buf;
	size_t size, len;
};

static void put(struct out *o, const char *s)
{
	for (; *s; s++) {
		if (o->len + 1 < o->size)
			o->buf[o->len] = *s;
		o->len++;
	}
}

static void hex(struct out *o, uint64_t v, unsigned digits)
{
	char t[17];
	for (unsigned k = 0; k < digits; k++)
		t[k] = "0123456789abcdef"[(v >> ((digits - 1 - k) * 4)) & 0xf];
	t[digits] = 0;
	put(o, t);
}

static void dec(struct out *o, uint64_t v)
{
	char t[21];
	int k = 20;
	t[k] = 0;
	do {
		t[--k] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	put(o, t + k);
}

static void seg(struct out *o, const char *name, const struct seg *s)
{
	put(o, name);
	put(o, "=");
	hex(o, s->sel, 4);
	put(o, " base=");
	hex(o, s->base, 8);
	put(o, " limit=");
	hex(o, s->limit, 8);
	put(o, " attr=");
	hex(o, s->attr, 4);
	put(o, "\n");
}

size_t cpu__dump(const struct cpu *cpu, char *buf, size_t size)
{
	static const char *const rn[8] = { "eax", "ecx", "edx", "ebx",
					   "esp", "ebp", "esi", "edi" };
	static const char *const sn[6] = { "es", "cs", "ss", "ds", "fs", "gs" };
	struct out o = { buf, size, 0 };
	uint32_t fl;

	/* Fold lazy flags without touching the caller's CPU (and without a
	 * struct cpu on the stack: 66 KB, more than a kernel stack). */
	fl = flags__peek(cpu);
	for (int r = 0; r < 8; r++) {
		put(&o, rn[r]);
		put(&o, "=");
		hex(&o, cpu->r[r], 8);
		put(&o, r == 3 || r == 7 ? "\n" : " ");
	}
	put(&o, "eip=");
	hex(&o, cpu->eip, 8);
	put(&o, " eflags=");
	hex(&o, fl, 8);
	put(&o, " cpl=");
	dec(&o, cpu->cpl);
	put(&o, cpu->halted ? " halted" : "");
	put(&o, "\n");
	for (int s = 0; s < SEG_NSEGS; s++)
		seg(&o, sn[s], &cpu->seg[s]);
	seg(&o, "ldtr", &cpu->ldtr);
	seg(&o, "tr", &cpu->tr);
	put(&o, "gdtr=");
	hex(&o, cpu->gdtr.base, 8);
	put(&o, "/");
	hex(&o, cpu->gdtr.limit, 4);
	put(&o, " idtr=");
	hex(&o, cpu->idtr.base, 8);
	put(&o, "/");
	hex(&o, cpu->idtr.limit, 4);
	put(&o, "\ncr0=");
	hex(&o, cpu->cr0, 8);
	put(&o, " cr2=");
	hex(&o, cpu->cr2, 8);
	put(&o, " cr3=");
	hex(&o, cpu->cr3, 8);
	put(&o, " cr4=");
	hex(&o, cpu->cr4, 8);
	put(&o, "\ndr0-3=");
	for (int k = 0; k < 4; k++) {
		hex(&o, cpu->dr[k], 8);
		put(&o, k < 3 ? "," : "");
	}
	put(&o, " dr6=");
	hex(&o, cpu->dr[6], 8);
	put(&o, " dr7=");
	hex(&o, cpu->dr[7], 8);
	put(&o, "\nefer=");
	hex(&o, cpu->efer, 8);
	put(&o, " sysenter_cs/esp/eip=");
	hex(&o, cpu->sysenter_cs, 4);
	put(&o, "/");
	hex(&o, cpu->sysenter_esp, 8);
	put(&o, "/");
	hex(&o, cpu->sysenter_eip, 8);
	put(&o, "\ninstructions=");
	dec(&o, cpu->icount);
	put(&o, " irqs=");
	dec(&o, cpu->nirq);
	put(&o, " tlb-flushes=");
	dec(&o, cpu->ntlb_flush);
	put(&o, " decodes=");
	dec(&o, cpu->ndecode);
	put(&o, " unimplemented=");
	dec(&o, cpu->nud_unimpl);
	if (cpu->nud_unimpl) {
		put(&o, " (last at ");
		hex(&o, cpu->last_unimpl_eip, 8);
		put(&o, ":");
		for (int k = 0; k < 8; k++) {
			put(&o, " ");
			hex(&o, cpu->last_unimpl_bytes[k], 2);
		}
		put(&o, ")");
	}
	put(&o, "\nexceptions:");
	for (int v = 0; v < 32; v++)
		if (cpu->nexc[v]) {
			put(&o, " #");
			dec(&o, (uint64_t)v);
			put(&o, "x");
			dec(&o, cpu->nexc[v]);
		}
	put(&o, "\nlast exceptions (oldest first):\n");
	{
		unsigned n = cpu->nlastexc < CPU_NLASTEXC ? cpu->nlastexc
							  : CPU_NLASTEXC;
		for (unsigned k = 0; k < n; k++) {
			unsigned idx = (cpu->nlastexc - n + k) % CPU_NLASTEXC;
			put(&o, "  vec=");
			dec(&o, cpu->lastexc[idx].vec);
			put(&o, " err=");
			hex(&o, cpu->lastexc[idx].err, 8);
			put(&o, " at ");
			hex(&o, cpu->lastexc[idx].cs, 4);
			put(&o, ":");
			hex(&o, cpu->lastexc[idx].eip, 8);
			put(&o, "\n");
		}
	}
	put(&o, "last blocks entered (oldest first):");
	for (unsigned k = 0; k < 32; k++) {
		if (k % 8 == 0)
			put(&o, "\n ");
		put(&o, " ");
		hex(&o, cpu->trace[(cpu->ntrace + k) & 31], 8);
	}
	put(&o, "\nblocks before the last exception other than #PF:");
	for (unsigned k = 0; k < 32; k++) {
		if (k % 8 == 0)
			put(&o, "\n ");
		put(&o, " ");
		hex(&o, cpu->exc_trace[k], 8);
	}
	put(&o, "\n");
	if (cpu->error) {
		put(&o, "error: ");
		put(&o, cpu->error);
		put(&o, "\n");
	}
	if (size)
		buf[o.len < size ? o.len : size - 1] = 0;
	return o.len;
}
