/* render: aligned tables and unit formatting for egressctl's human
 * output, and null-tolerant access to the JSON answers. egressctl is a
 * short-lived command: running out of memory ends it with a message. */
#include "egressctl/render.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct table {
	size_t n_cols, n_cells, cap;
	char align[16];
	char **cells;
};

static void *render_xrealloc(void *p, size_t n)
{
	p = realloc(p, n);
	if (!p) {
		fputs("egressctl: out of memory\n", stderr);
		exit(1);
	}
	return p;
}

struct table *table_new(const char *align)
{
	struct table *t = render_xrealloc(NULL, sizeof(*t));

	memset(t, 0, sizeof(*t));
	t->n_cols = strlen(align);
	if (t->n_cols >= sizeof(t->align))
		t->n_cols = sizeof(t->align) - 1;
	memcpy(t->align, align, t->n_cols);
	return t;
}

void table_add(struct table *t, const char *text)
{
	size_t n = strlen(text);

	if (t->n_cells == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 64;
		t->cells = render_xrealloc(t->cells, t->cap * sizeof(*t->cells));
	}
	t->cells[t->n_cells] = render_xrealloc(NULL, n + 1);
	memcpy(t->cells[t->n_cells++], text, n + 1);
}

void table_addf(struct table *t, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	table_add(t, buf);
}

void table_add_strs(struct table *t, ...)
{
	const char *s;
	va_list ap;

	va_start(ap, t);
	while ((s = va_arg(ap, const char *)))
		table_add(t, s);
	va_end(ap);
}

size_t table_rows(const struct table *t)
{
	return t->n_cols ? (t->n_cells + t->n_cols - 1) / t->n_cols : 0;
}

static void table_widths(const struct table *t, size_t *width)
{
	memset(width, 0, t->n_cols * sizeof(*width));
	for (size_t i = 0; i < t->n_cells; i++) {
		size_t n = strlen(t->cells[i]);

		if (n > width[i % t->n_cols])
			width[i % t->n_cols] = n;
	}
}

/* Columns are two spaces apart; a left-aligned last column, and trailing
 * empty cells, get no padding, so no line ends in spaces. */
static void table_print_row(const struct table *t, const size_t *width, size_t row,
			    FILE *out, const char *indent)
{
	size_t first = row * t->n_cols, last = first + t->n_cols;
	size_t pad = 0;

	if (last > t->n_cells)
		last = t->n_cells;
	while (last > first && !*t->cells[last - 1])
		last--;
	fputs(indent, out);
	for (size_t i = first; i < last; i++) {
		size_t col = i - first, n = strlen(t->cells[i]);
		bool right = t->align[col] == 'r';

		fprintf(out, "%*s", (int)(pad + (right ? width[col] - n : 0)), "");
		fputs(t->cells[i], out);
		pad = (right ? 0 : width[col] - n) + 2;
	}
	fputc('\n', out);
}

void table_print(const struct table *t, FILE *out, const char *indent)
{
	size_t width[sizeof(t->align)];

	table_widths(t, width);
	for (size_t row = 0; row < table_rows(t); row++)
		table_print_row(t, width, row, out, indent);
}

void table_free(struct table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n_cells; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
}

const char *js_str(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

bool js_num(const json_t *obj, const char *key, double *out)
{
	const json_t *v = json_object_get(obj, key);

	if (!json_is_number(v))
		return false;
	*out = json_number_value(v);
	return isfinite(*out);
}

bool js_count(const json_t *obj, const char *key, unsigned long long *out)
{
	const json_t *v = json_object_get(obj, key);

	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return false;
	*out = (unsigned long long)json_integer_value(v);
	return true;
}

bool js_true(const json_t *obj, const char *key)
{
	return json_is_true(json_object_get(obj, key));
}

const json_t *js_array(const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);

	return json_is_array(v) ? v : NULL;
}

const json_t *js_object(const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);

	return json_is_object(v) ? v : NULL;
}

static struct cell cell_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static struct cell cell_printf(const char *fmt, ...)
{
	struct cell c;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c.s, sizeof(c.s), fmt, ap);
	va_end(ap);
	return c;
}

static const struct cell unknown_cell = { "-" };

struct cell render_str(const json_t *obj, const char *key)
{
	const char *s = js_str(obj, key);

	return s && *s ? cell_printf("%s", s) : unknown_cell;
}

/* Two significant digits below 1 ms (a LAN's 0.05 ms is not 0.0), one
 * decimal below 100 ms, whole milliseconds above. */
struct cell format_ms(double ms)
{
	if (!isfinite(ms) || ms < 0)
		return unknown_cell;
	if (ms < 1)
		return cell_printf("%.2fms", ms);
	if (ms < 100)
		return cell_printf("%.1fms", ms);
	return cell_printf("%.0fms", ms);
}

struct cell format_secs(double s)
{
	unsigned long long n;

	if (!isfinite(s) || s < 0 || s > 1e15)
		return unknown_cell;
	if (s < 10)
		return cell_printf("%.1fs", s);
	n = (unsigned long long)s;
	if (n < 60)
		return cell_printf("%llus", n);
	if (n < 3600)
		return cell_printf("%llum%02llus", n / 60, n % 60);
	if (n < 86400)
		return cell_printf("%lluh%02llum", n / 3600, n % 3600 / 60);
	return cell_printf("%llud%02lluh", n / 86400, n % 86400 / 3600);
}

/* Binary multiples, as ls -h and ip -h print them. */
struct cell format_bytes(unsigned long long n)
{
	static const char units[] = "KMGTPE";
	double v = (double)n;
	size_t u = 0;

	if (n < 1024)
		return cell_printf("%lluB", n);
	v /= 1024;
	while (v >= 1024 && u + 1 < sizeof(units) - 1) {
		v /= 1024;
		u++;
	}
	return cell_printf(v < 10 ? "%.1f%c" : "%.0f%c", v, units[u]);
}

struct cell render_ms(const json_t *obj, const char *key)
{
	double v;

	return js_num(obj, key, &v) ? format_ms(v) : unknown_cell;
}

struct cell render_pct(const json_t *obj, const char *key)
{
	double v;

	return js_num(obj, key, &v) ? cell_printf("%.1f%%", v) : unknown_cell;
}

struct cell render_secs(const json_t *obj, const char *key)
{
	double v;

	return js_num(obj, key, &v) ? format_secs(v) : unknown_cell;
}

struct cell render_fixed(const json_t *obj, const char *key, int decimals)
{
	double v;

	return js_num(obj, key, &v) ? cell_printf("%.*f", decimals, v) : unknown_cell;
}

struct cell render_sig(const json_t *obj, const char *key, int digits)
{
	double v;

	return js_num(obj, key, &v) ? cell_printf("%.*g", digits, v) : unknown_cell;
}

struct cell render_count(const json_t *obj, const char *key)
{
	unsigned long long v;

	return js_count(obj, key, &v) ? cell_printf("%llu", v) : unknown_cell;
}

struct cell render_bytes(const json_t *obj, const char *key)
{
	unsigned long long v;

	return js_count(obj, key, &v) ? format_bytes(v) : unknown_cell;
}

struct cell render_time_ms(const json_t *obj, const char *key)
{
	unsigned long long ms;
	struct cell c = unknown_cell;
	struct tm tm;
	time_t t;

	if (!js_count(obj, key, &ms) || ms / 1000 > (unsigned long long)INT32_MAX * 16)
		return c;
	t = (time_t)(ms / 1000);
	if (gmtime_r(&t, &tm))
		strftime(c.s, sizeof(c.s), "%Y-%m-%d %H:%M:%SZ", &tm);
	return c;
}

struct cell render_addr_port(const char *addr, const json_t *obj, const char *port_key,
			     bool with_port)
{
	unsigned long long port;
	bool v6;

	if (!addr || !*addr)
		return unknown_cell;
	v6 = strchr(addr, ':') != NULL;
	if (!with_port || !js_count(obj, port_key, &port) || port > 65535)
		return cell_printf("%s", addr);
	return cell_printf(v6 ? "[%s]:%llu" : "%s:%llu", addr, port);
}

static void sanitize_string(json_t *str)
{
	const char *s = json_string_value(str);
	size_t n = json_string_length(str);
	char *copy;

	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			goto dirty;
	return;
dirty:
	copy = render_xrealloc(NULL, n + 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		copy[i] = c < 0x20 || c > 0x7e ? '?' : (char)c;
	}
	json_string_setn_nocheck(str, copy, n);
	free(copy);
}

void render_sanitize(json_t *root)
{
	const char *key;
	size_t i;
	json_t *v;

	if (json_is_string(root))
		sanitize_string(root);
	else if (json_is_array(root))
		json_array_foreach(root, i, v)
			render_sanitize(v);
	else if (json_is_object(root))
		json_object_foreach(root, key, v)
			render_sanitize(v);
}
