/* test_prom: the Prometheus text writer (escaping, family rules, number
 * formats, growth) against a naive reader, and the exposition of a device
 * and a node built in memory: every line checked by a strict reader of the
 * format, values that moved, and `promtool check metrics` when installed. */
#include "test.h"

#include <errno.h>
#include <math.h>
#include <openssl/evp.h>
#include <unistd.h>

#include "crypto/crypto.h"
#include "metrics/prom.h"
#include "node/metrics.h"
#include "wg/peer.h"

static unsigned long long rng_state = 0x9e3779b97f4a7c15ULL;

static uint32_t rnd(void)
{
	rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
	return (uint32_t)(rng_state >> 33);
}

/* ---- a strict reader of the exposition format ---- */

#define MAX_LINES 4096

struct reader {
	char family[PROM_NAME_MAX];
	bool histogram;
	char *families[512];
	size_t n_families;
	char *series[MAX_LINES];
	size_t n_series;
	bool have_help, ok;
};

static bool seen_family(const struct reader *r, const char *name)
{
	for (size_t i = 0; i < r->n_families; i++)
		if (!strcmp(r->families[i], name))
			return true;
	return false;
}

static void read_comment(struct reader *r, const char *line)
{
	char name[PROM_NAME_MAX], type[16];

	if (!strncmp(line, "# HELP ", 7)) {
		if (sscanf(line + 7, "%127s", name) != 1 || seen_family(r, name)) {
			r->ok = false;
			return;
		}
		snprintf(r->family, sizeof(r->family), "%s", name);
		r->families[r->n_families++] = strdup(name);
		r->have_help = true;
	} else if (sscanf(line, "# TYPE %127s %15s", name, type) == 2) {
		/* TYPE right after its HELP; counters end in _total */
		r->ok &= r->have_help && !strcmp(name, r->family);
		r->ok &= !strcmp(type, "gauge") || !strcmp(type, "histogram") ||
			 (!strcmp(type, "counter") && strstr(name, "_total"));
		r->histogram = !strcmp(type, "histogram");
		r->have_help = false;
	} else {
		r->ok = false;
	}
}

/* A histogram's lines are family_bucket, family_sum, family_count. */
static bool sample_name_ok(const struct reader *r, const char *line, size_t nlen)
{
	size_t flen = strlen(r->family);

	if (nlen < flen || strncmp(line, r->family, flen))
		return false;
	if (!r->histogram)
		return nlen == flen;
	return (nlen == flen + 7 && !strncmp(line + flen, "_bucket", 7)) ||
	       (nlen == flen + 4 && !strncmp(line + flen, "_sum", 4)) ||
	       (nlen == flen + 6 && !strncmp(line + flen, "_count", 6));
}

/* name{labels} value: the family in progress, a number, a new series. */
static void read_sample(struct reader *r, const char *line)
{
	size_t nlen = strcspn(line, "{ ");
	const char *sp = strrchr(line, ' ');
	char *end;

	r->ok &= sample_name_ok(r, line, nlen);
	r->ok &= sp != NULL;
	if (!sp || !r->ok)
		return;
	if (strcmp(sp + 1, "NaN") && strcmp(sp + 1, "+Inf") && strcmp(sp + 1, "-Inf")) {
		strtod(sp + 1, &end);
		r->ok &= *end == '\0' && end != sp + 1;
	}
	for (size_t i = 0; i < r->n_series; i++)
		r->ok &= strncmp(r->series[i], line, (size_t)(sp - line) + 1) != 0;
	if (r->n_series < MAX_LINES)
		r->series[r->n_series++] = strndup(line, (size_t)(sp - line) + 1);
}

static bool exposition_valid(const char *text)
{
	struct reader r = { .ok = true };
	char *copy = strdup(text), *save = NULL;

	CHECK(text[0] == '\0' || text[strlen(text) - 1] == '\n');
	for (char *line = strtok_r(copy, "\n", &save); line && r.ok;
	     line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == '#')
			read_comment(&r, line);
		else
			read_sample(&r, line);
	}
	for (size_t i = 0; i < r.n_families; i++)
		free(r.families[i]);
	for (size_t i = 0; i < r.n_series; i++)
		free(r.series[i]);
	free(copy);
	return r.ok;
}

/* The value of the line that starts with series (name{labels}), or NaN. */
static double value_of(const char *text, const char *series)
{
	size_t n = strlen(series);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, series, n) && p[n] == ' ')
			return strtod(p + n + 1, NULL);
	return NAN;
}

/* promtool rejects what a scraper would; skipped where it is missing. */
static void promtool_check(const char *text, const char *what)
{
	char path[] = "/tmp/test_prom.XXXXXX", cmd[256];
	int fd, rc;

	if (system("command -v promtool >/dev/null 2>&1") != 0) {
		printf("test_prom: promtool not installed, skipping its check of %s\n", what);
		return;
	}
	fd = mkstemp(path);
	CHECK(fd >= 0);
	if (fd < 0)
		return;
	CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	close(fd);
	snprintf(cmd, sizeof(cmd), "promtool check metrics < %s", path);
	rc = system(cmd);
	if (rc != 0)
		fprintf(stderr, "test_prom: promtool rejected %s (%s kept)\n", what, path);
	else
		unlink(path);
	CHECK(rc == 0);
}

/* ---- the writer ---- */

static void test_escaping(void)
{
	struct prom_buf b;

	prom_buf_init(&b);
	prom_family(&b, "x_total", PROM_COUNTER, "back\\slash\nnew \"quoted\"");
	prom_sample_u64(&b, PROM_LABELS({ "a", "q\"b\\s\nn" }, { "b", "" }), 7);
	CHECK(b.err == 0);
	CHECK(!strcmp(b.data, "# HELP x_total back\\\\slash\\nnew \"quoted\"\n"
			      "# TYPE x_total counter\n"
			      "x_total{a=\"q\\\"b\\\\s\\nn\",b=\"\"} 7\n"));
	CHECK(exposition_valid(b.data));
	prom_buf_free(&b);
}

/* Unescapes a label value the way a scraper does. */
static size_t unescape(const char *in, char *out)
{
	size_t n = 0;

	for (; *in && *in != '"'; in++) {
		if (*in == '\\') {
			in++;
			out[n++] = *in == 'n' ? '\n' : *in;
		} else {
			out[n++] = *in;
		}
	}
	out[n] = '\0';
	return n;
}

static void test_escaping_random(void)
{
	static const char alphabet[] = "ab\\\"\n{},= \t\x7f\xc3\xa9";
	struct prom_buf b;

	prom_buf_init(&b);
	for (int iter = 0; iter < 2000; iter++) {
		char value[40], back[40];
		size_t len = rnd() % 32;

		for (size_t i = 0; i < len; i++)
			value[i] = alphabet[rnd() % (sizeof(alphabet) - 1)];
		value[len] = '\0';
		prom_buf_reset(&b);
		prom_family(&b, "g", PROM_GAUGE, "h");
		prom_sample_i64(&b, PROM_LABELS({ "v", value }), -3);
		CHECK(b.err == 0);
		CHECK(!strchr(strstr(b.data, "g{"), '\n') ||
		      strchr(strstr(b.data, "g{"), '\n')[1] == '\0');
		CHECK(unescape(strstr(b.data, "g{v=\"") + 5, back) == len);
		CHECK(!strcmp(back, value));
		CHECK(strstr(b.data, "\"} -3\n") != NULL);
	}
	prom_buf_free(&b);
}

static void test_family_rules(void)
{
	struct prom_buf b;

	prom_buf_init(&b);
	prom_family(&b, "a_total", PROM_COUNTER, "a");
	prom_sample_u64(&b, NULL, 0, 1);
	prom_family(&b, "a_total", PROM_COUNTER, "a");	/* in progress: no-op */
	prom_sample_u64(&b, PROM_LABELS({ "k", "v" }), 2);
	prom_gauge(&b, "b", "b", 0.5);
	CHECK(b.err == 0);
	CHECK(!strcmp(b.data, "# HELP a_total a\n# TYPE a_total counter\na_total 1\n"
			      "a_total{k=\"v\"} 2\n# HELP b b\n# TYPE b gauge\nb 0.5\n"));
	prom_family(&b, "a_total", PROM_COUNTER, "a");	/* closed: not again */
	CHECK(b.err == -EEXIST);

	prom_buf_reset(&b);
	CHECK(b.len == 0 && b.err == 0);
	prom_counter(&b, "no_suffix", "x", 1);
	CHECK(b.err == -EINVAL);
	prom_buf_reset(&b);
	prom_sample_u64(&b, NULL, 0, 1);		/* no family yet */
	CHECK(b.err == -EINVAL);
	prom_buf_reset(&b);
	prom_gauge(&b, "9bad", "x", 1);
	CHECK(b.err == -EINVAL);
	prom_buf_reset(&b);
	prom_family(&b, "ok:name_1", PROM_GAUGE, "x");
	prom_sample_u64(&b, PROM_LABELS({ "bad-label", "v" }), 1);
	CHECK(b.err == -EINVAL);
	prom_buf_reset(&b);
	prom_family(&b, "g", PROM_GAUGE, "x");
	prom_sample_u64(&b, PROM_LABELS({ "__reserved", "v" }), 1);
	CHECK(b.err == -EINVAL);
	/* The first error sticks: nothing more is written. */
	prom_gauge(&b, "h", "x", 1);
	CHECK(b.err == -EINVAL && !strstr(b.data, "# HELP h"));
	prom_buf_free(&b);
}

static void test_too_many_families(void)
{
	struct prom_buf b;
	char name[32];

	prom_buf_init(&b);
	for (int i = 0; i < PROM_FAMILIES_MAX; i++) {
		snprintf(name, sizeof(name), "f%d", i);
		prom_gauge(&b, name, "x", i);
	}
	CHECK(b.err == 0);
	prom_gauge(&b, "one_more", "x", 1);
	CHECK(b.err == -E2BIG);
	prom_buf_free(&b);
}

static void check_double(double v, const char *want)
{
	struct prom_buf b;

	prom_buf_init(&b);
	prom_gauge(&b, "d", "x", v);
	CHECK(b.err == 0 && !strcmp(strstr(b.data, "\nd ") + 3, want));
	prom_buf_free(&b);
}

static void test_numbers(void)
{
	struct prom_buf b;

	check_double(0.1, "0.1\n");
	check_double(-2, "-2\n");
	check_double(0.000123, "0.000123\n");
	check_double(NAN, "NaN\n");
	check_double(INFINITY, "+Inf\n");
	check_double(-INFINITY, "-Inf\n");
	check_double(1e300, "1e+300\n");
	prom_buf_init(&b);
	prom_family(&b, "n_total", PROM_COUNTER, "x");
	prom_sample_u64(&b, NULL, 0, UINT64_MAX);
	prom_sample_i64(&b, PROM_LABELS({ "s", "min" }), INT64_MIN);
	CHECK(strstr(b.data, "n_total 18446744073709551615\n"));
	CHECK(strstr(b.data, "n_total{s=\"min\"} -9223372036854775808\n"));
	/* Random doubles read back exactly. */
	for (int i = 0; i < 5000; i++) {
		uint64_t bits = (uint64_t)rnd() << 32 | rnd();
		double v, back;

		memcpy(&v, &bits, sizeof(v));
		if (!isfinite(v))
			continue;
		prom_buf_reset(&b);
		prom_gauge(&b, "r", "x", v);
		back = strtod(strstr(b.data, "\nr ") + 3, NULL);
		CHECK(memcmp(&back, &v, sizeof(v)) == 0);
	}
	prom_buf_free(&b);
}

/* Growth: many samples, checked against a naive snprintf of each line. */
static void test_growth(void)
{
	struct prom_buf b;
	size_t want = 0;
	char line[64], label[16];

	prom_buf_init(&b);
	prom_family(&b, "big_total", PROM_COUNTER, "many");
	want = strlen("# HELP big_total many\n# TYPE big_total counter\n");
	for (unsigned i = 0; i < 20000; i++) {
		snprintf(label, sizeof(label), "%u", i);
		prom_sample_u64(&b, PROM_LABELS({ "i", label }), (uint64_t)i * 3);
		want += (size_t)snprintf(line, sizeof(line), "big_total{i=\"%u\"} %llu\n", i,
					 (unsigned long long)i * 3);
	}
	CHECK(b.err == 0 && b.len == want && strlen(b.data) == want);
	CHECK(strstr(b.data, "big_total{i=\"19999\"} 59997\n"));
	CHECK(exposition_valid(b.data));
	prom_buf_free(&b);
}

/* ---- histograms ---- */

static void test_histogram_known(void)
{
	static const double bounds[] = { 0.25, 0.5, 1 };
	static const double values[] = { 0.125, 0.25, 0.375, 2, NAN, -1 };
	struct prom_histogram h = { 0 }, empty = { 0 };
	struct prom_buf b;

	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++)
		prom_histogram_observe(&h, bounds, 3, values[i]);
	CHECK(h.count == 5 && h.sum == 1.75);
	prom_buf_init(&b);
	prom_family(&b, "lat_seconds", PROM_HISTOGRAM, "h");
	prom_sample_histogram(&b, PROM_LABELS({ "route", "a" }), &h, bounds, 3);
	prom_sample_histogram(&b, NULL, 0, &empty, bounds, 1);
	CHECK(b.err == 0);
	CHECK(!strcmp(b.data, "# HELP lat_seconds h\n# TYPE lat_seconds histogram\n"
			      "lat_seconds_bucket{route=\"a\",le=\"0.25\"} 3\n"
			      "lat_seconds_bucket{route=\"a\",le=\"0.5\"} 4\n"
			      "lat_seconds_bucket{route=\"a\",le=\"1\"} 4\n"
			      "lat_seconds_bucket{route=\"a\",le=\"+Inf\"} 5\n"
			      "lat_seconds_sum{route=\"a\"} 1.75\n"
			      "lat_seconds_count{route=\"a\"} 5\n"
			      "lat_seconds_bucket{le=\"0.25\"} 0\n"
			      "lat_seconds_bucket{le=\"+Inf\"} 0\n"
			      "lat_seconds_sum 0\n"
			      "lat_seconds_count 0\n"));
	CHECK(exposition_valid(b.data));
	promtool_check(b.data, "a histogram");
	prom_buf_free(&b);
}

/* Random bounds and values against a naive count of v <= bound. */
static void histogram_random_once(struct prom_buf *b)
{
	double bounds[PROM_BUCKETS_MAX], values[300], sum = 0;
	size_t n_bounds = 1 + rnd() % PROM_BUCKETS_MAX, n_values = rnd() % 300;
	struct prom_histogram h = { 0 };
	char series[96];

	for (size_t i = 0, at = 0; i < n_bounds; i++) {
		at += 1 + rnd() % 100;
		bounds[i] = (double)at / 1000;
	}
	for (size_t i = 0; i < n_values; i++) {
		values[i] = ((double)(rnd() % 4000) - 200) / 1000;
		prom_histogram_observe(&h, bounds, n_bounds, values[i]);
		sum += values[i];
	}
	prom_buf_reset(b);
	prom_family(b, "r", PROM_HISTOGRAM, "x");
	prom_sample_histogram(b, PROM_LABELS({ "k", "v" }), &h, bounds, n_bounds);
	CHECK(b->err == 0 && exposition_valid(b->data));
	for (size_t i = 0; i < n_bounds; i++) {
		size_t want = 0;

		for (size_t j = 0; j < n_values; j++)
			want += values[j] <= bounds[i];
		snprintf(series, sizeof(series), "r_bucket{k=\"v\",le=\"%.15g\"}", bounds[i]);
		CHECK(value_of(b->data, series) == (double)want);
	}
	CHECK(value_of(b->data, "r_bucket{k=\"v\",le=\"+Inf\"}") == (double)n_values);
	CHECK(value_of(b->data, "r_count{k=\"v\"}") == (double)n_values);
	CHECK(value_of(b->data, "r_sum{k=\"v\"}") == sum);
}

static void test_histogram_random(void)
{
	struct prom_buf b;

	prom_buf_init(&b);
	for (int iter = 0; iter < 300; iter++)
		histogram_random_once(&b);
	prom_buf_free(&b);
}

/* Each of these would make a scraper reject the exposition. */
static void histogram_refused(const char *family, enum prom_type type, const char *label,
			      const double *bounds, size_t n_bounds)
{
	struct prom_histogram h = { 0 };
	struct prom_buf b;

	prom_buf_init(&b);
	prom_family(&b, family, type, "x");
	if (label)
		prom_sample_histogram(&b, PROM_LABELS({ label, "v" }), &h, bounds, n_bounds);
	else
		prom_sample_histogram(&b, NULL, 0, &h, bounds, n_bounds);
	CHECK(b.err == -EINVAL);
	prom_buf_free(&b);
}

static void test_histogram_rules(void)
{
	static const double ok[] = { 1, 2 }, flat[] = { 1, 1 }, down[] = { 2, 1 },
			    inf[] = { 1, INFINITY }, nan[] = { NAN };
	double many[PROM_BUCKETS_MAX + 1];
	struct prom_buf b;

	for (size_t i = 0; i <= PROM_BUCKETS_MAX; i++)
		many[i] = (double)i;
	histogram_refused("g", PROM_GAUGE, NULL, ok, 2);	/* not a histogram */
	histogram_refused("h", PROM_HISTOGRAM, "le", ok, 2);	/* le is the writer's */
	histogram_refused("h", PROM_HISTOGRAM, "bad-name", ok, 2);
	histogram_refused("h", PROM_HISTOGRAM, NULL, flat, 2);
	histogram_refused("h", PROM_HISTOGRAM, NULL, down, 2);
	histogram_refused("h", PROM_HISTOGRAM, NULL, inf, 2);
	histogram_refused("h", PROM_HISTOGRAM, NULL, nan, 1);
	histogram_refused("h", PROM_HISTOGRAM, NULL, many, PROM_BUCKETS_MAX + 1);
	prom_buf_init(&b);
	prom_family(&b, "h", PROM_HISTOGRAM, "x");
	prom_sample_u64(&b, NULL, 0, 1);		/* a bare line in a histogram */
	CHECK(b.err == -EINVAL);
	prom_buf_reset(&b);
	prom_family(&b, "h", PROM_HISTOGRAM, "x");
	prom_sample_histogram(&b, NULL, 0, &(struct prom_histogram){ 0 }, many,
			      PROM_BUCKETS_MAX);
	prom_gauge(&b, "after", "x", 1);		/* the next family is plain again */
	CHECK(b.err == 0 && exposition_valid(b.data));
	prom_buf_free(&b);
}

/* ---- a device and a node ---- */

#define KEY_ACC    "TOAYmQD0Iyq+PTa0+PqjNNik0t0K67HIEuEW7aqdBIE="
#define KEY_CLIENT "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE="
#define KEY_FRA1   "AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI="

static const char policy_text[] =
	"version: 1\n"
	"overlay: [100.64.0.0/10]\n"
	"settings: {flows: {max: 512}}\n"
	"regions: {eu: {countries: [DE], prefixes: [203.0.113.0/25]}}\n"
	"nodes:\n"
	"  acc: {region: eu, roles: [access, egress], key: \"" KEY_ACC "\", links: [{name: internet}]}\n"
	"  fra1: {region: eu, roles: [egress], key: \"" KEY_FRA1 "\",\n"
	"         links: [{name: internet, endpoint: \"198.18.0.2:51820\"}]}\n"
	"pools: {default: {fra1: [198.51.100.0/28], acc: [198.51.100.16/28]}}\n"
	"users: {alice: {devices: [{name: laptop, key: \"" KEY_CLIENT "\",\n"
	"        addresses: [100.64.1.2/32]}]}}\n"
	"default: allow\n";

static struct wg_peer *peer_by_b64(struct wg_device *dev, const char *b64)
{
	uint8_t key[48];

	if (EVP_DecodeBlock(key, (const unsigned char *)b64, 44) < 32)
		return NULL;
	return wg_peer_lookup(dev, key);
}

static void test_plain_device(void)
{
	struct wg_device dev;
	struct prom_buf b;

	CHECK(wg_device_init(&dev, &wg_null_io, NULL) == 0);
	dev.counters[WG_CTR_rx_drop_replay] = 5;
	dev.counters[WG_CTR_handshake_initiation_tx] = 2;
	prom_buf_init(&b);
	CHECK(node_metrics_render(&dev, NULL, "wg0", &b) == 0);
	CHECK(exposition_valid(b.data));
	CHECK(value_of(b.data, "egress_policy_version") == -1);
	CHECK(value_of(b.data, "egress_peers") == 0);
	CHECK(value_of(b.data, "egress_drops_total{reason=\"rx_drop_replay\"}") == 5);
	CHECK(value_of(b.data, "egress_drops_total{reason=\"tx_drop_no_peer\"}") == 0);
	CHECK(value_of(b.data, "egress_handshake_initiation_tx_total") == 2);
	CHECK(value_of(b.data, "egress_device_info{interface=\"wg0\",node=\"\","
			       "public_key=\"\"}") == 1);
	CHECK(!strstr(b.data, "egress_peer_rx_bytes_total"));
	CHECK(!strstr(b.data, "egress_sessions_total"));
	CHECK(!strstr(b.data, "egress_rx_drop"));	/* drops are one family */
	promtool_check(b.data, "a plain device");
	prom_buf_free(&b);
	wg_device_destroy(&dev);
}

static void check_node_values(const char *text, const struct node *node)
{
	CHECK(value_of(text, "egress_policy_version") == 0);
	CHECK(value_of(text, "egress_peers") == 2);
	CHECK(value_of(text, "egress_peer_rx_bytes_total{peer=\"" KEY_CLIENT "\","
			     "name=\"laptop\"}") == 1234);
	CHECK(value_of(text, "egress_peer_tx_bytes_total{peer=\"" KEY_FRA1 "\","
			     "name=\"fra1\"}") == 99);
	CHECK(value_of(text, "egress_peer_last_handshake_seconds{peer=\"" KEY_CLIENT "\","
			     "name=\"laptop\"}") == 1700000000.5);
	CHECK(value_of(text, "egress_peer_last_handshake_seconds{peer=\"" KEY_FRA1 "\","
			     "name=\"fra1\"}") == 0);
	CHECK(value_of(text, "egress_sessions_total{result=\"new\"}") == 3);
	CHECK(value_of(text, "egress_sessions_total{result=\"local_breakout\"}") == 0);
	CHECK(value_of(text, "egress_failovers_total{kind=\"other_egress\","
			     "reason=\"egress_down\"}") == 1);
	CHECK(value_of(text, "egress_failovers_total{kind=\"same_egress\","
			     "reason=\"path_down\"}") == 0);
	CHECK(value_of(text, "egress_sessions_total{result=\"limits_relaxed\"}") == 5);
	CHECK(!strstr(text, "egress_limits_relaxed_total"));
	CHECK(value_of(text, "egress_peer_rx_packets_total{peer=\"" KEY_CLIENT "\","
			     "name=\"laptop\"}") == 17);
	CHECK(value_of(text, "egress_peer_tx_packets_total{peer=\"" KEY_FRA1 "\","
			     "name=\"fra1\"}") == 3);
	CHECK(value_of(text, "egress_path_tx_packets_total{peer=\"fra1\",path=\"internet\"}")
	      == 10);
	CHECK(value_of(text, "egress_path_tx_bytes_total{peer=\"fra1\",path=\"internet\"}")
	      == 840);
	CHECK(value_of(text, "egress_path_rx_packets_total{peer=\"fra1\",path=\"internet\"}")
	      == 9);
	CHECK(value_of(text, "egress_path_rx_bytes_total{peer=\"fra1\",path=\"internet\"}")
	      == 756);
	CHECK(value_of(text, "egress_drops_total{reason=\"drop_parse\"}") == 4);
	CHECK(value_of(text, "egress_drops_total{reason=\"rx_drop_replay\"}") == 0);
	CHECK(value_of(text, "egress_probes_total{dir=\"tx\"}") ==
	      (double)node->counters[NODE_CTR_probes_tx]);
	CHECK(value_of(text, "egress_probe_replies_total{dir=\"rx\"}") == 0);
	CHECK(value_of(text, "egress_policy_reloads_total{result=\"ok\"}") == 2);
	CHECK(value_of(text, "egress_policy_reloads_total{result=\"error\"}") == 1);
	CHECK(value_of(text, "egress_security_events_total") == 0);
	CHECK(value_of(text, "egress_flows_capacity") == 512);
	CHECK(value_of(text, "egress_flows_active") == 0);
	CHECK(value_of(text, "egress_path_state{peer=\"fra1\",path=\"internet\","
			     "state=\"up\"}") == 1);
	CHECK(value_of(text, "egress_path_state{peer=\"fra1\",path=\"internet\","
			     "state=\"unknown\"}") == 0);
	CHECK(fabs(value_of(text, "egress_path_rtt_seconds{peer=\"fra1\",path=\"internet\"}")
		   - 0.02) < 1e-9);
	CHECK(value_of(text, "egress_path_loss_ratio{peer=\"fra1\",path=\"internet\"}") == 0);
	CHECK(value_of(text, "egress_path_probes_sent_total{peer=\"fra1\",path=\"internet\"}")
	      == 4);
	CHECK(value_of(text, "egress_path_probe_replies_total{peer=\"fra1\",path=\"internet\"}")
	      == 4);
	CHECK(value_of(text, "egress_path_best{peer=\"fra1\",path=\"internet\"}") == 1);
}

/* Four probes answered in 20 ms: the path is up with a known RTT. */
static void measure_path(struct node *node, monotime_ns *now)
{
	struct node_peer *np = node_peer_by_id(node, policy_name_id("fra1"));

	CHECK(np && np->n_paths == 1);
	if (!np || np->n_paths != 1)
		return;
	for (int i = 0; i < 4; i++) {
		uint32_t seq = path_monitor_probe_sent(&np->paths[0].mon, *now);

		*now += MSECONDS(20);
		CHECK(path_monitor_reply(&np->paths[0].mon, seq, *now));
		path_monitor_tick(&np->paths[0].mon, *now);
	}
}

static void set_path_traffic(struct node *node)
{
	struct node_peer *np = node_peer_by_id(node, policy_name_id("fra1"));

	if (!np || !np->n_paths)
		return;
	np->paths[0].tx_packets = 10;
	np->paths[0].tx_bytes = 840;
	np->paths[0].rx_packets = 9;
	np->paths[0].rx_bytes = 756;
}

static void test_node(void)
{
	struct policy_errors errs = { 0 };
	struct wg_device dev;
	struct node node;
	struct policy *p;
	struct wg_peer *client, *fra1;
	struct prom_buf b;
	const char *why;
	monotime_ns now = SECONDS(1000);

	crypto_init();
	CHECK(wg_device_init(&dev, &wg_null_io, NULL) == 0);
	p = policy_load_buffer("t.yaml", policy_text, sizeof(policy_text) - 1, NULL, &errs);
	CHECK(p != NULL);
	for (size_t i = 0; i < errs.n; i++)
		fprintf(stderr, "%s\n", errs.msgs[i]);
	policy_errors_free(&errs);
	if (!p)
		return;
	CHECK(node_init(&node, &dev, "acc", NULL) == 0);
	CHECK(node_apply_policy(&node, p, now, &why) == 0);
	policy_unref(p);
	wg_device_set_hooks(&dev, &node_hooks, &node);
	measure_path(&node, &now);
	client = peer_by_b64(&dev, KEY_CLIENT);
	fra1 = peer_by_b64(&dev, KEY_FRA1);
	CHECK(client && fra1);
	if (!client || !fra1)
		return;
	client->rx_bytes = 1234;
	client->walltime_last_handshake = (struct timespec){ 1700000000, 500000000 };
	fra1->tx_bytes = 99;
	node.counters[NODE_CTR_sessions_new] = 3;
	node.counters[NODE_CTR_failover_other_egress] = 1;
	node.counters[NODE_CTR_limits_relaxed] = 5;
	client->rx_packets = 17;
	fra1->tx_packets = 3;
	set_path_traffic(&node);
	node.counters[NODE_CTR_drop_parse] = 4;
	node.counters[NODE_CTR_policy_reloads] = 2;
	node.counters[NODE_CTR_policy_reload_failures] = 1;

	prom_buf_init(&b);
	CHECK(node_metrics_render(&dev, &node, "eg0", &b) == 0);
	CHECK(exposition_valid(b.data));
	check_node_values(b.data, &node);
	promtool_check(b.data, "a node");
	if (getenv("PROM_DUMP"))
		fputs(b.data, stdout);
	prom_buf_free(&b);
	wg_device_set_hooks(&dev, NULL, NULL);
	node_destroy(&node);
	wg_device_destroy(&dev);
}

/* Every counter of both tables appears exactly once, in some family. */
static void test_every_counter(void)
{
	struct wg_device dev;
	struct node node;
	struct prom_buf b;
	size_t samples = 0;

	CHECK(wg_device_init(&dev, &wg_null_io, NULL) == 0);
	CHECK(node_init(&node, &dev, "acc", NULL) == 0);
	for (size_t i = 0; i < WG_CTR__MAX; i++)
		dev.counters[i] = 1000000 + i;
	for (size_t i = 0; i < NODE_CTR__MAX; i++)
		node.counters[i] = 2000000 + i;
	prom_buf_init(&b);
	CHECK(node_metrics_render(&dev, &node, "eg0", &b) == 0);
	CHECK(exposition_valid(b.data));
	for (size_t i = 0; i < WG_CTR__MAX + NODE_CTR__MAX; i++) {
		char want[24];
		unsigned long v = i < WG_CTR__MAX ? 1000000 + i : 2000000 + i - WG_CTR__MAX;

		snprintf(want, sizeof(want), " %lu\n", v);
		CHECK(strstr(b.data, want) != NULL);
		samples++;
	}
	CHECK(samples == WG_CTR__MAX + NODE_CTR__MAX);
	CHECK(value_of(b.data, "egress_policy_version") == -1);
	promtool_check(b.data, "a node without a policy");
	prom_buf_free(&b);
	node_destroy(&node);
	wg_device_destroy(&dev);
}

TEST_MAIN("prom",
	  TEST(test_escaping), TEST(test_escaping_random), TEST(test_family_rules),
	  TEST(test_too_many_families), TEST(test_numbers), TEST(test_growth),
	  TEST(test_histogram_known), TEST(test_histogram_random), TEST(test_histogram_rules),
	  TEST(test_plain_device), TEST(test_node), TEST(test_every_counter))
