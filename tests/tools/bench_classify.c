/* bench_classify: policy load and classification at scale. Generates a
 * policy in memory as YAML text (by default 10,000 rules, 500,000
 * destination prefixes, 100,000 domain patterns, 1,000 users), loads it,
 * and classifies random sessions on one core. Prints figures; it never
 * fails. Usage: bench_classify [rules prefixes domains users sessions] */
#include <netinet/in.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto/crypto.h"
#include "policy/policy.h"
#include "policy/policy_internal.h"
#include "dataplane/flow_table.h"
#include "routing/select.h"

struct text {
	char *p;
	size_t len, cap;
};

__attribute__((format(printf, 2, 3)))
static void out(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!t->p) {
		t->cap = 1 << 20;
		t->p = malloc(t->cap);
		if (!t->p)
			abort();
	}
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(t->p + t->len, t->cap - t->len, fmt, ap);
		va_end(ap);
		if (n >= 0 && (size_t)n < t->cap - t->len)
			break;
		t->cap = t->cap * 2 + (size_t)n + 1;
		t->p = realloc(t->p, t->cap);
		if (!t->p)
			abort();
	}
	t->len += (size_t)n;
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static long rss_kb(const char *field)
{
	char line[256];
	long v = -1;
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, field, strlen(field)))
			v = strtol(line + strlen(field), NULL, 10);
	if (f)
		fclose(f);
	return v;
}

enum { GROUPS = 50, SETS = 1000, CLASSES = 10 };

struct bench {
	unsigned rules, prefixes, domains, users, sessions;
	uint32_t *set_v4;	/* one /24-ish start per set, for sessions that hit */
};

static void gen_infra(struct text *t)
{
	out(t, "version: 1\nregions: {eu: {countries: [DE]}, us: {countries: [US]}}\nnodes:\n"
	    "  fra1: {region: eu, roles: [egress], key: \"%s\", price_per_gb: 0.02}\n"
	    "  fra2: {region: eu, roles: [egress], key: \"%s\", price_per_gb: 0.01}\n"
	    "  nyc1: {region: us, roles: [egress], key: \"%s\", price_per_gb: 0.03}\n"
	    "pools: {default: {fra1: [198.51.100.0/26], fra2: [198.51.100.64/26],"
	    " nyc1: [198.51.100.128/26]}}\ngroups: [",
	    "TOAYmQD0Iyq+PTa0+PqjNNik0t0K67HIEuEW7aqdBIE=",
	    "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=",
	    "AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=");
	for (unsigned g = 0; g < GROUPS; g++)
		out(t, "%sg%u", g ? ", " : "", g);
	out(t, "]\n");
}

static void gen_users(struct text *t, const struct bench *b)
{
	out(t, "users:\n");
	for (unsigned u = 0; u < b->users; u++) {
		uint8_t key[32] = { 1 };
		char b64[64];
		unsigned n = 1 + rnd(3);

		key[1] = (uint8_t)u;
		key[2] = (uint8_t)(u >> 8);
		key[3] = (uint8_t)(u >> 16);
		sodium_bin2base64(b64, sizeof(b64), key, 32, sodium_base64_VARIANT_ORIGINAL);
		out(t, "  u%u: {groups: [", u);
		for (unsigned i = 0; i < n; i++)
			out(t, "%sg%u", i ? ", " : "", rnd(GROUPS));
		out(t, "], devices: [{name: d%u, key: \"%s\", addresses: [10.%u.%u.%u/32]}]}\n", u,
		    b64, u >> 16 & 255, u >> 8 & 255, u & 255);
	}
}

static void gen_prefix(struct text *t, struct bench *b, unsigned set, bool first)
{
	unsigned len = 16 + rnd(13);
	uint32_t a = (uint32_t)rnd(1u << 31) << 1 ^ rnd(2), mask = ~0u << (32 - len);

	if (rnd(10) == 0) {
		out(t, "%s\"2001:db8:%x:%x::/64\"", first ? "" : ", ", rnd(65536), rnd(65536));
		return;
	}
	a &= mask;
	if (a >> 24 == 10 || a >> 24 == 0)
		a |= 1u << 30;	/* keep clear of the device addresses */
	if (first)
		b->set_v4[set] = a;
	out(t, "%s%u.%u.%u.%u/%u", first ? "" : ", ", a >> 24, a >> 16 & 255, a >> 8 & 255,
	    a & 255, len);
}

static void gen_sets(struct text *t, struct bench *b)
{
	out(t, "destinations:\n");
	for (unsigned s = 0; s < SETS; s++) {
		unsigned np = b->prefixes / SETS, nd = b->domains / SETS;

		out(t, "  s%u: {prefixes: [", s);
		b->set_v4[s] = 0;
		for (unsigned i = 0; i < np; i++)
			gen_prefix(t, b, s, i == 0);
		out(t, "], domains: [");
		for (unsigned i = 0; i < nd; i++)
			out(t, "%s\"%sd%u-%u.example\"", i ? ", " : "", i & 1 ? "*." : "", s, i);
		out(t, "]}\n");
	}
}

static void gen_list(struct text *t, const char *key, const char *pfx, unsigned n,
		     unsigned range)
{
	out(t, ", %s: [", key);
	for (unsigned i = 0; i < n; i++)
		out(t, "%s%s%u", i ? ", " : "", pfx, rnd(range));
	out(t, "]");
}

static void gen_classes_rules(struct text *t, const struct bench *b)
{
	out(t, "classes:\n");
	for (unsigned c = 0; c < CLASSES; c++) {
		unsigned lo = 1 + rnd(1000);

		out(t, "  - {name: c%u, match: {protocol: %s, ports: [%u-%u, 443]", c,
		    c & 1 ? "udp" : "tcp", lo, lo + rnd(2000));
		if (c % 3)
			gen_list(t, "destinations", "s", 1 + rnd(3), SETS);
		out(t, "}}\n");
	}
	out(t, "rules:\n");
	for (unsigned r = 0; r < b->rules; r++) {
		unsigned kind = rnd(100);

		out(t, "  - {action: %s", rnd(2) ? "allow" : "deny");
		if (kind < 45)
			gen_list(t, "groups", "g", 1 + rnd(2), GROUPS);
		else if (kind < 80)
			gen_list(t, "users", "u", 1 + rnd(3), b->users);
		else if (kind < 90)
			gen_list(t, "devices", "d", 1, b->users);
		if (kind < 80 && rnd(2))
			gen_list(t, "destinations", "s", 1 + rnd(3), SETS);
		else if (kind < 80)
			gen_list(t, "classes", "c", 1, CLASSES);
		else if (kind >= 90 && kind < 98)
			gen_list(t, "destinations", "s", 1 + rnd(2), SETS);
		else if (kind >= 98)
			gen_list(t, "classes", "c", 1, CLASSES);
		out(t, "}\n");
	}
	out(t, "default: allow\n");
}

static void make_sessions(const struct policy *p, const struct bench *b,
			  struct policy_session *s, char (*names)[48])
{
	static const uint16_t ports[] = { 443, 80, 53, 3478, 8080 };

	for (unsigned i = 0; i < b->sessions; i++) {
		uint32_t set = rnd(SETS), a = b->set_v4[set] + rnd(16);

		memset(&s[i], 0, sizeof(s[i]));
		s[i].device = rnd(5) ? rnd((uint32_t)p->n_devices) : POLICY_NONE;
		s[i].user = rnd((uint32_t)p->n_users);
		s[i].protocol = rnd(3) ? IPPROTO_TCP : IPPROTO_UDP;
		s[i].dport = rnd(4) ? ports[rnd(5)] : (uint16_t)(1 + rnd(3000));
		s[i].dst.family = AF_INET;
		if (rnd(2) || !b->set_v4[set])
			a = (uint32_t)rnd(1u << 31) << 1;
		s[i].dst.a[0] = (uint8_t)(a >> 24);
		s[i].dst.a[1] = (uint8_t)(a >> 16);
		s[i].dst.a[2] = (uint8_t)(a >> 8);
		s[i].dst.a[3] = (uint8_t)a;
		if (b->domains >= SETS && rnd(10) < 3) {
			unsigned k = rnd(b->domains / SETS);

			snprintf(names[i], sizeof(names[i]), "%sd%u-%u.example",
				 k & 1 ? "www." : "", set, k);
			s[i].domain = names[i];
		}
	}
}

static void run_classify(const struct policy *p, const struct bench *b)
{
	struct policy_session *s = calloc(b->sessions, sizeof(*s));
	char (*names)[48] = calloc(b->sessions, sizeof(*names));
	unsigned long ruled = 0, classed = 0, denied = 0;
	struct policy_decision d;
	double t0, t1;

	if (!s || !names)
		abort();
	make_sessions(p, b, s, names);
	t0 = now_s();
	for (unsigned i = 0; i < b->sessions; i++) {
		policy_classify(p, &s[i], &d);
		ruled += d.rule != POLICY_NONE;
		classed += d.class_ + 1 != p->n_classes;
		denied += d.action == POLICY_DENY;
	}
	t1 = now_s();
	printf("classify: %u sessions in %.3f s = %.0f per second on one core "
	       "(%.2f us each)\n", b->sessions, t1 - t0, b->sessions / (t1 - t0),
	       (t1 - t0) * 1e6 / b->sessions);
	printf("  %.1f%% matched a rule, %.1f%% a class other than default, %.1f%% denied\n",
	       100.0 * ruled / b->sessions, 100.0 * classed / b->sessions,
	       100.0 * denied / b->sessions);
	free(s);
	free(names);
}

/* Three egress nodes with two paths each, as the node's view would be. */
static void make_views(struct route_node_view *v, struct route_path_view (*paths)[2])
{
	for (uint32_t i = 0; i < 3; i++) {
		for (int k = 0; k < 2; k++) {
			paths[i][k] = (struct route_path_view){ .index = (uint16_t)k, .state = PATH_UP };
			paths[i][k].metrics.srtt_ms = 5.0 + 7 * i + 3 * k;
			paths[i][k].metrics.jitter_ms = 0.5;
		}
		v[i] = (struct route_node_view){ .node = i, .paths = paths[i], .n_paths = 2,
						 .region_rtt_ms = -1 };
	}
}

/* A whole new-session decision as the data path makes it: classify, pick
 * the egress and path, install the flow. */
static void run_decide(const struct policy *p, const struct bench *b)
{
	struct policy_session *s = calloc(b->sessions, sizeof(*s));
	char (*names)[48] = calloc(b->sessions, sizeof(*names));
	struct flow_timeouts to = { SECONDS(30), SECONDS(7200), SECONDS(30), SECONDS(60),
				    SECONDS(30), SECONDS(60) };
	struct flow_table *ft = flow_table_create(b->sessions, &to);
	struct route_stability *stab = route_stability_create(4096);
	struct route_path_view paths[3][2];
	struct route_node_view views[3];
	struct route_decision r;
	struct policy_decision d;
	unsigned long routed = 0;
	double t0, t1;

	if (!s || !names || !ft || !stab)
		abort();
	make_sessions(p, b, s, names);
	make_views(views, paths);
	t0 = now_s();
	for (unsigned i = 0; i < b->sessions; i++) {
		struct flow_tuple tup = { .family = AF_INET, .protocol = s[i].protocol,
					  .sport = (uint16_t)(1024 + i % 60000), .dport = s[i].dport };

		policy_classify(p, &s[i], &d);
		if (d.action != POLICY_ALLOW)
			continue;
		route_select(p, &p->classes[d.class_], d.dst_region,
			     d.user != POLICY_NONE ? p->users[d.user].id : 0, views, 3, stab,
			     (monotime_ns)i * 1000, true, &r);
		memcpy(tup.src, &i, sizeof(i));
		memcpy(tup.dst, s[i].dst.a, 4);
		routed += r.found && flow_table_insert(ft, &tup, NULL, (monotime_ns)i * 1000);
	}
	t1 = now_s();
	printf("decide (classify + select among 3 egress x 2 paths + install the flow): "
	       "%.0f new sessions per second on one core (%.2f us each), %lu routed\n",
	       b->sessions / (t1 - t0), (t1 - t0) * 1e6 / b->sessions, routed);
	flow_table_destroy(ft);
	route_stability_destroy(stab);
	free(s);
	free(names);
}

int main(int argc, char **argv)
{
	struct bench b = { 10000, 500000, 100000, 1000, 1000000, NULL };
	struct text t = { 0 };
	struct policy_errors e;
	struct policy *p;
	long rss0, rss1;
	double t0, t1, t2;

	if (argc == 6) {
		b.rules = (unsigned)atoi(argv[1]);
		b.prefixes = (unsigned)atoi(argv[2]);
		b.domains = (unsigned)atoi(argv[3]);
		b.users = (unsigned)atoi(argv[4]);
		b.sessions = (unsigned)atoi(argv[5]);
	}
	if (!crypto_init() || b.users < 1 || b.sessions < 1 || b.prefixes < SETS)
		return 1;
	b.set_v4 = calloc(SETS, sizeof(*b.set_v4));
	t0 = now_s();
	gen_infra(&t);
	gen_users(&t, &b);
	gen_sets(&t, &b);
	gen_classes_rules(&t, &b);
	t1 = now_s();
	printf("policy: %u rules, %u prefixes, %u domain patterns, %u users, %u sets; "
	       "%.1f MB of YAML generated in %.2f s\n", b.rules, b.prefixes, b.domains,
	       b.users, SETS, t.len / 1e6, t1 - t0);
	rss0 = rss_kb("VmRSS:");
	t1 = now_s();
	p = policy_load_buffer("bench.yaml", t.p, t.len, NULL, &e);
	t2 = now_s();
	rss1 = rss_kb("VmRSS:");
	for (size_t i = 0; i < e.n && i < 10; i++)
		printf("  %s\n", e.msgs[i]);
	policy_errors_free(&e);
	free(t.p);
	if (!p)
		return 1;
	printf("load + validate + compile: %.2f s; compiled policy %.1f MB (RSS +%.1f MB, "
	       "peak RSS %.1f MB)\n", t2 - t1, policy_memory_bytes(p) / 1e6,
	       (rss1 - rss0) / 1e3, rss_kb("VmHWM:") / 1e3);
	run_classify(p, &b);
	run_decide(p, &b);
	policy_unref(p);
	free(b.set_v4);
	return 0;
}
