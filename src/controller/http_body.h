/* http_body: a request body accumulated in pieces, up to a cap. Past the
 * cap it keeps nothing more and says so, so the caller answers 413 instead
 * of buffering whatever a client sends. */
#ifndef EGRESS_CONTROLLER_HTTP_BODY_H
#define EGRESS_CONTROLLER_HTTP_BODY_H

#include <stdbool.h>
#include <stddef.h>

struct http_body {
	char *data;		/* NUL-terminated after each append */
	size_t len, cap, max;
	bool too_big;		/* sticky */
};

void http_body_init(struct http_body *b, size_t max);
void http_body_free(struct http_body *b);
/* false when the body is (now) over max, or out of memory (too_big). */
bool http_body_append(struct http_body *b, const char *data, size_t n);

#endif
