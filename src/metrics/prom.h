/* prom: a small writer of the Prometheus text exposition format 0.0.4
 * (what GET /metrics answers). It owns a growable buffer and the rules
 * a scraper holds us to:
 *
 *   # HELP name text          once per family, first
 *   # TYPE name counter|gauge once per family, after HELP
 *   name{label="value",...} 42
 *
 * Families are contiguous: starting a family that was already closed is an
 * error (a parser rejects the second TYPE line), and so are a counter whose
 * name lacks _total, a bad metric or label name, and running out of memory.
 * The first error sticks in prom_buf.err and later calls do nothing, so a
 * renderer writes straight through and checks once at the end. Label
 * values are escaped (\\, \", \n); HELP text escapes \\ and \n.
 *
 * A histogram family writes, per label set, one name_bucket line per
 * upper bound (cumulative counts, label le, ending with le="+Inf"), then
 * name_sum and name_count. The caller keeps struct prom_histogram per
 * label set and the bounds once per family. */
#ifndef EGRESS_METRICS_PROM_H
#define EGRESS_METRICS_PROM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROM_NAME_MAX     128	/* metric and label names */
#define PROM_FAMILIES_MAX 256	/* distinct families in one exposition */
#define PROM_BUCKETS_MAX  32	/* upper bounds of a histogram, +Inf aside */
#define PROM_LABELS_MAX   8	/* labels of a histogram sample, le aside */

enum prom_type { PROM_COUNTER, PROM_GAUGE, PROM_HISTOGRAM };

struct prom_label {
	const char *name;
	const char *value;
};

struct prom_buf {
	char *data;		/* NUL-terminated text, len bytes */
	size_t len, cap;
	int err;		/* 0, or the first -errno */
	char family[PROM_NAME_MAX];	/* the family samples go to */
	enum prom_type type;		/* and its type */
	uint64_t seen[PROM_FAMILIES_MAX];	/* FNV-1a of each family started */
	size_t n_seen;
};

void prom_buf_init(struct prom_buf *b);
void prom_buf_free(struct prom_buf *b);
/* Empties the text and forgets every family; keeps the memory. */
void prom_buf_reset(struct prom_buf *b);

/* Starts family name (HELP and TYPE lines). Calling it again for the
 * family in progress does nothing, so loops may start it per sample. */
void prom_family(struct prom_buf *b, const char *name, enum prom_type type,
		 const char *help);

/* A sample of the family in progress; labels may be NULL when n is 0. */
void prom_sample_u64(struct prom_buf *b, const struct prom_label *labels, size_t n,
		     uint64_t value);
void prom_sample_i64(struct prom_buf *b, const struct prom_label *labels, size_t n,
		     int64_t value);
/* NaN and infinities are written as NaN, +Inf, -Inf. */
void prom_sample_double(struct prom_buf *b, const struct prom_label *labels, size_t n,
			double value);

/* Observations of one label set of a histogram: counts per bucket, not
 * cumulative (bucket i counts bounds[i-1] < v <= bounds[i]; the last one
 * counts v above every bound), their sum and number. Zero it to start. */
struct prom_histogram {
	uint64_t buckets[PROM_BUCKETS_MAX + 1];
	double sum;
	uint64_t count;
};

/* Records v (NaN is ignored). bounds: ascending, n_bounds at most
 * PROM_BUCKETS_MAX (more are not looked at). */
void prom_histogram_observe(struct prom_histogram *h, const double *bounds,
			    size_t n_bounds, double v);
/* The _bucket, _sum and _count lines of h in the histogram family in
 * progress. Bounds must be finite and strictly ascending, the labels at
 * most PROM_LABELS_MAX and none named le; otherwise -EINVAL. */
void prom_sample_histogram(struct prom_buf *b, const struct prom_label *labels, size_t n,
			   const struct prom_histogram *h, const double *bounds,
			   size_t n_bounds);

/* Shorthands for a family with one unlabelled sample. */
void prom_counter(struct prom_buf *b, const char *name, const char *help, uint64_t value);
void prom_gauge(struct prom_buf *b, const char *name, const char *help, double value);

/* The number of elements of a compound-literal label array. */
#define PROM_LABELS(...)						\
	((const struct prom_label[]){ __VA_ARGS__ }),			\
	(sizeof((const struct prom_label[]){ __VA_ARGS__ }) / sizeof(struct prom_label))

#endif
