/* monitor/cpu-mem.c — guest memory: segment checks, the paging walker
 * (2-level with PSE and global pages, PAE with NX), the software TLB and
 * physical access through the board's bus callbacks.
 *
 * TLB invariants (tag_r/tag_w/tag_x of an entry, per privilege class):
 *   tag == linear page        fast path allowed (RAM, permission granted,
 *                             for tag_w also PTE.D already set, not code)
 *   tag == linear page | 2    permission granted, but the access must take
 *                             the slow path (MMIO, ROM, page holds code)
 *   tag & 1                   no cached permission: walk the page tables
 * tlb[0] holds supervisor rights, tlb[1] user (CPL 3) rights.
 */
#include "monitor/cpu-internal.h"

#define TLB_SLOW	2u
#define TF_GLOBAL	1u
#define TF_ROM		2u
#define TF_MMIO		4u

#define PTE_P	0x001u
#define PTE_W	0x002u
#define PTE_U	0x004u
#define PTE_A	0x020u
#define PTE_D	0x040u
#define PTE_PS	0x080u
#define PTE_G	0x100u
#define PTE_NX	(1ull << 63)

/* ---- Physical memory ------------------------------------------------------ */

static uint8_t *phys_page(struct cpu *cpu, uint64_t gpa, bool *writable)
{
	*writable = false;
	if (gpa >= (1ull << 32))
		return NULL;
	return cpu->ops->ram_page(cpu->opaque, gpa & ~0xfffull, writable);
}

/* Accesses [gpa, gpa+len) within one page, RAM or MMIO. Returns 0, or
 * CPU_ABORT (no exception queued) when the bus answered CPU_BUS_RETRY. */
static int phys_access(struct cpu *cpu, uint64_t gpa, void *buf,
			unsigned len, bool write)
{
	bool wr;
	uint8_t *p = phys_page(cpu, gpa, &wr);

	if (p) {
		if (!write)
			cpu_memcpy(buf, p + (gpa & 0xfff), len);
		else if (wr)
			cpu_memcpy(p + (gpa & 0xfff), buf, len);
		return 0;
	}
	if (!write)
		cpu_memset(buf, 0xff, len);
	if (gpa < (1ull << 32) && cpu->ops->mmio) {
		if (len == 1 || len == 2 || len == 4 || len == 8) {
			int r = cpu->ops->mmio(cpu->opaque, gpa, buf, len, write);
			if (r == CPU_BUS_STOP)
				cpu->exit_req = 1;
			if (r == CPU_BUS_RETRY) {
				cpu->exit_req = 1;
				return CPU_ABORT;
			}
		} else {
			for (unsigned k = 0; k < len; k++)
				if (phys_access(cpu, gpa + k, (uint8_t *)buf + k,
						1, write))
					return CPU_ABORT;
		}
	}
	return 0;
}

static void phys_rw(struct cpu *cpu, uint64_t gpa, void *buf, unsigned len,
		    bool write)
{
	while (len) {
		unsigned n = 4096 - (gpa & 0xfff);
		if (n > len)
			n = len;
		if (write && mem__is_code_page(cpu, (uint32_t)gpa & ~0xfffu))
			icache__invalidate_page(cpu, (uint32_t)gpa & ~0xfffu);
		(void)phys_access(cpu, gpa, buf, n, write);
		gpa += n;
		buf = (uint8_t *)buf + n;
		len -= n;
	}
}

int cpu__pread(struct cpu *cpu, uint64_t gpa, void *buf, unsigned len)
{
	phys_rw(cpu, gpa, buf, len, false);
	return 0;
}

int cpu__pwrite(struct cpu *cpu, uint64_t gpa, const void *buf, unsigned len)
{
	phys_rw(cpu, gpa, (void *)(uintptr_t)buf, len, true);
	return 0;
}

static uint64_t phys_read_pte(struct cpu *cpu, uint64_t gpa, bool pae)
{
	uint64_t v = 0;
	phys_rw(cpu, gpa & cpu->a20_mask, &v, pae ? 8 : 4, false);
	return v;
}

static void phys_write_pte(struct cpu *cpu, uint64_t gpa, uint64_t v, bool pae)
{
	phys_rw(cpu, gpa & cpu->a20_mask, &v, pae ? 8 : 4, true);
}

/* ---- Page walk (SDM Vol. 3 §4.3, §4.4) ------------------------------------ */

#define RT_R 1u
#define RT_W 2u
#define RT_X 4u

/* Walks the page tables for lin. On success returns 0 with the physical
 * address, the rights this privilege class has (RT_*), whether the page is
 * global, having set A (and D for writes) as the hardware does. On failure
 * raises #PF and returns CPU_ABORT. */
static int walk(struct cpu *cpu, uint32_t lin, unsigned acc, bool user,
		uint64_t *gpa, unsigned *rights, bool *global)
{
	bool pae = cpu->cr4 & CR4_PAE, nxe = pae && (cpu->efer & EFER_NXE);
	bool wp = cpu->cr0 & CR0_WP, write = (acc & 3) == ACC_W;
	bool fetch = (acc & 3) == ACC_X;
	uint64_t e[3], ea[3], frame, rsvd;
	unsigned n = 0, levels, u, w, nx = 0, err = 0;
	uint64_t off_mask;

	if (pae) {
		uint64_t pdpte = phys_read_pte(cpu, (cpu->cr3 & ~0x1fu) +
					       ((lin >> 30) << 3), true);
		/* MAXPHYADDR 36: bits 62:36 reserved, 63 too without NXE. */
		rsvd = 0x7ffffff000000000ull | (nxe ? 0 : PTE_NX);
		if (!(pdpte & PTE_P))
			goto fault;
		if (pdpte & (0x1e6ull | 0xfffffff000000000ull)) {
			err |= 8;
			goto fault;
		}
		ea[0] = (pdpte & 0xffffff000ull) + (((lin >> 21) & 0x1ff) << 3);
		levels = 2;
	} else {
		rsvd = 0;
		ea[0] = (cpu->cr3 & ~0xfffu) + ((lin >> 22) << 2);
		levels = 2;
	}
	u = PTE_U;
	w = PTE_W;
	for (n = 0; n < levels; n++) {
		e[n] = phys_read_pte(cpu, ea[n], pae);
		if (!(e[n] & PTE_P))
			goto fault;
		if (e[n] & rsvd) {
			err |= 8 | 1;
			goto fault;
		}
		u &= e[n];
		w &= e[n];
		if (e[n] & PTE_NX)
			nx = 1;
		if (n == 0 && (e[0] & PTE_PS) && (pae || (cpu->cr4 & CR4_PSE))) {
			/* PAE 2 MiB: bits 20:13 reserved; 4 MiB without PSE-36
			 * (not in CPUID): bits 21:13 (SDM Vol. 3 Table 4-4). */
			if (e[0] & (pae ? 0x1fe000ull : 0x3fe000ull)) {
				err |= 8 | 1;
				goto fault;
			}
			n++;
			break;
		}
		if (n == 0)
			ea[1] = pae ? (e[0] & 0xffffff000ull) +
					      (((lin >> 12) & 0x1ff) << 3)
				    : (e[0] & 0xfffff000u) + (((lin >> 12) & 0x3ff) << 2);
	}
	/* n = number of entries used; e[n-1] maps the page. */
	{
		bool ok_r = !user || u, ok_w, ok_x;
		ok_w = ok_r && (user ? (w != 0) : (!wp || w));
		ok_x = ok_r && !nx;
		if ((write && !ok_w) || (fetch && !ok_x) || !ok_r) {
			err |= 1;
			goto fault;
		}
		/* Accessed flags in every entry used, dirty in the last
		 * (SDM Vol. 3 §4.8). */
		for (unsigned k = 0; k < n; k++) {
			uint64_t ne = e[k] | PTE_A;
			if (k == n - 1 && write)
				ne |= PTE_D;
			if (ne != e[k]) {
				phys_write_pte(cpu, ea[k], ne, pae);
				e[k] = ne;
			}
		}
		*rights = RT_R | (ok_w && (e[n - 1] & PTE_D) ? RT_W : 0) |
			  (ok_x ? RT_X : 0);
	}
	if (n == 1) {	/* large page */
		off_mask = pae ? 0x1fffff : 0x3fffff;
		frame = pae ? e[0] & 0xfffe00000ull : e[0] & 0xffc00000u;
	} else {
		off_mask = 0xfff;
		frame = pae ? e[1] & 0xffffff000ull : e[1] & 0xfffff000u;
	}
	*gpa = (frame | (lin & off_mask)) & cpu->a20_mask;
	*global = (cpu->cr4 & CR4_PGE) && (e[n - 1] & PTE_G);
	return 0;
fault:
	if (write)
		err |= 2;
	if (user)
		err |= 4;
	if (fetch && nxe)
		err |= 0x10;
	cpu->cr2 = lin;
	return cpu__raise(cpu, EXC_PF, err);
}

/* ---- TLB ----------------------------------------------------------------- */

void mem__tlb_flush(struct cpu *cpu, bool global_too)
{
	for (int u = 0; u < 2; u++)
		for (int k = 0; k < CPU_TLB_SIZE; k++) {
			struct cpu_tlb_entry *e = &cpu->tlb[u][k];
			if (!global_too && (e->global & TF_GLOBAL))
				continue;
			e->tag_r = e->tag_w = e->tag_x = TLB_INVALID;
			e->global = 0;
		}
	cpu->ntlb_flush++;
	if (global_too)
		cpu->ntlb_flush_global++;
	if (unlikely(cpu->audit_every))
		mem__tlb_audit(cpu);
}

void mem__tlb_flush_page(struct cpu *cpu, uint32_t lin)
{
	/* A 4 MiB/2 MiB page may be cached as many 4 KiB entries: INVLPG of
	 * any address in it must drop them all (SDM Vol. 3 §4.10.4.1), so
	 * drop every entry in the surrounding 4 MiB region. */
	for (int u = 0; u < 2; u++)
		for (int k = 0; k < CPU_TLB_SIZE; k++) {
			struct cpu_tlb_entry *e = &cpu->tlb[u][k];
			uint32_t t = e->tag_r & e->tag_w & e->tag_x;
			(void)t;
			if (((e->tag_r ^ lin) & 0xffc00000u) == 0 ||
			    ((e->tag_w ^ lin) & 0xffc00000u) == 0 ||
			    ((e->tag_x ^ lin) & 0xffc00000u) == 0) {
				e->tag_r = e->tag_w = e->tag_x = TLB_INVALID;
				e->global = 0;
			}
		}
	cpu->invlpg_log[cpu->ninvlpg++ % CPU_INVLPG_LOG] = lin;
	if (unlikely(cpu->audit_every))
		mem__tlb_audit(cpu);
}

void cpu__audit_report(struct cpu *cpu, unsigned kind, uint32_t lin,
		       uint32_t gpa, uint32_t now)
{
	cpu->audit_bad++;
	cpu->audit_last.kind = kind;
	cpu->audit_last.lin = lin;
	cpu->audit_last.gpa = gpa;
	cpu->audit_last.now = now;
	cpu->audit_last.cr3 = cpu->cr3;
	cpu->audit_last.eip = cpu->eip;
}

/* A page walk that changes nothing and raises nothing: 0 with the page's
 * guest-physical frame and whether a write would be allowed without a walk
 * (W in every level, D set; supervisor with CR0.WP=0 ignores W), or -1 when
 * lin is not mapped. */
static int walk_peek(struct cpu *cpu, uint32_t lin, bool user, uint32_t *frame,
		     bool *wfast)
{
	bool pae = cpu->cr4 & CR4_PAE;
	uint64_t e, w = PTE_W, a;

	if (pae) {
		e = phys_read_pte(cpu, (cpu->cr3 & ~0x1fu) + ((lin >> 30) << 3),
				  true);
		if (!(e & PTE_P))
			return -1;
		a = (e & 0xffffff000ull) + (((lin >> 21) & 0x1ff) << 3);
	} else {
		a = (cpu->cr3 & ~0xfffu) + ((lin >> 22) << 2);
	}
	e = phys_read_pte(cpu, a, pae);
	if (!(e & PTE_P))
		return -1;
	w &= e;
	if ((e & PTE_PS) && (pae || (cpu->cr4 & CR4_PSE))) {
		*frame = pae ? (uint32_t)(e & 0xfffe00000ull) | (lin & 0x1ff000)
			     : ((uint32_t)e & 0xffc00000u) | (lin & 0x3ff000);
	} else {
		a = pae ? (e & 0xffffff000ull) + (((lin >> 12) & 0x1ff) << 3)
			: (e & 0xfffff000u) + (((lin >> 12) & 0x3ff) << 2);
		e = phys_read_pte(cpu, a, pae);
		if (!(e & PTE_P))
			return -1;
		w &= e;
		*frame = pae ? (uint32_t)(e & 0xffffff000ull)
			     : (uint32_t)e & 0xfffff000u;
	}
	*frame &= cpu->a20_mask;
	*wfast = (e & PTE_D) &&
		 (w || (!user && !(cpu->cr0 & CR0_WP)));
	return 0;
}

void mem__tlb_audit(struct cpu *cpu)
{
	if (!(cpu->cr0 & CR0_PG))
		return;
	cpu->audit_runs++;
	for (int u = 0; u < 2; u++)
		for (int k = 0; k < CPU_TLB_SIZE; k++) {
			struct cpu_tlb_entry *e = &cpu->tlb[u][k];
			uint32_t t = e->tag_r & e->tag_w & e->tag_x;
			uint32_t lin, frame;
			bool wfast;

			if (!(e->tag_r & 1))
				lin = e->tag_r;
			else if (!(e->tag_w & 1))
				lin = e->tag_w;
			else if (!(e->tag_x & 1))
				lin = e->tag_x;
			else
				continue;
			(void)t;
			lin &= ~0xfffu;
			if (walk_peek(cpu, lin, u, &frame, &wfast)) {
				/* Linux leaves stale kernel entries for
				 * lazily unmapped vmalloc ranges (harmless
				 * while unused); user ones it flushes. */
				if (u)
					cpu__audit_report(cpu, AUDIT_TLB_USER,
							  lin, e->gpa, ~0u);
				continue;
			}
			if (frame != e->gpa)
				cpu__audit_report(cpu, AUDIT_TLB_FRAME, lin,
						  e->gpa, frame);
			else if (!(e->tag_w & 1) && !wfast)
				cpu__audit_report(cpu, AUDIT_TLB_WRITE, lin,
						  e->gpa, frame);
		}
}

/* Finds or creates the TLB entry for lin with the rights acc needs.
 * Returns the entry or NULL with #PF raised. */
static struct cpu_tlb_entry *tlb_fill(struct cpu *cpu, uint32_t lin,
				      unsigned acc)
{
	bool user = !(acc & ACC_SUP) && cpu->cpl == 3;
	struct cpu_tlb_entry *e = tlb_entry(cpu, lin, user);
	uint32_t page = lin & ~0xfffu, tag;
	unsigned a = acc & 3, rights = 0;
	uint64_t gpa = 0;
	bool global = false, wr;
	uint8_t *host;

	tag = a == ACC_W ? e->tag_w : a == ACC_X ? e->tag_x : e->tag_r;
	if ((tag & ~TLB_SLOW) == page)
		return e;
	if (cpu->cr0 & CR0_PG) {
		if (walk(cpu, lin, acc, user, &gpa, &rights, &global))
			return NULL;
	} else {
		gpa = lin & cpu->a20_mask;
		rights = RT_R | RT_W | RT_X;
		global = false;
	}
	host = phys_page(cpu, gpa, &wr);
	e->host = (uintptr_t)host;
	e->gpa = (uint32_t)gpa & ~0xfffu;
	e->global = (global ? TF_GLOBAL : 0) | (host ? 0 : TF_MMIO) |
		    (host && !wr ? TF_ROM : 0);
	if (gpa >= (1ull << 32))
		e->global |= TF_MMIO;
	tag = host ? page : page | TLB_SLOW;
	e->tag_r = rights & RT_R ? tag : TLB_INVALID;
	e->tag_x = rights & RT_X ? tag : TLB_INVALID;
	if (!(rights & RT_W))
		e->tag_w = TLB_INVALID;
	else if (!host || !wr || mem__is_code_page(cpu, e->gpa))
		e->tag_w = page | TLB_SLOW;
	else
		e->tag_w = page;
	if (unlikely(cpu->dbg_data) && dbg__page_watched(cpu, page)) {
		if (!(e->tag_r & TLB_INVALID))
			e->tag_r |= TLB_SLOW;
		if (!(e->tag_w & TLB_INVALID))
			e->tag_w |= TLB_SLOW;
	}
	return e;
}

void mem__set_code_page(struct cpu *cpu, uint32_t gpa_page, bool code)
{
	if (!code)
		return;
	for (int u = 0; u < 2; u++)
		for (int k = 0; k < CPU_TLB_SIZE; k++) {
			struct cpu_tlb_entry *e = &cpu->tlb[u][k];
			if (e->gpa == gpa_page && !(e->tag_w & 3))
				e->tag_w |= TLB_SLOW;
		}
}

/* Accesses [lin, lin+len) within one page through the TLB. */
static int lin_page_rw(struct cpu *cpu, uint32_t lin, void *buf, unsigned len,
		       unsigned acc)
{
	struct cpu_tlb_entry *e = tlb_fill(cpu, lin, acc);
	bool write = (acc & 3) == ACC_W;

	if (!e)
		return CPU_ABORT;
	if (unlikely(cpu->dbg_data) && (acc & 3) != ACC_X)
		dbg__access(cpu, lin, len, write);
	if (write && mem__is_code_page(cpu, e->gpa)) {
		icache__invalidate_page(cpu, e->gpa);
		if (!(e->global & (TF_MMIO | TF_ROM)) && !cpu->dbg_data)
			e->tag_w = lin & ~0xfffu;
	}
	if (e->host && !(write && (e->global & TF_ROM))) {
		uint8_t *p = (uint8_t *)e->host + (lin & 0xfff);
		if (write)
			cpu_memcpy(p, buf, len);
		else
			cpu_memcpy(buf, p, len);
		return 0;
	}
	if (e->global & TF_ROM)
		return 0;
	return phys_access(cpu, ((uint64_t)e->gpa) | (lin & 0xfff), buf, len,
			   write);
}

int mem__lin_read(struct cpu *cpu, uint32_t lin, void *buf, unsigned len,
		  unsigned acc)
{
	while (len) {
		unsigned n = 4096 - (lin & 0xfff);
		if (n > len)
			n = len;
		if (lin_page_rw(cpu, lin, buf, n, (acc & ~3u) | (acc & 3)))
			return CPU_ABORT;
		lin += n;
		buf = (uint8_t *)buf + n;
		len -= n;
	}
	return 0;
}

int mem__lin_probe_write(struct cpu *cpu, uint32_t lin, unsigned len,
			 unsigned acc)
{
	acc = (acc & ~3u) | ACC_W;
	if (!tlb_fill(cpu, lin, acc))
		return CPU_ABORT;
	if (((lin & 0xfff) + len - 1) >> 12 &&
	    !tlb_fill(cpu, (lin & ~0xfffu) + 0x1000, acc))
		return CPU_ABORT;
	return 0;
}

int mem__lin_write(struct cpu *cpu, uint32_t lin, const void *buf,
		   unsigned len, unsigned acc)
{
	acc = (acc & ~3u) | ACC_W;
	/* Check every page first so a fault leaves memory untouched. */
	if (len && mem__lin_probe_write(cpu, lin, len, acc))
		return CPU_ABORT;
	while (len) {
		unsigned n = 4096 - (lin & 0xfff);
		if (n > len)
			n = len;
		if (lin_page_rw(cpu, lin, (void *)(uintptr_t)buf, n, acc))
			return CPU_ABORT;
		lin += n;
		buf = (const uint8_t *)buf + n;
		len -= n;
	}
	return 0;
}

int mem__fetch_xlate(struct cpu *cpu, uint32_t lin, uint32_t *gpa,
		     uint8_t **host)
{
	struct cpu_tlb_entry *e = tlb_fill(cpu, lin, ACC_X);
	if (!e)
		return CPU_ABORT;
	*gpa = e->gpa | (lin & 0xfff);
	*host = (e->global & TF_MMIO) ? NULL : (uint8_t *)e->host;
	return 0;
}

/* ---- Segments ------------------------------------------------------------- */

void mem__seg_update(struct cpu *cpu, int seg)
{
	const struct seg *s = &cpu->seg[seg];
	uint8_t f = 0;

	if (!cpu_pmode(cpu) || cpu_v86(cpu)) {
		f = 3;
	} else if ((s->attr & SEGA_P) && (s->attr & SEGA_S)) {
		unsigned t = SEGA_TYPE(s->attr);
		if (t & 8)		/* code: readable if bit 1 */
			f = (t & 2) ? 1 : 0;
		else if (!(t & 4))	/* data, expand-up */
			f = (t & 2) ? 3 : 1;
	}
	if (s->base == 0 && s->limit == 0xffffffffu)
		f |= f << 2;	/* SF_FLAT_R / SF_FLAT_W */
	cpu->seg_fast[seg] = f;
}

int mem__seg_check(struct cpu *cpu, int seg, uint32_t off, unsigned len,
		   bool write, uint32_t *lin)
{
	const struct seg *s = &cpu->seg[seg];
	int exc = seg == SEG_SS ? EXC_SS : EXC_GP;
	uint32_t last = off + len - 1;

	if (cpu_pmode(cpu) && !cpu_v86(cpu)) {
		unsigned t = SEGA_TYPE(s->attr);
		if (!(s->attr & SEGA_P) || !(s->attr & SEGA_S))
			return cpu__raise(cpu, exc, 0);
		if (t & 8) {
			if (write || !(t & 2))
				return cpu__raise(cpu, exc, 0);
		} else if (write && !(t & 2)) {
			return cpu__raise(cpu, exc, 0);
		}
		if (!(t & 8) && (t & 4)) {	/* expand-down data */
			uint32_t upper = s->attr & SEGA_DB ? 0xffffffffu : 0xffff;
			if (off <= s->limit || last > upper || last < off)
				return cpu__raise(cpu, exc, 0);
			*lin = s->base + off;
			return 0;
		}
	}
	if (last < off || last > s->limit)
		return cpu__raise(cpu, exc, 0);
	*lin = s->base + off;
	return 0;
}

int mem__read_slow(struct cpu *cpu, int seg, uint32_t off, uint32_t *v,
		   unsigned size)
{
	uint32_t lin, t = 0;
	/* *v may be the destination register itself: it must keep its value
	 * when the access faults (the instruction is restarted). */
	if (mem__seg_check(cpu, seg, off, size, false, &lin) ||
	    mem__lin_read(cpu, lin, &t, size, ACC_R))
		return CPU_ABORT;
	*v = t;
	return 0;
}

int mem__write_slow(struct cpu *cpu, int seg, uint32_t off, uint32_t v,
		    unsigned size)
{
	uint32_t lin;
	if (mem__seg_check(cpu, seg, off, size, true, &lin))
		return CPU_ABORT;
	return mem__lin_write(cpu, lin, &v, size, ACC_W);
}

int cpu__vread(struct cpu *cpu, int seg, uint32_t off, void *buf, unsigned len)
{
	uint32_t lin;
	if (mem__seg_check(cpu, seg, off, len, false, &lin))
		return CPU_ABORT;
	return mem__lin_read(cpu, lin, buf, len, ACC_R);
}

int cpu__vwrite(struct cpu *cpu, int seg, uint32_t off, const void *buf,
		unsigned len)
{
	uint32_t lin;
	if (mem__seg_check(cpu, seg, off, len, true, &lin))
		return CPU_ABORT;
	return mem__lin_write(cpu, lin, buf, len, ACC_W);
}

void cpu__invalidate_phys(struct cpu *cpu, uint64_t gpa, uint64_t len)
{
	uint64_t end = gpa + len;
	for (uint64_t p = gpa & ~0xfffull; p < end && p < (1ull << 32);
	     p += 4096)
		if (mem__is_code_page(cpu, (uint32_t)p))
			icache__invalidate_page(cpu, (uint32_t)p);
}
