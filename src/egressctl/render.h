/* render: what egressctl's human output is made of. Aligned tables,
 * numbers with units, and JSON accessors that take a missing key, a
 * null and a value of the wrong type all as "unknown", which prints as
 * "-". egressd's answers are trusted for shape by nothing here. */
#ifndef EGRESS_EGRESSCTL_RENDER_H
#define EGRESS_EGRESSCTL_RENDER_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* One formatted value. Returned by value so that calls nest in an
 * argument list: table_add(t, render_ms(p, "rtt_ms").s). */
struct cell {
	char s[96];
};

/* A table whose columns are as wide as their widest cell, two spaces
 * apart. align holds one letter per column: 'l' or 'r'. Cells fill rows
 * left to right; a row is complete after as many cells as columns. */
struct table;
struct table *table_new(const char *align);
void table_add(struct table *t, const char *text);
void table_addf(struct table *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Several cells, up to a NULL: a header row. */
void table_add_strs(struct table *t, ...) __attribute__((sentinel));
size_t table_rows(const struct table *t);
void table_print(const struct table *t, FILE *out, const char *indent);
void table_free(struct table *t);

/* Accessors: NULL / false when the key is missing, null or mistyped. */
const char *js_str(const json_t *obj, const char *key);
bool js_num(const json_t *obj, const char *key, double *out);
bool js_count(const json_t *obj, const char *key, unsigned long long *out);
bool js_true(const json_t *obj, const char *key);
const json_t *js_array(const json_t *obj, const char *key);
const json_t *js_object(const json_t *obj, const char *key);

/* Values as the tables print them; "-" when unknown. */
struct cell render_str(const json_t *obj, const char *key);
struct cell render_ms(const json_t *obj, const char *key);	/* 1.2ms */
struct cell render_pct(const json_t *obj, const char *key);	/* 0.4% */
struct cell render_secs(const json_t *obj, const char *key);	/* 12s, 3m05s */
struct cell render_fixed(const json_t *obj, const char *key, int decimals);	/* %.*f */
struct cell render_sig(const json_t *obj, const char *key, int digits);	/* %.*g */
struct cell render_count(const json_t *obj, const char *key);	/* 320 */
struct cell render_bytes(const json_t *obj, const char *key);	/* 1.5M */
/* "203.0.113.10:5000", "[2001:db8::1]:443"; the address alone when the
 * port is unknown or with_port is false. */
struct cell render_addr_port(const char *addr, const json_t *obj, const char *port_key,
			     bool with_port);

/* Unix milliseconds as UTC "2024-05-01 12:00:00Z"; "-" when unknown. */
struct cell render_time_ms(const json_t *obj, const char *key);

/* The same, from plain values. */
struct cell format_ms(double ms);
struct cell format_secs(double s);
struct cell format_bytes(unsigned long long n);

/* Replaces, in every string of the tree, any byte outside printable
 * ASCII by '?': names and domains seen on the network never reach the
 * terminal as escape sequences, and columns stay aligned. */
void render_sanitize(json_t *root);

#endif
