/* diag: collecting, sorting and handing out load errors. */
#include "policy/diag.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/doc.h"

struct diag_entry {
	unsigned line, col;	/* sort key: position in the document */
	size_t seq;		/* then the order reported */
	char *msg;
};

void policy_diag_init(struct policy_diag *d, const char *file)
{
	memset(d, 0, sizeof(*d));
	d->file = file;
}

void policy_diag_free(struct policy_diag *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->v[i].msg);
	free(d->v);
	d->v = NULL;
	d->n = d->cap = 0;
}

__attribute__((format(printf, 5, 0)))
static void diag_add(struct policy_diag *d, unsigned sline, unsigned scol,
		     const char *prefix, const char *fmt, va_list ap)
{
	char body[1024];
	struct diag_entry *e;
	char *msg;

	if (d->n >= POLICY_MAX_ERRORS) {
		d->dropped++;
		return;
	}
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 16;
		struct diag_entry *v = realloc(d->v, cap * sizeof(*v));

		if (!v) {
			d->dropped++;
			return;
		}
		d->v = v;
		d->cap = cap;
	}
	vsnprintf(body, sizeof(body), fmt, ap);
	if (asprintf(&msg, "%s%s", prefix, body) < 0) {
		d->dropped++;
		return;
	}
	e = &d->v[d->n];
	*e = (struct diag_entry){ .line = sline, .col = scol, .seq = d->n, .msg = msg };
	d->n++;
}

static void diag_prefix(char *out, size_t cap, const char *file, unsigned line,
			unsigned col)
{
	if (line && col)
		snprintf(out, cap, "%s:%u:%u: ", file, line, col);
	else if (line)
		snprintf(out, cap, "%s:%u: ", file, line);
	else
		snprintf(out, cap, "%s: ", file);
}

void policy_diag_pos(struct policy_diag *d, unsigned line, unsigned col,
		     const char *fmt, ...)
{
	char prefix[320];
	va_list ap;

	diag_prefix(prefix, sizeof(prefix), d->file, line, col);
	va_start(ap, fmt);
	diag_add(d, line, col, prefix, fmt, ap);
	va_end(ap);
}

void policy_diag_at(struct policy_diag *d, const struct doc_node *at,
		    const char *fmt, ...)
{
	unsigned line = at ? at->line : 0, col = at ? at->col : 0;
	char prefix[320];
	va_list ap;

	diag_prefix(prefix, sizeof(prefix), d->file, line, col);
	va_start(ap, fmt);
	diag_add(d, line, col, prefix, fmt, ap);
	va_end(ap);
}

void policy_diag_file(struct policy_diag *d, const char *file, unsigned line,
		      unsigned col, const struct doc_node *anchor,
		      const char *fmt, ...)
{
	char prefix[320];
	va_list ap;

	diag_prefix(prefix, sizeof(prefix), file, line, col);
	va_start(ap, fmt);
	diag_add(d, anchor ? anchor->line : 0, anchor ? anchor->col : 0, prefix, fmt, ap);
	va_end(ap);
}

static int diag_cmp(const void *a, const void *b)
{
	const struct diag_entry *x = a, *y = b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	if (x->col != y->col)
		return x->col < y->col ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void policy_diag_move(struct policy_diag *d, struct policy_errors *errs)
{
	size_t n = d->n;

	if (!errs) {
		policy_diag_free(d);
		return;
	}
	memset(errs, 0, sizeof(*errs));
	qsort(d->v, d->n, sizeof(*d->v), diag_cmp);
	errs->msgs = calloc(n + 1, sizeof(char *));
	if (!errs->msgs) {
		policy_diag_free(d);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		errs->msgs[i] = d->v[i].msg;
		d->v[i].msg = NULL;
	}
	errs->n = n;
	if (d->dropped && asprintf(&errs->msgs[n], "%s: %zu more errors not shown",
				   d->file, d->dropped) >= 0)
		errs->n++;
	policy_diag_free(d);
}
