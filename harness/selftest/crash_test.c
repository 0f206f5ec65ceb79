// SPDX-License-Identifier: GPL-2.0
/* Harness self-test: a test binary that dies of SIGSEGV outside the harness. */
#include <signal.h>
#include <stdio.h>

int main(void)
{
	printf("TAP version 13\n1..2\nok 1 crash_test.before\n");
	fflush(stdout);
	raise(SIGSEGV);
	return 0;
}
