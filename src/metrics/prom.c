/* prom: the Prometheus text format writer. Everything funnels through
 * buf_put so that a failed allocation or a broken rule is recorded once
 * and the rest of the render is skipped cheaply. */
#include "metrics/prom.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROM_BUF_MIN 4096

void prom_buf_init(struct prom_buf *b)
{
	memset(b, 0, sizeof(*b));
}

void prom_buf_free(struct prom_buf *b)
{
	free(b->data);
	prom_buf_init(b);
}

void prom_buf_reset(struct prom_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
	b->err = 0;
	b->family[0] = '\0';
	b->n_seen = 0;
}

static void buf_fail(struct prom_buf *b, int err)
{
	if (!b->err)
		b->err = err;
}

/* Room for n more bytes and the terminating NUL. */
static bool buf_reserve(struct prom_buf *b, size_t n)
{
	size_t cap = b->cap ? b->cap : PROM_BUF_MIN;
	char *data;

	if (b->err)
		return false;
	if (n < b->cap - b->len)
		return true;
	while (n >= cap - b->len) {
		if (cap > SIZE_MAX / 2) {
			buf_fail(b, -ENOMEM);
			return false;
		}
		cap *= 2;
	}
	data = realloc(b->data, cap);
	if (!data) {
		buf_fail(b, -ENOMEM);
		return false;
	}
	b->data = data;
	b->cap = cap;
	return true;
}

static void buf_put(struct prom_buf *b, const char *s, size_t n)
{
	if (!buf_reserve(b, n))
		return;
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

static void buf_puts(struct prom_buf *b, const char *s)
{
	buf_put(b, s, strlen(s));
}

/* Label values escape \ " and newline; HELP text only \ and newline. */
static void buf_put_escaped(struct prom_buf *b, const char *s, bool quote)
{
	const char *run = s;

	for (; *s; s++) {
		const char *esc = *s == '\\' ? "\\\\" : *s == '\n' ? "\\n" :
				  quote && *s == '"' ? "\\\"" : NULL;

		if (!esc)
			continue;
		buf_put(b, run, (size_t)(s - run));
		buf_puts(b, esc);
		run = s + 1;
	}
	buf_put(b, run, (size_t)(s - run));
}

static bool name_char(char c, bool first, bool colon_ok)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_')
		return true;
	if (c == ':')
		return colon_ok;
	return !first && c >= '0' && c <= '9';
}

/* Metric names [a-zA-Z_:][a-zA-Z0-9_:]*, label names without ':' and not
 * starting with "__" (reserved for Prometheus itself). */
static bool name_valid(const char *s, bool metric)
{
	size_t len = strlen(s);

	if (len == 0 || len >= PROM_NAME_MAX)
		return false;
	if (!metric && s[0] == '_' && s[1] == '_')
		return false;
	for (size_t i = 0; i < len; i++)
		if (!name_char(s[i], i == 0, metric))
			return false;
	return true;
}

static uint64_t name_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 0x100000001b3ULL;
	return h;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

/* Records name as started; false if it was started before. */
static bool family_mark_seen(struct prom_buf *b, const char *name)
{
	uint64_t h = name_hash(name);

	for (size_t i = 0; i < b->n_seen; i++)
		if (b->seen[i] == h)
			return false;
	if (b->n_seen == PROM_FAMILIES_MAX)
		return false;
	b->seen[b->n_seen++] = h;
	return true;
}

static const char *const type_names[] = {
	[PROM_COUNTER] = " counter\n", [PROM_GAUGE] = " gauge\n",
	[PROM_HISTOGRAM] = " histogram\n",
};

void prom_family(struct prom_buf *b, const char *name, enum prom_type type,
		 const char *help)
{
	if (b->err || !strcmp(name, b->family))
		return;
	if ((unsigned)type > PROM_HISTOGRAM || !name_valid(name, true) ||
	    (type == PROM_COUNTER && !ends_with(name, "_total"))) {
		buf_fail(b, -EINVAL);
		return;
	}
	if (!family_mark_seen(b, name)) {
		buf_fail(b, b->n_seen == PROM_FAMILIES_MAX ? -E2BIG : -EEXIST);
		return;
	}
	strcpy(b->family, name);
	b->type = type;
	buf_puts(b, "# HELP ");
	buf_puts(b, name);
	buf_puts(b, " ");
	buf_put_escaped(b, help, false);
	buf_puts(b, "\n# TYPE ");
	buf_puts(b, name);
	buf_puts(b, type_names[type]);
}

/* family+suffix{a="x",b="y",le="..."} and the space before the value
 * (suffix and le: a histogram's lines). */
static bool sample_name(struct prom_buf *b, const char *suffix,
			const struct prom_label *labels, size_t n, const char *le)
{
	buf_puts(b, b->family);
	buf_puts(b, suffix);
	for (size_t i = 0; i < n; i++) {
		if (!name_valid(labels[i].name, false)) {
			buf_fail(b, -EINVAL);
			return false;
		}
		buf_puts(b, i ? "," : "{");
		buf_puts(b, labels[i].name);
		buf_puts(b, "=\"");
		buf_put_escaped(b, labels[i].value ? labels[i].value : "", true);
		buf_puts(b, "\"");
	}
	if (le) {
		buf_puts(b, n ? ",le=\"" : "{le=\"");
		buf_puts(b, le);
		buf_puts(b, "\"");
	}
	buf_puts(b, n || le ? "} " : " ");
	return !b->err;
}

/* A plain sample: a counter's or a gauge's, after its family started. */
static bool sample_begin(struct prom_buf *b, const struct prom_label *labels, size_t n)
{
	if (b->err)
		return false;
	if (!b->family[0] || b->type == PROM_HISTOGRAM) {
		buf_fail(b, -EINVAL);	/* no family yet, or a bare histogram line */
		return false;
	}
	return sample_name(b, "", labels, n, NULL);
}

void prom_sample_u64(struct prom_buf *b, const struct prom_label *labels, size_t n,
		     uint64_t value)
{
	char num[24];

	if (!sample_begin(b, labels, n))
		return;
	snprintf(num, sizeof(num), "%" PRIu64 "\n", value);
	buf_puts(b, num);
}

void prom_sample_i64(struct prom_buf *b, const struct prom_label *labels, size_t n,
		     int64_t value)
{
	char num[24];

	if (!sample_begin(b, labels, n))
		return;
	snprintf(num, sizeof(num), "%" PRId64 "\n", value);
	buf_puts(b, num);
}

/* The shortest of %.15g and %.17g that reads back as the same double, so
 * 0.1 stays "0.1" and nothing is lost. */
static void format_double(char *out, size_t cap, double v)
{
	if (isnan(v)) {
		snprintf(out, cap, "NaN");
	} else if (isinf(v)) {
		snprintf(out, cap, v > 0 ? "+Inf" : "-Inf");
	} else {
		snprintf(out, cap, "%.15g", v);
		if (strtod(out, NULL) != v)
			snprintf(out, cap, "%.17g", v);
	}
}

void prom_sample_double(struct prom_buf *b, const struct prom_label *labels, size_t n,
			double value)
{
	char num[40];

	if (!sample_begin(b, labels, n))
		return;
	format_double(num, sizeof(num), value);
	buf_puts(b, num);
	buf_puts(b, "\n");
}

/* ---- histograms ---- */

void prom_histogram_observe(struct prom_histogram *h, const double *bounds,
			    size_t n_bounds, double v)
{
	size_t i = 0;

	if (isnan(v))
		return;
	if (n_bounds > PROM_BUCKETS_MAX)
		n_bounds = PROM_BUCKETS_MAX;
	while (i < n_bounds && v > bounds[i])
		i++;
	h->buckets[i]++;
	h->sum += v;
	h->count++;
}

/* What a scraper would reject, checked before a line is written. */
static bool histogram_args_ok(const struct prom_buf *b, const struct prom_label *labels,
			      size_t n, const double *bounds, size_t n_bounds)
{
	if (!b->family[0] || b->type != PROM_HISTOGRAM || n > PROM_LABELS_MAX ||
	    n_bounds > PROM_BUCKETS_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (labels[i].name && !strcmp(labels[i].name, "le"))
			return false;
	for (size_t i = 0; i < n_bounds; i++)
		if (!isfinite(bounds[i]) || (i && bounds[i] <= bounds[i - 1]))
			return false;
	return true;
}

static void put_u64_line(struct prom_buf *b, uint64_t v)
{
	char num[24];

	snprintf(num, sizeof(num), "%" PRIu64 "\n", v);
	buf_puts(b, num);
}

/* Buckets are written cumulative; +Inf and _count are the total of the
 * buckets, so the three always agree. */
void prom_sample_histogram(struct prom_buf *b, const struct prom_label *labels, size_t n,
			   const struct prom_histogram *h, const double *bounds,
			   size_t n_bounds)
{
	char le[40];
	uint64_t total = 0;

	if (b->err)
		return;
	if (!histogram_args_ok(b, labels, n, bounds, n_bounds)) {
		buf_fail(b, -EINVAL);
		return;
	}
	for (size_t i = 0; i <= n_bounds; i++) {
		total += h->buckets[i];
		format_double(le, sizeof(le), i < n_bounds ? bounds[i] : INFINITY);
		if (!sample_name(b, "_bucket", labels, n, le))
			return;
		put_u64_line(b, total);
	}
	if (!sample_name(b, "_sum", labels, n, NULL))
		return;
	format_double(le, sizeof(le), h->sum);
	buf_puts(b, le);
	buf_puts(b, "\n");
	if (sample_name(b, "_count", labels, n, NULL))
		put_u64_line(b, total);
}

void prom_counter(struct prom_buf *b, const char *name, const char *help, uint64_t value)
{
	prom_family(b, name, PROM_COUNTER, help);
	prom_sample_u64(b, NULL, 0, value);
}

void prom_gauge(struct prom_buf *b, const char *name, const char *help, double value)
{
	prom_family(b, name, PROM_GAUGE, help);
	prom_sample_double(b, NULL, 0, value);
}
