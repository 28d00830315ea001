/* test_flow_summary: the telemetry's "egress_summary" (where a node's
 * sessions egress) on a node built in memory with a real policy: random
 * flows of every kind against a naive count, names of nodes and classes
 * the policy no longer has, the bound on rows, the cost of one walk over
 * 60,000 flows, and a 200,000-flow table counted in pieces (nothing said
 * before the first pass ends; flows removed between passes). */
#include "test.h"

#include <time.h>

#include "crypto/crypto.h"
#include "node/report.h"

static unsigned long long rng_state = 0x2545f4914f6cdd1dULL;

static uint32_t rnd(void)
{
	rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
	return (uint32_t)(rng_state >> 33);
}

#define KEY_ACC  "TOAYmQD0Iyq+PTa0+PqjNNik0t0K67HIEuEW7aqdBIE="
#define KEY_FRA1 "AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI="
#define KEY_AMS1 "AwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwM="

static const char policy_text[] =
	"version: 1\n"
	"overlay: [100.64.0.0/10]\n"
	"settings: {flows: {max: 262144}}\n"
	"regions: {eu: {countries: [DE]}}\n"
	"nodes:\n"
	"  acc: {region: eu, roles: [access, egress], key: \"" KEY_ACC "\", links: [{name: internet}]}\n"
	"  fra1: {region: eu, roles: [egress], key: \"" KEY_FRA1 "\",\n"
	"         links: [{name: internet, endpoint: \"198.18.0.2:51820\"}]}\n"
	"  ams1: {region: eu, roles: [egress], key: \"" KEY_AMS1 "\",\n"
	"         links: [{name: internet, endpoint: \"198.18.0.3:51820\"}]}\n"
	"pools: {default: {fra1: [198.51.100.0/28], ams1: [198.51.100.32/28],\n"
	"        acc: [198.51.100.16/28]}}\n"
	"classes:\n"
	"  - {name: web, match: {protocol: tcp, ports: [443]}, objective: latency}\n"
	"  - {name: voice, match: {protocol: udp, ports: [5060]}, objective: latency}\n"
	"default: allow\n";

struct fixture {
	struct wg_device dev;
	struct node node;
	bool ok;
};

static void fixture_init(struct fixture *fx)
{
	struct policy_errors errs = { 0 };
	struct policy *p;
	const char *why;

	crypto_init();
	fx->ok = false;
	CHECK(wg_device_init(&fx->dev, &wg_null_io, NULL) == 0);
	p = policy_load_buffer("t.yaml", policy_text, sizeof(policy_text) - 1, NULL, &errs);
	for (size_t i = 0; i < errs.n; i++)
		fprintf(stderr, "%s\n", errs.msgs[i]);
	policy_errors_free(&errs);
	CHECK(p != NULL);
	CHECK(node_init(&fx->node, &fx->dev, "acc", NULL) == 0);
	if (!p)
		return;
	CHECK(node_apply_policy(&fx->node, p, SECONDS(1), &why) == 0);
	policy_unref(p);
	fx->ok = fx->node.flows != NULL;
	CHECK(fx->ok);
}

static void fixture_destroy(struct fixture *fx)
{
	node_destroy(&fx->node);
	wg_device_destroy(&fx->dev);
}

static uint32_t class_id(const struct node *n, const char *name)
{
	for (size_t i = 0; i < n->policy->n_classes; i++)
		if (!strcmp(n->policy->classes[i].name, name))
			return n->policy->classes[i].id;
	return 0;
}

/* A flow with a unique tuple (from seq) and the given data. */
static struct flow *add_flow(struct node *n, uint32_t seq, uint16_t flags, uint32_t node_id,
			     uint32_t cls)
{
	struct flow_tuple t = { .family = AF_INET, .protocol = 6, .dport = 443 };
	struct flow *f;

	t.src[0] = 100;
	t.src[1] = 64;
	t.src[2] = (uint8_t)(seq >> 16);
	t.src[3] = (uint8_t)(seq >> 8);
	t.sport = (uint16_t)(1024 + (seq & 0xff));
	t.dst[0] = 203;
	t.dst[3] = 10;
	f = flow_table_insert(n->flows, &t, NULL, SECONDS(2));
	CHECK(f != NULL);
	if (f) {
		f->data.flags = flags;
		f->data.node_id = node_id;
		f->data.class_id = cls;
	}
	return f;
}

/* The row of (egress, class, denied, transit), or NULL. */
static json_t *row_of(json_t *arr, const char *egress, const char *cls, bool denied,
		      bool transit)
{
	size_t i;
	json_t *r;

	json_array_foreach(arr, i, r) {
		const char *e = json_string_value(json_object_get(r, "egress"));
		const char *c = json_string_value(json_object_get(r, "class"));

		if ((egress ? e && !strcmp(e, egress) : !e) && (cls ? c && !strcmp(c, cls) : !c) &&
		    json_is_true(json_object_get(r, "denied")) == denied &&
		    json_is_true(json_object_get(r, "transit")) == transit)
			return r;
	}
	return NULL;
}

static json_int_t flows_of(json_t *arr, const char *egress, const char *cls, bool denied,
			   bool transit)
{
	json_t *r = row_of(arr, egress, cls, denied, transit);

	return r ? json_integer_value(json_object_get(r, "flows")) : 0;
}

/* Random flows of every kind, counted naively, against the summary. */
static void test_random_against_naive(void)
{
	static const char *const classes[] = { "web", "voice", "default" };
	static const char *const egresses[] = { "fra1", "ams1" };
	/* naive[class][kind]: kind 0 fra1, 1 ams1, 2 local, 3 transit, 4 denied */
	json_int_t naive[3][5] = { { 0 } };
	struct fixture fx;
	json_t *arr;
	size_t i, rows = 0;
	json_t *r;

	fixture_init(&fx);
	if (!fx.ok)
		return;
	for (uint32_t seq = 0; seq < 5000; seq++) {
		unsigned c = rnd() % 3, k = rnd() % 5;
		static const uint16_t flags[5] = { 0, 0, FLOW_F_LOCAL, FLOW_F_TRANSIT,
						   FLOW_F_DENIED };
		/* Non-access flows keep whatever node_id: it must not matter. */
		uint32_t node_id = k < 2 ? policy_name_id(egresses[k]) : rnd();

		if (add_flow(&fx.node, seq, flags[k] | (rnd() % 2 ? FLOW_F_SNI_DONE : 0), node_id,
			     class_id(&fx.node, classes[c])))
			naive[c][k]++;
	}
	arr = node_report_flow_summary(&fx.node);
	CHECK(json_is_array(arr));
	for (unsigned c = 0; c < 3; c++) {
		CHECK(flows_of(arr, "fra1", classes[c], false, false) == naive[c][0]);
		CHECK(flows_of(arr, "ams1", classes[c], false, false) == naive[c][1]);
		CHECK(flows_of(arr, "acc", classes[c], false, false) == naive[c][2]);
		CHECK(flows_of(arr, "acc", classes[c], false, true) == naive[c][3]);
		CHECK(flows_of(arr, NULL, classes[c], true, false) == naive[c][4]);
	}
	json_array_foreach(arr, i, r) {
		rows++;
		/* sorted: most flows first */
		if (i)
			CHECK(json_integer_value(json_object_get(r, "flows")) <=
			      json_integer_value(json_object_get(json_array_get(arr, i - 1),
								 "flows")));
	}
	CHECK(rows == 15);
	json_decref(arr);
	fixture_destroy(&fx);
}

static void test_known_rows(void)
{
	struct fixture fx;
	json_t *arr;
	char *text;

	fixture_init(&fx);
	if (!fx.ok)
		return;
	arr = node_report_flow_summary(&fx.node);
	CHECK(json_array_size(arr) == 0);
	json_decref(arr);
	for (uint32_t i = 0; i < 3; i++)
		add_flow(&fx.node, i, 0, policy_name_id("fra1"), class_id(&fx.node, "web"));
	add_flow(&fx.node, 3, FLOW_F_DENIED, 0, class_id(&fx.node, "voice"));
	arr = node_report_flow_summary(&fx.node);
	text = json_dumps(arr, JSON_COMPACT | JSON_PRESERVE_ORDER);
	CHECK(text && !strcmp(text,
		"[{\"egress\":\"fra1\",\"class\":\"web\",\"flows\":3,\"denied\":false,\"transit\":false},"
		"{\"egress\":null,\"class\":\"voice\",\"flows\":1,\"denied\":true,\"transit\":false}]"));
	free(text);
	json_decref(arr);
	fixture_destroy(&fx);
}

/* Flows pinned to a node or class the policy no longer has: one row
 * each, whatever ids they hold; more distinct keys than rows: the rest
 * in one "other" row, and no flow lost. */
static void test_unknown_and_bound(void)
{
	struct fixture fx;
	json_int_t total = 0;
	json_t *arr, *r;
	size_t i;

	fixture_init(&fx);
	if (!fx.ok)
		return;
	for (uint32_t seq = 0; seq < 1000; seq++)
		add_flow(&fx.node, seq, 0, 0x7000 + seq % 300, 0x9000 + seq % 7);
	arr = node_report_flow_summary(&fx.node);
	CHECK(json_array_size(arr) == 2);
	CHECK(flows_of(arr, "?", NULL, false, false) + flows_of(arr, NULL, NULL, false, false) ==
	      1000);
	CHECK(flows_of(arr, NULL, NULL, false, false) > 0);	/* "other" */
	json_array_foreach(arr, i, r)
		total += json_integer_value(json_object_get(r, "flows"));
	CHECK(total == 1000);
	json_decref(arr);
	fixture_destroy(&fx);
}

static uint64_t rows_total(const json_t *arr)
{
	const json_t *r;
	uint64_t total = 0;
	size_t i;

	json_array_foreach(arr, i, r)
		total += (uint64_t)json_integer_value(json_object_get(r, "flows"));
	return total;
}

static double ms_since(const struct timespec *a)
{
	struct timespec b;

	clock_gettime(CLOCK_MONOTONIC, &b);
	return (double)(b.tv_sec - a->tv_sec) * 1e3 + (double)(b.tv_nsec - a->tv_nsec) / 1e6;
}

/* The pass in pieces: runs one whole pass over 200,000 slots (4 pieces of
 * 65,536) and returns the longest piece in ms. */
static double one_pass(struct node *n)
{
	double worst = 0;

	for (int k = 0; k < 4; k++) {
		struct timespec a;
		double ms;

		clock_gettime(CLOCK_MONOTONIC, &a);
		node_flow_summary_step(n);
		ms = ms_since(&a);
		worst = ms > worst ? ms : worst;
	}
	return worst;
}

static bool collect(void *ctx, struct flow *f)
{
	struct flow ***at = ctx;

	*(*at)++ = f;
	return true;
}

/* 200,000 flows: more than one walk may take on the data path, so
 * telemetry says nothing until a pass in pieces is done, then what it
 * counted; a quarter of the flows gone, the next pass counts the rest. */
static void test_big_table_in_pieces(void)
{
	static struct flow *all[200000];
	struct flow **at = all;
	struct fixture fx;
	json_t *arr;
	double worst;

	fixture_init(&fx);
	if (!fx.ok)
		return;
	for (uint32_t seq = 0; seq < 200000; seq++)
		add_flow(&fx.node, seq, rnd() % 4 ? 0 : FLOW_F_LOCAL,
			 policy_name_id(rnd() % 2 ? "fra1" : "ams1"), class_id(&fx.node, "web"));
	CHECK(flow_table_count(fx.node.flows) == 200000);
	arr = node_report_flow_summary(&fx.node);
	CHECK(json_array_size(arr) == 0);
	json_decref(arr);

	worst = one_pass(&fx.node);
	printf("flow_summary: 200000 flows in pieces of 65536 slots, longest piece %.2f ms\n",
	       worst);
	arr = node_report_flow_summary(&fx.node);
	CHECK(json_array_size(arr) == 3 && rows_total(arr) == 200000);
	json_decref(arr);

	flow_table_walk(fx.node.flows, collect, &at);
	CHECK(at - all == 200000);
	for (size_t i = 0; i < 200000; i += 4)
		flow_table_remove(fx.node.flows, all[i]);
	one_pass(&fx.node);
	arr = node_report_flow_summary(&fx.node);
	CHECK(rows_total(arr) == 150000);
	CHECK(flows_of(arr, "fra1", "web", false, false) + flows_of(arr, "ams1", "web", false, false) +
	      flows_of(arr, "acc", "web", false, false) == 150000);
	json_decref(arr);
	fixture_destroy(&fx);
}

/* One walk over 60,000 flows (under the limit): the cost telemetry adds. */
static void test_cost(void)
{
	struct fixture fx;
	struct timespec a;
	json_t *arr;

	fixture_init(&fx);
	if (!fx.ok)
		return;
	for (uint32_t seq = 0; seq < 60000; seq++)
		add_flow(&fx.node, seq, rnd() % 4 ? 0 : FLOW_F_LOCAL,
			 policy_name_id(rnd() % 2 ? "fra1" : "ams1"), class_id(&fx.node, "web"));
	clock_gettime(CLOCK_MONOTONIC, &a);
	arr = node_report_flow_summary(&fx.node);
	printf("flow_summary: 60000 flows in one walk: %.2f ms\n", ms_since(&a));
	CHECK(json_array_size(arr) == 3 && rows_total(arr) == 60000);
	json_decref(arr);
	fixture_destroy(&fx);
}

TEST_MAIN("flow_summary",
	  TEST(test_known_rows), TEST(test_random_against_naive),
	  TEST(test_unknown_and_bound), TEST(test_cost), TEST(test_big_table_in_pieces))
