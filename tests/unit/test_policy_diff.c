/* test_policy_diff: policy_diff_json and policy_plan_sessions_json on two
 * small inline policies (every kind added, removed and changed, and
 * changes that are not changes), the first version (old NULL), malformed
 * sessions, and rule reordering against a naive longest-increasing-run
 * reference on random permutations. */
#include "test.h"

#include <jansson.h>
#include <stdint.h>

#include "crypto/crypto.h"
#include "policy/diff.h"
#include "policy/policy.h"

#define K1 "aa6DuoxgacIOcPVT04KoXBwBRviRMR9Tnjb6Xf5syzw="
#define K2 "TOAYmQD0Iyq+PTa0+PqjNNik0t0K67HIEuEW7aqdBIE="
#define K3 "U2r7/GeNSTomss26ahmhAODy3gnIFEfjRhzkrks7VqU="
#define K4 "RhJyY1YNkGS3K8qi4mj7Bj9JlfDcB4mtXaV2nzTZVho="
#define K5 "zYaDDdmKwirwk7V/APafWHHc00zoFipgGmqBd/bUfT8="
#define K6 "LhzP1/8zX6ALpPTqu41GsF8RTD0VcDyThSOoqSAkmpo="
#define K7 "QRfMDizpz+vyF7faGkUCo8BBs0cT4jyU26uJ8MMKHQU="

static const char doc_old[] =
	"version: 1\n"
	"regions:\n"
	"  eu: {probe_targets: [203.0.113.10]}\n"
	"  us: {prefixes: [198.18.128.0/17]}\n"
	"nodes:\n"
	"  acc1: {region: eu, roles: [access], key: " K1 "}\n"
	"  fra1: {region: eu, roles: [egress], key: " K2 ", price_per_gb: 0.02,\n"
	"         links: [{name: internet, endpoint: 198.18.1.2:51820}]}\n"
	"  ams1: {region: eu, roles: [egress], key: " K3 "}\n"
	"pools:\n"
	"  default: {fra1: [198.51.100.0/29], ams1: [198.51.100.16/29]}\n"
	"groups: [eng, finance]\n"
	"users:\n"
	"  alice: {groups: [eng], devices: [{name: al, key: " K5 ", addresses: [100.64.1.2/32]}]}\n"
	"  bob: {groups: [finance], devices: [{name: bo, key: " K6 ", addresses: [100.64.1.3/32]}]}\n"
	"  carol: {groups: [eng]}\n"
	"destinations:\n"
	"  zoom: {domains: [\"*.zoom.us\", zoom.us]}\n"
	"  o365: {prefixes: [203.0.113.0/24]}\n"
	"  dx: {prefixes: [192.0.2.0/24]}\n"
	"classes:\n"
	"  - {name: voice, match: {protocol: udp, ports: [3478-3481], destinations: [zoom]}}\n"
	"  - {name: eu-web, match: {protocol: tcp, prefixes: [10.0.0.0/8]}, regions: [eu]}\n"
	"rules:\n"
	"  - {name: r1, action: deny, users: [bob], destinations: [dx]}\n"
	"  - {name: r2, action: allow, groups: [eng]}\n"
	"  - {name: r3, action: deny, classes: [voice]}\n"
	"  - {name: gone, action: deny, users: [carol]}\n"
	"default: allow\n";

/* fra1: price and link; ams1 removed, nyc1 added; us prefixes; voice
 * ports, eu-web inline prefixes, bulk added; r3 moved to the top, r2 now
 * deny, gone removed, fresh added; alice in finance too, bob's key; pool
 * members; zoom's domains, o365 split in two halves (no change), dx
 * moved; probe interval and the default. */
static const char doc_new[] =
	"version: 1\n"
	"settings: {probe: {interval: 200ms}}\n"
	"regions:\n"
	"  eu: {probe_targets: [203.0.113.10]}\n"
	"  us: {prefixes: [198.18.0.0/16]}\n"
	"nodes:\n"
	"  acc1: {region: eu, roles: [access], key: " K1 "}\n"
	"  fra1: {region: eu, roles: [egress], key: " K2 ", price_per_gb: 0.03,\n"
	"         links: [{name: internet, endpoint: 198.18.1.3:51820}]}\n"
	"  nyc1: {region: us, roles: [egress], key: " K4 "}\n"
	"pools:\n"
	"  default: {fra1: [198.51.100.0/29], nyc1: [198.51.100.32/29]}\n"
	"groups: [eng, finance]\n"
	"users:\n"
	"  alice: {groups: [eng, finance], devices: [{name: al, key: " K5 ", addresses: [100.64.1.2/32]}]}\n"
	"  bob: {groups: [finance], devices: [{name: bo, key: " K7 ", addresses: [100.64.1.3/32]}]}\n"
	"  carol: {groups: [eng]}\n"
	"destinations:\n"
	"  zoom: {domains: [\"*.zoom.us\"]}\n"
	"  o365: {prefixes: [203.0.113.0/25, 203.0.113.128/25]}\n"
	"  dx: {prefixes: [192.0.2.0/25]}\n"
	"classes:\n"
	"  - {name: voice, match: {protocol: udp, ports: [3478-3482], destinations: [zoom]}}\n"
	"  - {name: eu-web, match: {protocol: tcp, prefixes: [10.0.0.0/9]}, regions: [eu]}\n"
	"  - {name: bulk, match: {protocol: tcp, ports: [873]}, objective: cost}\n"
	"rules:\n"
	"  - {name: r3, action: deny, classes: [voice]}\n"
	"  - {name: r1, action: deny, users: [bob], destinations: [dx]}\n"
	"  - {name: r2, action: deny, groups: [eng]}\n"
	"  - {name: fresh, action: allow, users: [carol]}\n"
	"default: deny\n";

static struct policy *load(const char *text)
{
	static bool crypto_ready;
	struct policy_errors e;
	struct policy *p;

	if (!crypto_ready)
		crypto_ready = crypto_init();
	p = policy_load_buffer("t.yaml", text, strlen(text), ".", &e);

	for (size_t i = 0; i < e.n; i++)
		fprintf(stderr, "%s\n", e.msgs[i]);
	CHECK(p != NULL);
	policy_errors_free(&e);
	return p;
}

/* The JSON text of a value, compact and with sorted keys, for comparing. */
static bool json_is(const json_t *v, const char *want)
{
	char *got = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	bool same = got && !strcmp(got, want);

	if (!same)
		fprintf(stderr, "got  %s\nwant %s\n", got ? got : "(null)", want);
	free(got);
	return same;
}

static void test_diff_kinds(void)
{
	struct policy *a = load(doc_old), *b = load(doc_new);
	json_t *d;

	if (!a || !b)
		goto out;
	d = policy_diff_json(a, b);
	CHECK(d != NULL);
	CHECK(json_is(json_object_get(d, "nodes"),
		      "{\"added\":[\"nyc1\"],\"changed\":[{\"fields\":[\"links\",\"price_per_gb\"],"
		      "\"name\":\"fra1\"}],\"removed\":[\"ams1\"]}"));
	CHECK(json_is(json_object_get(d, "regions"),
		      "{\"added\":[],\"changed\":[{\"fields\":[\"prefixes\"],\"name\":\"us\"}],"
		      "\"removed\":[]}"));
	CHECK(json_is(json_object_get(d, "classes"),
		      "{\"added\":[\"bulk\"],\"changed\":[{\"fields\":[\"match\"],\"name\":\"voice\"},"
		      "{\"fields\":[\"match\"],\"name\":\"eu-web\"}],\"removed\":[]}"));
	CHECK(json_is(json_object_get(d, "rules"),
		      "{\"added\":[\"fresh\"],\"changed\":[{\"fields\":[\"position\"],\"name\":\"r3\"},"
		      "{\"fields\":[\"action\"],\"name\":\"r2\"}],\"removed\":[\"gone\"]}"));
	CHECK(json_is(json_object_get(d, "users"),
		      "{\"added\":[],\"changed\":[{\"fields\":[\"groups\"],\"name\":\"alice\"},"
		      "{\"fields\":[\"devices\"],\"name\":\"bob\"}],\"removed\":[]}"));
	CHECK(json_is(json_object_get(d, "pools"),
		      "{\"added\":[],\"changed\":[{\"fields\":[\"members\"],\"name\":\"default\"}],"
		      "\"removed\":[]}"));
	CHECK(json_is(json_object_get(d, "destinations"),
		      "{\"added\":[],\"changed\":[{\"fields\":[\"domains\"],\"name\":\"zoom\"},"
		      "{\"fields\":[\"prefixes\"],\"name\":\"dx\"}],\"removed\":[]}"));
	CHECK(json_is(json_object_get(d, "settings_changed"), "[\"probe.interval\",\"default\"]"));
	json_decref(d);
out:
	policy_unref(a);
	policy_unref(b);
}

static bool kind_empty(const json_t *d, const char *kind)
{
	return json_is(json_object_get(d, kind), "{\"added\":[],\"changed\":[],\"removed\":[]}");
}

static void test_diff_same_and_first(void)
{
	struct policy *a = load(doc_old), *a2 = load(doc_old);
	static const char *const kinds[] = { "nodes", "classes", "rules", "users", "pools",
					     "destinations", "regions" };
	json_t *d;

	if (!a || !a2)
		goto out;
	d = policy_diff_json(a, a2);
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		CHECK(kind_empty(d, kinds[i]));
	CHECK(json_is(json_object_get(d, "settings_changed"), "[]"));
	json_decref(d);
	d = policy_diff_json(NULL, a);
	CHECK(json_is(json_object_get(d, "nodes"),
		      "{\"added\":[\"acc1\",\"fra1\",\"ams1\"],\"changed\":[],\"removed\":[]}"));
	CHECK(json_is(json_object_get(d, "destinations"),
		      "{\"added\":[\"zoom\",\"o365\",\"dx\"],\"changed\":[],\"removed\":[]}"));
	CHECK(json_is(json_object_get(d, "classes"),
		      "{\"added\":[\"voice\",\"eu-web\",\"default\"],\"changed\":[],\"removed\":[]}"));
	CHECK(json_is(json_object_get(d, "settings_changed"), "[]"));
	json_decref(d);
out:
	policy_unref(a);
	policy_unref(a2);
}

static json_t *plan(const struct policy *a, const struct policy *b, const char *sessions,
		    const char **err)
{
	json_t *s = json_loads(sessions, 0, NULL), *out;

	CHECK(s != NULL);
	out = policy_plan_sessions_json(a, b, s, err);
	json_decref(s);
	return out;
}

static void test_plan_sessions(void)
{
	struct policy *a = load(doc_old), *b = load(doc_new);
	const char *err = NULL, *egress;
	json_t *m;

	if (!a || !b)
		goto out;
	m = plan(a, b, "[{\"user\":\"carol\",\"dst\":\"10.200.0.1\",\"dport\":443,\"proto\":\"tcp\","
		 "\"dscp\":0,\"domain\":null},"
		 "{\"user\":\"alice\",\"dst\":\"192.0.2.9\",\"dport\":3478,\"proto\":\"udp\","
		 "\"domain\":\"eu.zoom.us\"},"
		 "{\"user\":\"nobody\",\"dst\":\"2001:db8::1\",\"proto\":\"icmp\",\"src\":\"fd00::1\"},"
		 "{\"user\":\"carol\",\"dst\":\"192.0.2.77\",\"dport\":873}]", &err);
	CHECK(m != NULL && err == NULL && json_array_size(m) == 4);
	/* carol: eu-web (10/8) under r2 via fra1 (ams1 and fra1 nominally
	 * equal, either may win) -> default class (10/9 no longer holds it),
	 * denied by r2 */
	CHECK(json_is(json_object_get(json_array_get(m, 0), "after"),
		      "{\"action\":\"deny\",\"class\":\"default\",\"egress\":null,\"rule\":\"r2\"}"));
	CHECK(!strcmp(json_string_value(json_object_get(json_object_get(
		json_array_get(m, 0), "before"), "class")), "eu-web"));
	CHECK(json_is_true(json_object_get(json_array_get(m, 0), "changed")));
	/* alice's voice call: r2 allowed it, r3 now comes first and denies */
	CHECK(!strcmp(json_string_value(json_object_get(json_object_get(
		json_array_get(m, 1), "before"), "rule")), "r2"));
	CHECK(json_is(json_object_get(json_array_get(m, 1), "after"),
		      "{\"action\":\"deny\",\"class\":\"voice\",\"egress\":null,\"rule\":\"r3\"}"));
	CHECK(json_is_true(json_object_get(json_array_get(m, 1), "changed")));
	/* an unknown user: the default, allow -> deny */
	CHECK(json_is(json_object_get(json_array_get(m, 2), "after"),
		      "{\"action\":\"deny\",\"class\":\"default\",\"egress\":null,\"rule\":null}"));
	CHECK(json_object_get(json_object_get(json_array_get(m, 2), "session"), "src") != NULL);
	/* carol's rsync: the new class bulk, still denied by r2 */
	CHECK(json_is(json_object_get(json_array_get(m, 3), "after"),
		      "{\"action\":\"deny\",\"class\":\"bulk\",\"egress\":null,\"rule\":\"r2\"}"));
	json_decref(m);
	/* first version: before is null */
	m = plan(NULL, a, "[{\"user\":\"alice\",\"dst\":\"10.0.0.1\",\"dport\":443}]", &err);
	CHECK(json_is(json_object_get(json_array_get(m, 0), "before"), "null"));
	egress = json_string_value(json_object_get(json_object_get(json_array_get(m, 0), "after"),
						   "egress"));
	CHECK(egress && (!strcmp(egress, "fra1") || !strcmp(egress, "ams1")));
	json_decref(m);
out:
	policy_unref(a);
	policy_unref(b);
}

/* The egress under nominal metrics follows price for a cost class. */
static void test_plan_egress_cost(void)
{
	static const char doc[] =
		"version: 1\n"
		"regions: {eu: {}}\n"
		"nodes:\n"
		"  a: {region: eu, roles: [egress], key: " K1 ", price_per_gb: 0.05}\n"
		"  b: {region: eu, roles: [egress], key: " K2 ", price_per_gb: 0.01}\n"
		"  c: {region: eu, roles: [access], key: " K3 "}\n"
		"pools: {default: {a: [198.51.100.1/32], b: [198.51.100.2/32]}}\n"
		"classes: [{name: bulk, match: {protocol: tcp}, objective: cost}]\n";
	struct policy *p = load(doc);
	const char *err;
	json_t *m;

	if (!p)
		return;
	m = plan(p, p, "[{\"user\":\"x\",\"dst\":\"192.0.2.1\",\"dport\":22}]", &err);
	CHECK(json_is(json_object_get(json_array_get(m, 0), "after"),
		      "{\"action\":\"allow\",\"class\":\"bulk\",\"egress\":\"b\",\"rule\":null}"));
	CHECK(json_is_false(json_object_get(json_array_get(m, 0), "changed")));
	json_decref(m);
	policy_unref(p);
}

static void bad_session(const struct policy *p, const char *sessions, const char *want)
{
	const char *err = NULL;
	json_t *m = plan(p, p, sessions, &err);

	CHECK(m == NULL && err != NULL);
	if (err && !strstr(err, want)) {
		fprintf(stderr, "err '%s', want '%s'\n", err, want);
		CHECK(!"error message");
	}
	json_decref(m);
}

static void test_plan_malformed(void)
{
	struct policy *p = load(doc_old);

	if (!p)
		return;
	bad_session(p, "{}", "not an array");
	bad_session(p, "[1]", "sessions[0]: not an object");
	bad_session(p, "[{\"dst\":\"10.0.0.1\"}]", "sessions[0].user");
	bad_session(p, "[{\"user\":\"a\",\"dst\":\"10.0.0.1\"},{\"user\":\"a\"}]", "sessions[1].dst");
	bad_session(p, "[{\"user\":\"a\",\"dst\":\"10.0.0.300\"}]", "sessions[0].dst");
	bad_session(p, "[{\"user\":\"a\",\"dst\":\"10.0.0.1\",\"dport\":65536}]", "sessions[0].dport");
	bad_session(p, "[{\"user\":\"a\",\"dst\":\"10.0.0.1\",\"dport\":\"80\"}]", "sessions[0].dport");
	bad_session(p, "[{\"user\":\"a\",\"dst\":\"10.0.0.1\",\"proto\":\"sctp\"}]", "sessions[0].proto");
	bad_session(p, "[{\"user\":\"a\",\"dst\":\"10.0.0.1\",\"proto\":256}]", "sessions[0].proto");
	bad_session(p, "[{\"user\":\"a\",\"dst\":\"10.0.0.1\",\"dscp\":64}]", "sessions[0].dscp");
	bad_session(p, "[{\"user\":\"a\",\"dst\":\"10.0.0.1\",\"domain\":5}]", "sessions[0].domain");
	bad_session(p, "[{\"user\":\"a\",\"dst\":\"10.0.0.1\",\"src\":\"fd00::1\"}]", "sessions[0].src");
	policy_unref(p);
}

/* ---- rule order against a naive reference ---- */

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

/* n minus the longest increasing subsequence, O(n^2). */
static size_t naive_moved(const unsigned *perm, size_t n)
{
	size_t best = 0, len[16];

	for (size_t i = 0; i < n; i++) {
		len[i] = 1;
		for (size_t j = 0; j < i; j++)
			if (perm[j] < perm[i] && len[j] + 1 > len[i])
				len[i] = len[j] + 1;
		if (len[i] > best)
			best = len[i];
	}
	return n - best;
}

static struct policy *rules_doc(const unsigned *order, size_t n)
{
	char doc[2048];
	size_t used = (size_t)snprintf(doc, sizeof(doc), "version: 1\nrules:\n");

	for (size_t i = 0; i < n; i++)
		used += (size_t)snprintf(doc + used, sizeof(doc) - used,
					 "  - {name: r%u, action: allow, destinations: []}\n", order[i]);
	return load(doc);
}

static void test_rule_order_random(void)
{
	for (int round = 0; round < 200; round++) {
		unsigned id[12], perm[12];
		size_t n = 1 + rnd(12), moved = 0;
		struct policy *a, *b;
		json_t *d, *changed;

		for (size_t i = 0; i < n; i++)
			id[i] = perm[i] = (unsigned)i;
		for (size_t i = n; i-- > 1;) {
			size_t j = rnd((uint32_t)i + 1);
			unsigned t = perm[i];

			perm[i] = perm[j];
			perm[j] = t;
		}
		a = rules_doc(id, n);
		b = rules_doc(perm, n);
		d = a && b ? policy_diff_json(a, b) : NULL;
		changed = json_object_get(json_object_get(d, "rules"), "changed");
		for (size_t i = 0; i < json_array_size(changed); i++)
			moved += json_is(json_object_get(json_array_get(changed, i), "fields"),
					 "[\"position\"]");
		CHECK(d && moved == json_array_size(changed) && moved == naive_moved(perm, n));
		json_decref(d);
		policy_unref(a);
		policy_unref(b);
	}
}

TEST_MAIN("policy_diff",
	  TEST(test_diff_kinds),
	  TEST(test_diff_same_and_first),
	  TEST(test_plan_sessions),
	  TEST(test_plan_egress_cost),
	  TEST(test_plan_malformed),
	  TEST(test_rule_order_random))
