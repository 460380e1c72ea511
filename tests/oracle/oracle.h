/* tests/oracle/oracle.h — the host CPU as the interpreter's oracle
 * (tests/oracle/oracle.c) and its table of instruction forms
 * (tests/oracle/forms.c). */
#ifndef HVMM_TESTS_ORACLE_H
#define HVMM_TESTS_ORACLE_H

#include "monitor/monitor.h"

/* Runs cases_per_form random cases of every form natively and in the
 * interpreter. Returns the number of forms with a mismatch (0 = pass), or
 * -1 if the native side cannot be set up. verbose prints mismatches. */
int oracle__run(unsigned cases_per_form, unsigned *nforms, unsigned long *ncases,
		unsigned long *nskipped, int verbose);
unsigned oracle__nforms(void);

/* The forms table. forms__make builds case bytes for form f (the
 * instruction will sit at address at), may adjust the input registers
 * in[0..8] (EFLAGS in in[8]), and says which flags are undefined or that the
 * case must be skipped (it would fault natively). */
unsigned forms__count(void);
const char *forms__name(unsigned f);
void forms__make(unsigned f, uint8_t *insn, unsigned *len, uint32_t *in,
		 uint32_t *undef, bool *skip, uint32_t at, uint32_t data,
		 uint32_t stack);

#endif
