/* test_policy_match: the compiled matchers against naive references on
 * random inputs: the prefix map (union of covering sets, and most
 * specific) against a linear scan, the domain table against suffix
 * comparison, and whole classification (classes and the indexed rule
 * merge) against a linear first-match over generated policies. */
#include "test.h"

#include <ctype.h>
#include <sodium.h>
#include <stdarg.h>
#include <netinet/in.h>
#include <stdint.h>

#include "crypto/crypto.h"
#include "policy/arena.h"
#include "policy/domain.h"
#include "policy/policy.h"
#include "policy/prefix_map.h"
#include "policy/setlist.h"

static uint64_t rng_state = 0x243f6a8885a308d3ull;

static uint32_t rnd(uint32_t n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return n ? (uint32_t)(rng_state % n) : 0;
}

/* ---- prefix map ---- */

static void random_prefix(struct ip_prefix *p, bool v6)
{
	struct ip_prefix q;

	memset(&q, 0, sizeof(q));
	q.addr.family = v6 ? AF_INET6 : AF_INET;
	if (v6) {
		q.addr.a[0] = 0x20;
		q.addr.a[1] = 0x01;
		q.addr.a[2] = (uint8_t)rnd(2);
		for (int i = 3; i < 16; i++)
			q.addr.a[i] = (uint8_t)(rnd(4) ? 0 : rnd(256));
		q.len = (uint8_t)(rnd(5) ? 8 + rnd(121) : rnd(8));
	} else {
		q.addr.a[0] = 10;
		q.addr.a[1] = (uint8_t)rnd(4);
		q.addr.a[2] = (uint8_t)rnd(8);
		q.addr.a[3] = (uint8_t)rnd(256);
		q.len = (uint8_t)(rnd(6) ? 8 + rnd(25) : rnd(8));
	}
	/* clear host bits through the parser's own rule */
	{
		char text[IP_PREFIX_STRLEN];

		ip_prefix_format(&q, text, sizeof(text));
		CHECK(ip_prefix_parse(text, p, false));
	}
}

static struct ip_addr probe_addr(const struct prefix_map_entry *e, size_t n, bool v6)
{
	struct ip_addr a;
	const struct ip_prefix *p = &e[rnd((uint32_t)n)].prefix;
	size_t bytes = v6 ? 16 : 4;

	if (p->addr.family != (v6 ? AF_INET6 : AF_INET) || rnd(4) == 0) {
		struct ip_prefix r;

		random_prefix(&r, v6);
		a = r.addr;
		for (size_t i = bytes / 2; i < bytes; i++)
			a.a[i] = (uint8_t)rnd(256);
		return a;
	}
	/* the start, the end, or just past either */
	a = p->addr;
	if (rnd(2)) {
		for (unsigned bit = p->len; bit < bytes * 8; bit++)
			a.a[bit / 8] |= (uint8_t)(0x80 >> (bit % 8));
		if (rnd(2))
			for (size_t i = bytes; i-- && ++a.a[i] == 0;)
				;
	} else if (rnd(2)) {
		for (size_t i = bytes; i-- && a.a[i]-- == 0;)
			;
	}
	return a;
}

static size_t naive_sets(const struct prefix_map_entry *e, size_t n, const struct ip_addr *a,
			 bool most_specific, uint32_t *out)
{
	int best = -1;
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		if (ip_prefix_contains(&e[i].prefix, a) && e[i].prefix.len > best)
			best = e[i].prefix.len;
	for (size_t i = 0; i < n; i++)
		if (ip_prefix_contains(&e[i].prefix, a) &&
		    (!most_specific || e[i].prefix.len == best))
			out[k++] = e[i].value;
	return policy_sort_unique(out, k);
}

static void prefix_map_round(bool most_specific)
{
	enum { N = 1500, Q = 20000 };
	struct prefix_map_entry *e = calloc(N, sizeof(*e)), *copy = calloc(N, sizeof(*e));
	uint32_t *want = calloc(N, sizeof(*want));
	struct policy_arena *arena = policy_arena_create();
	struct setlists lists;
	struct prefix_map m;
	unsigned mismatches = 0;

	CHECK(policy_setlists_init(&lists));
	for (size_t i = 0; i < N; i++) {
		random_prefix(&e[i].prefix, rnd(3) == 0);
		e[i].value = rnd(40);
	}
	memcpy(copy, e, N * sizeof(*e));
	CHECK(policy_prefix_map_build(&m, copy, N, most_specific, &lists, arena));
	for (size_t q = 0; q < Q; q++) {
		bool v6 = rnd(3) == 0;
		struct ip_addr a = probe_addr(e, N, v6);
		size_t nw = naive_sets(e, N, &a, most_specific, want), ng;
		const uint32_t *got = policy_setlist_items(&lists,
							   policy_prefix_map_lookup(&m, &a), &ng);

		if (ng != nw || (nw && memcmp(got, want, nw * sizeof(*want))))
			mismatches++;
	}
	CHECK(mismatches == 0);
	policy_setlists_free(&lists);
	policy_arena_destroy(arena);
	free(e);
	free(copy);
	free(want);
}

static void test_prefix_map_union(void)
{
	prefix_map_round(false);
}

static void test_prefix_map_most_specific(void)
{
	prefix_map_round(true);
}

static void test_prefix_map_edges(void)
{
	struct policy_arena *arena = policy_arena_create();
	struct prefix_map_entry e[4];
	struct setlists lists;
	struct prefix_map m;
	struct ip_addr a;
	size_t n;

	CHECK(policy_setlists_init(&lists));
	CHECK(ip_prefix_parse("0.0.0.0/0", &e[0].prefix, true));
	CHECK(ip_prefix_parse("255.255.255.255/32", &e[1].prefix, true));
	CHECK(ip_prefix_parse("::/0", &e[2].prefix, true));
	CHECK(ip_prefix_parse("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128", &e[3].prefix, true));
	for (uint32_t i = 0; i < 4; i++)
		e[i].value = i;
	CHECK(policy_prefix_map_build(&m, e, 4, false, &lists, arena));
	CHECK(ip_addr_parse("255.255.255.255", &a));
	CHECK(policy_setlist_items(&lists, policy_prefix_map_lookup(&m, &a), &n)[1] == 1);
	CHECK(n == 2);
	CHECK(ip_addr_parse("0.0.0.0", &a));
	CHECK(policy_setlist_items(&lists, policy_prefix_map_lookup(&m, &a), &n)[0] == 0);
	CHECK(n == 1);
	CHECK(ip_addr_parse("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", &a));
	policy_setlist_items(&lists, policy_prefix_map_lookup(&m, &a), &n);
	CHECK(n == 2);
	a.family = 0;
	CHECK(policy_prefix_map_lookup(&m, &a) == SETLIST_EMPTY);
	CHECK(policy_prefix_map_build(&m, NULL, 0, false, &lists, arena));
	CHECK(ip_addr_parse("10.0.0.1", &a) && policy_prefix_map_lookup(&m, &a) == SETLIST_EMPTY);
	policy_setlists_free(&lists);
	policy_arena_destroy(arena);
}

/* ---- domains ---- */

static void random_name(char *out, size_t cap)
{
	static const char *const labels[] = { "a", "b", "zoom", "us", "x-1", "c_d" };
	size_t used = 0, depth = 1 + rnd(4);

	out[0] = '\0';
	for (size_t i = 0; i < depth; i++)
		used += (size_t)snprintf(out + used, cap - used, "%s%s", i ? "." : "",
					 labels[rnd(6)]);
}

static bool naive_domain_match(const char *pattern, bool below, const char *name)
{
	char n[300];
	size_t len = strlen(name), pl = strlen(pattern);

	if (len && name[len - 1] == '.')
		len--;
	for (size_t i = 0; i < len; i++)
		n[i] = (char)tolower((unsigned char)name[i]);
	n[len] = '\0';
	if (!below)
		return !strcmp(n, pattern);
	return len > pl + 1 && n[len - pl - 1] == '.' && !strcmp(n + len - pl, pattern);
}

static void test_domain_map(void)
{
	enum { N = 300, Q = 20000 };
	struct domain_entry e[N], copy[N];
	char names[N][64], pat[300], norm[DOMAIN_MAX + 1], msg[128];
	bool below;
	struct setlists lists;
	struct domain_map m;
	unsigned mismatches = 0;

	CHECK(policy_setlists_init(&lists));
	for (size_t i = 0; i < N; i++) {
		random_name(names[i], sizeof(names[i]));
		e[i] = (struct domain_entry){ names[i], rnd(2) == 0, rnd(30) };
	}
	memcpy(copy, e, sizeof(e));
	CHECK(policy_domain_map_build(&m, copy, N, &lists));
	for (size_t q = 0; q < Q; q++) {
		uint32_t ids[DOMAIN_MAX_LABELS + 1], want[N], got[N];
		size_t nw = 0, ng = 0, n_ids;

		random_name(pat, sizeof(pat));
		if (rnd(4) == 0)
			pat[0] = (char)toupper((unsigned char)pat[0]);
		if (rnd(4) == 0)
			strcat(pat, ".");
		for (size_t i = 0; i < N; i++)
			if (naive_domain_match(e[i].name, e[i].below, pat))
				want[nw++] = e[i].set;
		n_ids = policy_domain_map_lookup(&m, pat, ids);
		for (size_t i = 0; i < n_ids; i++) {
			size_t k;
			const uint32_t *v = policy_setlist_items(&lists, ids[i], &k);

			memcpy(got + ng, v, k * sizeof(*v));
			ng += k;
		}
		nw = policy_sort_unique(want, nw);
		ng = policy_sort_unique(got, ng);
		if (nw != ng || (nw && memcmp(want, got, nw * sizeof(*want))))
			mismatches++;
	}
	CHECK(mismatches == 0);
	/* pattern syntax */
	CHECK(policy_domain_pattern("*.Zoom.US.", norm, &below, msg, sizeof(msg)));
	CHECK(below && !strcmp(norm, "zoom.us"));
	CHECK(!policy_domain_pattern("*zoom.us", norm, &below, msg, sizeof(msg)));
	CHECK(!policy_domain_pattern("zoom..us", norm, &below, msg, sizeof(msg)));
	CHECK(!policy_domain_pattern("a.*.us", norm, &below, msg, sizeof(msg)));
	CHECK(!policy_domain_pattern("*.", norm, &below, msg, sizeof(msg)));
	CHECK(!policy_domain_pattern("", norm, &below, msg, sizeof(msg)));
	CHECK(policy_domain_map_lookup(&m, NULL, (uint32_t[DOMAIN_MAX_LABELS + 1]){ 0 }) == 0);
	policy_domain_map_free(&m);
	policy_setlists_free(&lists);
}

/* ---- whole classification against a linear first match ---- */

enum { GEN_USERS = 40, GEN_GROUPS = 10, GEN_SETS = 12, GEN_CLASSES = 6, GEN_RULES = 400,
       GEN_SET_PREFIXES = 3 };

struct gen {
	char *text;
	size_t len, cap;
	struct ip_prefix set_prefix[GEN_SETS][GEN_SET_PREFIXES];
	char set_domain[GEN_SETS][32];
};

__attribute__((format(printf, 2, 3)))
static void gen_printf(struct gen *g, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(g->text + g->len, g->cap - g->len, fmt, ap);
		va_end(ap);
		if ((size_t)n < g->cap - g->len)
			break;
		g->cap = g->cap * 2 + (size_t)n;
		g->text = realloc(g->text, g->cap);
	}
	g->len += (size_t)n;
}

/* " key: [p0, p3]" with each of 0..n-1 picked with chance 1/k. */
static bool gen_list(struct gen *g, const char *key, const char *prefix, unsigned n,
		     unsigned k)
{
	bool any = false;

	for (unsigned i = 0; i < n; i++) {
		if (rnd(k))
			continue;
		gen_printf(g, "%s%s%u", any ? ", " : key, prefix, i);
		any = true;
	}
	if (any)
		gen_printf(g, "]");
	return any;
}

static void gen_people(struct gen *g)
{
	gen_printf(g, "version: 1\ngroups: [");
	for (unsigned i = 0; i < GEN_GROUPS; i++)
		gen_printf(g, "%sg%u", i ? ", " : "", i);
	gen_printf(g, "]\nusers:\n");
	for (unsigned i = 0; i < GEN_USERS; i++) {
		uint8_t key[32];
		char b64[64];

		memset(key, 0, sizeof(key));
		key[0] = (uint8_t)(i + 1);
		sodium_bin2base64(b64, sizeof(b64), key, 32, sodium_base64_VARIANT_ORIGINAL);
		gen_printf(g, "  u%u: {", i);
		gen_list(g, "groups: [", "g", GEN_GROUPS, 4);
		gen_printf(g, "%sdevices: [{name: d%u, key: \"%s\", addresses: [100.64.0.%u/32]}]}\n",
			   g->text[g->len - 1] == '{' ? "" : ", ", i, b64, i);
	}
}

static void gen_sets(struct gen *g)
{
	char text[IP_PREFIX_STRLEN];

	gen_printf(g, "destinations:\n");
	for (unsigned i = 0; i < GEN_SETS; i++) {
		gen_printf(g, "  s%u: {prefixes: [", i);
		for (unsigned j = 0; j < GEN_SET_PREFIXES; j++) {
			random_prefix(&g->set_prefix[i][j], rnd(4) == 0);
			ip_prefix_format(&g->set_prefix[i][j], text, sizeof(text));
			gen_printf(g, "%s\"%s\"", j ? ", " : "", text);
		}
		snprintf(g->set_domain[i], sizeof(g->set_domain[i]), "site%u.example", rnd(6));
		gen_printf(g, "], domains: [%s]}\n", g->set_domain[i]);
	}
}

static void gen_classes_rules(struct gen *g)
{
	gen_printf(g, "classes:\n");
	for (unsigned i = 0; i < GEN_CLASSES; i++) {
		unsigned lo = 1 + rnd(100);

		gen_printf(g, "  - {name: c%u, match: {protocol: %s, ports: [%u-%u]", i,
			   rnd(2) ? "tcp" : "udp", lo, lo + rnd(100));
		gen_list(g, ", destinations: [", "s", GEN_SETS, 3);
		gen_printf(g, "}}\n");
	}
	gen_printf(g, "rules:\n");
	for (unsigned i = 0; i < GEN_RULES; i++) {
		bool any = false;

		gen_printf(g, "  - {action: %s", rnd(2) ? "allow" : "deny");
		while (!any) {
			any |= rnd(4) == 0 && gen_list(g, ", users: [", "u", GEN_USERS, 12);
			any |= rnd(3) == 0 && gen_list(g, ", groups: [", "g", GEN_GROUPS, 4);
			any |= rnd(8) == 0 && gen_list(g, ", devices: [", "d", GEN_USERS, 15);
			any |= rnd(3) == 0 && gen_list(g, ", classes: [", "c", GEN_CLASSES, 3);
			any |= rnd(3) == 0 && gen_list(g, ", destinations: [", "s", GEN_SETS, 5);
		}
		gen_printf(g, "}\n");
	}
	gen_printf(g, "default: %s\n", rnd(2) ? "allow" : "deny");
}

static bool naive_in_set(const struct gen *g, unsigned set, const struct policy_session *s)
{
	for (unsigned j = 0; j < GEN_SET_PREFIXES; j++)
		if (ip_prefix_contains(&g->set_prefix[set][j], &s->dst))
			return true;
	return s->domain && !strcmp(s->domain, g->set_domain[set]);
}

static bool naive_any_set(const struct gen *g, const uint32_t *sets, size_t n,
			  const struct policy_session *s)
{
	for (size_t i = 0; i < n; i++)
		if (naive_in_set(g, sets[i], s))
			return true;
	return false;
}

static bool naive_list_has(const uint32_t *v, size_t n, uint32_t x)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == x)
			return true;
	return false;
}

static uint32_t naive_class(const struct policy *p, const struct gen *g,
			    const struct policy_session *s)
{
	for (uint32_t i = 0; i + 1 < p->n_classes; i++) {
		const struct policy_class *c = &p->classes[i];

		if (c->protocol != s->protocol || s->dport < c->ports[0].lo ||
		    s->dport > c->ports[0].hi)
			continue;
		if (c->n_dest_sets && !naive_any_set(g, c->dest_sets, c->n_dest_sets, s))
			continue;
		return i;
	}
	return (uint32_t)p->n_classes - 1;
}

static bool naive_rule_holds(const struct policy *p, const struct gen *g,
			     const struct policy_rule *r, const struct policy_session *s,
			     uint32_t user, uint32_t cls)
{
	bool group_ok = !r->n_groups;

	for (size_t i = 0; user != POLICY_NONE && i < p->users[user].n_groups; i++)
		group_ok |= naive_list_has(r->groups, r->n_groups, p->users[user].groups[i]);
	return (!r->n_users || naive_list_has(r->users, r->n_users, user)) && group_ok &&
	       (!r->n_devices || naive_list_has(r->devices, r->n_devices, s->device)) &&
	       (!r->n_classes || naive_list_has(r->classes, r->n_classes, cls)) &&
	       (!r->n_dest_sets || naive_any_set(g, r->dest_sets, r->n_dest_sets, s));
}

static void random_session(const struct policy *p, const struct gen *g,
			   struct policy_session *s)
{
	struct ip_prefix pfx;

	memset(s, 0, sizeof(*s));
	s->device = rnd(3) ? rnd((uint32_t)p->n_devices) : POLICY_NONE;
	s->user = rnd(2) ? rnd((uint32_t)p->n_users + 2) : POLICY_NONE; /* may be out of range */
	s->protocol = rnd(2) ? IPPROTO_TCP : IPPROTO_UDP;
	s->dport = (uint16_t)(1 + rnd(220));
	if (rnd(2)) {
		random_prefix(&pfx, rnd(4) == 0);
		s->dst = pfx.addr;
		s->dst.a[s->dst.family == AF_INET ? 3 : 15] = (uint8_t)rnd(256);
	} else {
		s->dst = g->set_prefix[rnd(GEN_SETS)][rnd(GEN_SET_PREFIXES)].addr;
	}
	s->domain = rnd(3) ? NULL : g->set_domain[rnd(GEN_SETS)];
}

static void test_classify_reference(void)
{
	for (int round = 0; round < 3; round++) {
		struct gen g = { .cap = 1 << 16 };
		struct policy_errors e;
		struct policy *p;
		unsigned bad_class = 0, bad_rule = 0, matched = 0;

		g.text = malloc(g.cap);
		gen_people(&g);
		gen_sets(&g);
		gen_classes_rules(&g);
		p = policy_load_buffer("gen.yaml", g.text, g.len, NULL, &e);
		for (size_t i = 0; i < e.n && i < 5; i++)
			fprintf(stderr, "  %s\n", e.msgs[i]);
		CHECK(p != NULL);
		policy_errors_free(&e);
		for (int q = 0; p && q < 20000; q++) {
			struct policy_session s;
			struct policy_decision d;
			uint32_t user, cls, rule = POLICY_NONE;

			random_session(p, &g, &s);
			policy_classify(p, &s, &d);
			user = s.device != POLICY_NONE ? p->devices[s.device].user :
			       s.user < p->n_users ? s.user : POLICY_NONE;
			cls = naive_class(p, &g, &s);
			for (uint32_t r = 0; r < p->n_rules && rule == POLICY_NONE; r++)
				if (naive_rule_holds(p, &g, &p->rules[r], &s, user, cls))
					rule = r;
			bad_class += d.class_ != cls || d.user != user;
			bad_rule += d.rule != rule;
			matched += rule != POLICY_NONE;
		}
		CHECK(bad_class == 0 && bad_rule == 0);
		CHECK(matched > 1000);	/* the reference is not vacuous */
		policy_unref(p);
		free(g.text);
	}
}

/* A destination in more sets than the merge has cursors: rules are then
 * scanned in order, with the same answers. */
static void test_many_sets(void)
{
	struct gen g = { .cap = 1 << 16 };
	struct policy_errors e;
	struct policy_session s = { .device = POLICY_NONE, .protocol = IPPROTO_TCP,
				    .dport = 80 };
	struct policy_decision d;
	struct policy *p;

	g.text = malloc(g.cap);
	gen_printf(&g, "version: 1\nusers: {alice: {}, bob: {}}\ndestinations:\n");
	for (int i = 0; i < 300; i++)
		gen_printf(&g, "  s%d: {prefixes: [10.0.0.0/8, 192.0.2.%d/32]}\n", i, i % 256);
	gen_printf(&g, "rules:\n");
	for (int i = 0; i < 299; i++)
		gen_printf(&g, "  - {action: deny, destinations: [s%d], users: [bob]}\n", i);
	gen_printf(&g, "  - {action: allow, destinations: [s299]}\ndefault: deny\n");
	p = policy_load_buffer("many.yaml", g.text, g.len, NULL, &e);
	CHECK(p != NULL && e.n == 0);
	policy_errors_free(&e);
	free(g.text);
	if (!p)
		return;
	CHECK(ip_addr_parse("10.1.1.1", &s.dst));
	s.user = 0;
	policy_classify(p, &s, &d);
	CHECK(d.rule == 299 && d.action == POLICY_ALLOW);
	s.user = 1;
	policy_classify(p, &s, &d);
	CHECK(d.rule == 0 && d.action == POLICY_DENY);
	CHECK(ip_addr_parse("192.0.2.44", &s.dst));	/* in s44 only */
	policy_classify(p, &s, &d);
	CHECK(d.rule == 44 && d.action == POLICY_DENY);
	s.user = 0;
	policy_classify(p, &s, &d);
	CHECK(d.rule == POLICY_NONE && d.action == POLICY_DENY);
	policy_unref(p);
}

static void test_init(void)
{
	CHECK(crypto_init());
}

TEST_MAIN("policy_match",
	  TEST(test_init),
	  TEST(test_prefix_map_union),
	  TEST(test_prefix_map_most_specific),
	  TEST(test_prefix_map_edges),
	  TEST(test_domain_map),
	  TEST(test_classify_reference),
	  TEST(test_many_sets))
