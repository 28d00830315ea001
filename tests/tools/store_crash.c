/* store_crash DBPATH N: applies N policy versions to the store at DBPATH,
 * printing "acked V" (flushed) as each apply returns. The kill -9 test in
 * test_store.c (and the controller's own) kills it at random moments and
 * then checks that no acknowledged version was lost. */
#include <stdlib.h>

#include "../unit/store_crash_loop.h"

int main(int argc, char **argv)
{
	char *end;
	unsigned long long n;

	if (argc != 3) {
		fprintf(stderr, "usage: store_crash DBPATH N\n");
		return 2;
	}
	n = strtoull(argv[2], &end, 10);
	if (*argv[2] == '\0' || *end) {
		fprintf(stderr, "store_crash: N must be a number\n");
		return 2;
	}
	return crash_run(argv[1], n, stdout);
}
