/* tests/unit/main.c — the CUnit runner for every component's suites.
 * Usage: hvmm-unit [-l] [SUITE...]   (-l lists suites; no SUITE runs all)
 * Prints one line per test and a last line "unit: N passed, M failed";
 * exits 1 if any test failed. The failure count is read before
 * CU_cleanup_registry() (which resets it to zero). */
#include "tests/unit/unit.h"

#include <CUnit/Basic.h>
#include <stdio.h>
#include <string.h>

static struct unit_suite *suites;

void unit__register(struct unit_suite *s)
{
	/* append, so suites run in link order */
	struct unit_suite **p = &suites;
	while (*p)
		p = &(*p)->next;
	s->next = NULL;
	*p = s;
}

static int wanted(const char *name, int argc, char **argv)
{
	if (argc == 0)
		return 1;
	for (int i = 0; i < argc; i++)
		if (strcmp(argv[i], name) == 0)
			return 1;
	return 0;
}

int main(int argc, char **argv)
{
	argc--, argv++;
	if (argc && strcmp(argv[0], "-l") == 0) {
		for (struct unit_suite *s = suites; s; s = s->next)
			printf("%s\n", s->name);
		return 0;
	}
	if (CU_initialize_registry() != CUE_SUCCESS) {
		fprintf(stderr, "hvmm-unit: %s\n", CU_get_error_msg());
		return 2;
	}
	int nsuites = 0;
	for (struct unit_suite *s = suites; s; s = s->next) {
		if (!wanted(s->name, argc, argv))
			continue;
		CU_pSuite cs = CU_add_suite(s->name, s->init, s->cleanup);
		if (!cs)
			goto fail;
		for (CU_TestInfo *t = s->tests; t && t->pName; t++)
			if (!CU_add_test(cs, t->pName, t->pTestFunc))
				goto fail;
		nsuites++;
	}
	if (argc && nsuites != argc) {
		fprintf(stderr, "hvmm-unit: unknown suite name given (see -l)\n");
		CU_cleanup_registry();
		return 2;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned run = CU_get_number_of_tests_run();
	unsigned failed = CU_get_number_of_tests_failed();
	unsigned suite_fail = CU_get_number_of_suites_failed();
	CU_cleanup_registry();
	printf("\nunit: %u passed, %u failed\n", run - failed + 0, failed + suite_fail);
	return (failed || suite_fail) ? 1 : 0;

fail:
	fprintf(stderr, "hvmm-unit: %s\n", CU_get_error_msg());
	CU_cleanup_registry();
	return 2;
}
