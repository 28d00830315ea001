/* http_body: bounded accumulation of a request body (see http_body.h).
 * The buffer doubles, so n appends cost O(total) copies. */
#include "controller/http_body.h"

#include <stdlib.h>
#include <string.h>

void http_body_init(struct http_body *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

void http_body_free(struct http_body *b)
{
	free(b->data);
	http_body_init(b, b->max);
}

static bool grow(struct http_body *b, size_t need)
{
	size_t cap = b->cap ? b->cap : 4096;
	char *p;

	while (cap < need)
		cap *= 2;
	p = realloc(b->data, cap);
	if (!p)
		return false;
	b->data = p;
	b->cap = cap;
	return true;
}

bool http_body_append(struct http_body *b, const char *data, size_t n)
{
	if (b->too_big)
		return false;
	if (n > b->max - b->len) {
		b->too_big = true;
		return false;
	}
	/* +1 for the NUL; max is far below SIZE_MAX / 2. */
	if (b->len + n + 1 > b->cap && !grow(b, b->len + n + 1)) {
		b->too_big = true;
		return false;
	}
	memcpy(b->data + b->len, data, n);
	b->len += n;
	b->data[b->len] = '\0';
	return true;
}
