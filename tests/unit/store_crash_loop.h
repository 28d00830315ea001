/* store_crash_loop: the writer of the kill -9 test, shared by the
 * store_crash tool and test_store.c. It applies versions one after another
 * and reports "acked V" only after store_policy_apply returned 0; the test
 * kills it at random moments and checks that every acked version is there
 * with exactly the document crash_doc() gives for it. */
#ifndef EGRESS_STORE_CRASH_LOOP_H
#define EGRESS_STORE_CRASH_LOOP_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "controller/store.h"

#define CRASH_DOC_MAX 4096

/* A document that only version v has, of a size (60..4095) that varies
 * with v so some versions spill into overflow pages. */
static inline size_t crash_doc(uint64_t v, char buf[CRASH_DOC_MAX])
{
	size_t len = (size_t)snprintf(buf, CRASH_DOC_MAX, "# crash test\nversion: %" PRIu64
				      "\nfill: ", v);
	size_t want = 60 + (size_t)((v * 2654435761u) % (CRASH_DOC_MAX - 61));
	uint64_t x = v * 0x9e3779b97f4a7c15ull + 1;

	while (len < want) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		buf[len++] = (char)('a' + x % 26);
	}
	buf[len] = '\0';
	return len;
}

/* Applies up to n versions; returns 0, or 1 with a line on stderr. */
static inline int crash_run(const char *path, uint64_t n, FILE *out)
{
	char doc[CRASH_DOC_MAX], err[256];
	struct store *s;
	uint64_t v;
	int ret = store_open(&s, path, err, sizeof(err));

	if (ret) {
		fprintf(stderr, "store_crash: %s\n", err);
		return 1;
	}
	ret = store_policy_current(s, &v);
	for (uint64_t i = 0; !ret && i < n; i++) {
		size_t len = crash_doc(v + 1, doc);

		ret = store_policy_apply(s, v, doc, len, "crash", "kill -9 test", &v);
		if (!ret) {
			fprintf(out, "acked %" PRIu64 "\n", v);
			fflush(out);
		}
	}
	if (ret)
		fprintf(stderr, "store_crash: %s (%d)\n", store_errmsg(s), ret);
	store_close(s);
	return ret ? 1 : 0;
}

#endif
