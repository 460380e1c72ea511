/* tests/oracle/suite.c — the oracle as a unit suite ("cpu_oracle"): every
 * form, ORACLE_CASES random cases each; prints the counts. */
#include "tests/oracle/oracle.h"
#include "tests/unit/unit.h"

#include <stdio.h>
#include <stdlib.h>

static void test_oracle(void)
{
	unsigned nforms;
	unsigned long ncases, nskipped;
	const char *e = getenv("ORACLE_CASES");
	unsigned per = e ? (unsigned)atoi(e) : 40;
	int bad = oracle__run(per, &nforms, &ncases, &nskipped, 1);

	printf("[oracle: %u forms, %lu cases compared, %lu skipped, %d forms mismatched] ",
	       nforms, ncases, nskipped, bad);
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT(nforms > 300);
}

static CU_TestInfo oracle_tests[] = {
	{ "host CPU vs interpreter, user-level forms", test_oracle },
	CU_TEST_INFO_NULL,
};
UNIT_SUITE(cpu_oracle, .tests = oracle_tests);
