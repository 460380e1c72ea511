/* tests/unit/unit.h — how a CUnit suite joins the one unit-test runner.
 *
 *   static CU_TestInfo pic_tests[] = { {"mask", test_mask}, CU_TEST_INFO_NULL };
 *   UNIT_SUITE(pic, .tests = pic_tests);
 *
 * Suites register themselves from a constructor, so adding a file to
 * tests/unit/ is all it takes (no central list to edit).
 */
#ifndef HVMM_TESTS_UNIT_H
#define HVMM_TESTS_UNIT_H

#include <CUnit/CUnit.h>

struct unit_suite {
	const char *name;
	CU_InitializeFunc init;
	CU_CleanupFunc cleanup;
	CU_TestInfo *tests;
	struct unit_suite *next;
};

/* Adds a suite to the runner's list (called from UNIT_SUITE's constructor). */
void unit__register(struct unit_suite *s);

#define UNIT_SUITE(id, ...)                                                   \
	static struct unit_suite unit_suite_##id = { .name = #id, __VA_ARGS__ }; \
	__attribute__((constructor)) static void unit_suite_reg_##id(void)    \
	{                                                                     \
		unit__register(&unit_suite_##id);                             \
	}

#endif
