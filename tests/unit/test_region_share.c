/* region_share: the controller's egress -> region figures reach selection.
 * An access node with two egresses, equal paths, and a destination in
 * "us": the shared figures decide (nyc1 is 5 ms from us, fra1 90 ms);
 * an egress's own probe reply wins over the controller's copy; entries
 * naming unknown nodes or regions, this node, or bad numbers are skipped;
 * a reload keeps them (they are keyed by names). */
#include "test.h"

#include <math.h>

#include "crypto/crypto.h"
#include "node/node.h"

#define KEY_ACC  "TOAYmQD0Iyq+PTa0+PqjNNik0t0K67HIEuEW7aqdBIE="
#define KEY_FRA1 "AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI="
#define KEY_NYC1 "AwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwM="
#define KEY_CLI  "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE="

static const char policy_text[] =
	"version: 1\n"
	"overlay: [100.64.0.0/10]\n"
	"settings: {flows: {max: 64}, selection: {spread: 0}}\n"
	"regions:\n"
	"  eu: {countries: [DE], prefixes: [203.0.113.0/25]}\n"
	"  us: {countries: [US], prefixes: [203.0.113.128/25]}\n"
	"nodes:\n"
	"  acc: {region: eu, roles: [access], key: \"" KEY_ACC "\", links: [{name: internet}]}\n"
	"  fra1: {region: eu, roles: [egress], key: \"" KEY_FRA1 "\",\n"
	"         links: [{name: internet, endpoint: \"198.18.0.2:51820\"}]}\n"
	"  nyc1: {region: us, roles: [egress], key: \"" KEY_NYC1 "\",\n"
	"         links: [{name: internet, endpoint: \"198.18.0.3:51820\"}]}\n"
	"pools: {default: {fra1: [198.51.100.0/28], nyc1: [198.51.100.16/28]}}\n"
	"users: {alice: {devices: [{name: laptop, key: \"" KEY_CLI "\",\n"
	"        addresses: [100.64.1.2/32]}]}}\n"
	"default: allow\n";

static const char shared_text[] =
	"[{\"node\":\"fra1\",\"region\":\"us\",\"rtt_ms\":90,\"loss_pct\":0},"
	" {\"node\":\"nyc1\",\"region\":\"us\",\"rtt_ms\":5,\"loss_pct\":0.5},"
	" {\"node\":\"nyc1\",\"region\":\"eu\",\"rtt_ms\":85,\"loss_pct\":0},"
	" {\"node\":\"acc\",\"region\":\"us\",\"rtt_ms\":1,\"loss_pct\":0},"
	" {\"node\":\"lon9\",\"region\":\"us\",\"rtt_ms\":1,\"loss_pct\":0},"
	" {\"node\":\"fra1\",\"region\":\"mars\",\"rtt_ms\":1,\"loss_pct\":0},"
	" {\"node\":\"fra1\",\"region\":\"eu\",\"rtt_ms\":-3,\"loss_pct\":0},"
	" {\"node\":\"fra1\",\"region\":\"eu\",\"rtt_ms\":\"7\",\"loss_pct\":0},"
	" 17, null]";

struct bed {
	struct wg_device dev;
	struct node node;
	monotime_ns now;
};

static struct policy *load(void)
{
	struct policy_errors errs = { 0 };
	struct policy *p = policy_load_buffer("t.yaml", policy_text, sizeof(policy_text) - 1,
					      NULL, &errs);

	for (size_t i = 0; i < errs.n; i++)
		fprintf(stderr, "%s\n", errs.msgs[i]);
	policy_errors_free(&errs);
	return p;
}

/* Every path up at 20 ms: only the region term tells the egresses apart. */
static void paths_up(struct bed *b)
{
	for (size_t k = 0; k < b->node.n_peers; k++) {
		struct node_peer *np = &b->node.peers[k];

		for (size_t j = 0; j < np->n_paths; j++) {
			monotime_ns t = b->now;

			for (int i = 0; i < 4; i++) {
				uint32_t seq = path_monitor_probe_sent(&np->paths[j].mon, t);

				t += MSECONDS(20);
				CHECK(path_monitor_reply(&np->paths[j].mon, seq, t));
				path_monitor_tick(&np->paths[j].mon, t);
			}
		}
	}
	b->now += MSECONDS(100);
}

static bool bed_up(struct bed *b)
{
	struct policy *p = load();
	const char *why = NULL;

	b->now = SECONDS(1000);
	crypto_init();
	CHECK(p != NULL);
	if (!p || wg_device_init(&b->dev, &wg_null_io, NULL) != 0)
		return false;
	CHECK(node_init(&b->node, &b->dev, "acc", NULL) == 0);
	CHECK(node_apply_policy(&b->node, p, b->now, &why) == 0);
	policy_unref(p);
	paths_up(b);
	return b->node.policy != NULL;
}

static void bed_down(struct bed *b)
{
	node_destroy(&b->node);
	wg_device_destroy(&b->dev);
}

/* alice to 203.0.113.200 (region us), tcp 443. */
static void decide_us(struct bed *b, struct node_session_decision *d)
{
	struct policy_session s = { .device = 0, .user = POLICY_NONE,
				    .protocol = 6, .sport = 40000, .dport = 443 };

	CHECK(ip_addr_parse("100.64.1.2", &s.src));
	CHECK(ip_addr_parse("203.0.113.200", &s.dst));
	node_decide(&b->node, &s, b->now, false, d);
}

static const struct route_candidate *candidate(const struct bed *b,
					       const struct node_session_decision *d,
					       const char *name)
{
	for (size_t i = 0; i < d->route.n_candidates; i++)
		if (!strcmp(b->node.policy->nodes[d->route.candidates[i].node].name, name))
			return &d->route.candidates[i];
	return NULL;
}

static const char *chosen(struct bed *b, const struct node_session_decision *d)
{
	return d->route.found ? b->node.policy->nodes[d->route.node].name : "(none)";
}

static void test_shared_figures_decide(void)
{
	struct node_session_decision d;
	const struct route_candidate *c;
	json_t *m = json_loads(shared_text, 0, NULL);
	struct bed b;

	CHECK(m != NULL);
	if (!m || !bed_up(&b))
		return;
	decide_us(&b, &d);
	CHECK(d.route.found);
	c = candidate(&b, &d, "nyc1");
	CHECK(c && c->region_rtt_ms < 0 && c->region_source == ROUTE_REGION_UNKNOWN);

	CHECK(node_set_shared_regions(&b.node, m, b.now) == 3);
	decide_us(&b, &d);
	CHECK(!strcmp(chosen(&b, &d), "nyc1"));
	c = candidate(&b, &d, "nyc1");
	CHECK(c && fabs(c->region_rtt_ms - 5) < 1e-9);
	CHECK(c && c->region_source == ROUTE_REGION_CONTROLLER);
	c = candidate(&b, &d, "fra1");
	CHECK(c && fabs(c->region_rtt_ms - 90) < 1e-9 && c->reason == ROUTE_HIGHER_SCORE);

	/* nyc1's own probe reply says 200 ms: it beats the controller's copy. */
	{
		struct node_peer *np = node_peer_by_id(&b.node, policy_name_id("nyc1"));

		CHECK(np != NULL);
		if (np) {
			np->regions[0] = (struct fabric_region_metric){
				.region_id = policy_name_id("us"), .rtt_us = 200000 };
			np->n_regions = 1;
		}
	}
	decide_us(&b, &d);
	CHECK(!strcmp(chosen(&b, &d), "fra1"));
	c = candidate(&b, &d, "nyc1");
	CHECK(c && fabs(c->region_rtt_ms - 200) < 1e-9 && c->region_source == ROUTE_REGION_PROBE);
	json_decref(m);
	bed_down(&b);
}

/* An empty or absent list clears what was shared; a reload keeps it;
 * figures not renewed for NODE_SHARED_REGIONS_TTL are dropped. */
static void test_replace_and_reload(void)
{
	struct node_session_decision d;
	json_t *m = json_loads(shared_text, 0, NULL), *empty = json_array();
	struct policy *p;
	const char *why;
	struct bed b;

	if (!m || !bed_up(&b))
		return;
	CHECK(node_set_shared_regions(&b.node, m, b.now) == 3);
	p = load();
	CHECK(p && node_apply_policy(&b.node, p, b.now, &why) == 0);
	policy_unref(p);
	decide_us(&b, &d);
	CHECK(!strcmp(chosen(&b, &d), "nyc1"));
	node_tick(&b.node, b.now + NODE_SHARED_REGIONS_TTL - SECONDS(1));
	decide_us(&b, &d);
	CHECK(candidate(&b, &d, "nyc1") && candidate(&b, &d, "nyc1")->region_source ==
	      ROUTE_REGION_CONTROLLER);
	node_tick(&b.node, b.now + NODE_SHARED_REGIONS_TTL + SECONDS(1));
	decide_us(&b, &d);
	CHECK(candidate(&b, &d, "nyc1") && candidate(&b, &d, "nyc1")->region_rtt_ms < 0);
	CHECK(node_set_shared_regions(&b.node, m, b.now) == 3);
	CHECK(node_set_shared_regions(&b.node, empty, b.now) == 0);
	CHECK(node_set_shared_regions(&b.node, NULL, b.now) == 0);
	decide_us(&b, &d);
	CHECK(candidate(&b, &d, "nyc1") && candidate(&b, &d, "nyc1")->region_rtt_ms < 0);
	json_decref(m);
	json_decref(empty);
	bed_down(&b);
}

TEST_MAIN("region_share", TEST(test_shared_figures_decide), TEST(test_replace_and_reload))
