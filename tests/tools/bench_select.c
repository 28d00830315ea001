/* bench_select: route_select decisions per second on one core, with 3, 20
 * and 64 egress candidates of 2 paths each, latency and balanced
 * objectives, the stability table on and committing (the data path's
 * call), users varying, metrics fixed. Half the candidates sit within the
 * spread of the best so rendezvous hashing runs too. The figures are in
 * docs/routing.md.
 * Usage: bench_select [seconds per run, default 1] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/monotime.h"
#include "routing/select.h"

#define MAX_NODES 64

static struct policy_node nodes[MAX_NODES];
static struct policy_region region = { .name = "eu", .id = 1 };
static struct route_path_view paths[MAX_NODES][2];
static struct route_node_view views[MAX_NODES];
static struct route_decision dec;

static void build(size_t n, struct policy *p)
{
	memset(p, 0, sizeof(*p));
	for (size_t i = 0; i < n; i++) {
		snprintf(nodes[i].name, sizeof(nodes[i].name), "egress%zu", i);
		nodes[i].id = (uint32_t)(0x9e3779b9u * (i + 1));
		nodes[i].roles = POLICY_ROLE_EGRESS;
		nodes[i].price_per_gb = 0.01 * (double)(i % 7);
		for (int k = 0; k < 2; k++)
			paths[i][k] = (struct route_path_view){
				.index = (uint16_t)k,
				.state = k ? PATH_DEGRADED : PATH_UP,
				.metrics = { .srtt_ms = 20 + (double)(i % 2 ? i : 0) + 5 * k,
					     .jitter_ms = 1, .loss_pct = 0.5 },
			};
		views[i] = (struct route_node_view){
			.node = (uint32_t)i, .paths = paths[i], .n_paths = 2,
			.utilisation_pct = 30, .region_rtt_ms = 4,
		};
	}
	p->nodes = nodes;
	p->n_nodes = n;
	p->regions = &region;
	p->n_regions = 1;
	p->selection = (struct policy_selection_settings){
		.switch_margin_pct = 10, .switch_hold = SECONDS(2), .spread_pct = 5,
		.max_utilisation_pct = 90,
	};
}

static double run(size_t n, const char *objective, struct policy_weights w, double secs)
{
	struct route_stability *stab = route_stability_create(4096);
	struct policy_class cls = { .name = "bench", .id = 7, .weights = w, .pool = POLICY_NONE };
	struct policy p;
	monotime_ns start, end, now;
	uint64_t done = 0;

	build(n, &p);
	start = monotime_now();
	end = start + (monotime_ns)(secs * NSEC_PER_SEC);
	do {
		now = monotime_now();
		for (int i = 0; i < 1000; i++, done++)
			route_select(&p, &cls, 0, (uint32_t)done, views, n, stab, now, true, &dec);
	} while (monotime_now() < end);
	now = monotime_now() - start;
	route_stability_destroy(stab);
	printf("route_select %2zu nodes x 2 paths, %-8s: %9.0f decisions/s (%.2f us each)\n",
	       n, objective, (double)done * NSEC_PER_SEC / (double)now,
	       (double)now / (double)done / 1000);
	return (double)done;
}

int main(int argc, char **argv)
{
	const struct policy_weights latency = { 1, 1, 2, 0, 0.05 };
	const struct policy_weights balanced = { 1, 1, 2, 200, 0.2 };
	const size_t sizes[] = { 3, 20, 64 };
	double secs = argc > 1 ? atof(argv[1]) : 1;

	if (secs <= 0)
		secs = 1;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		run(sizes[i], "latency", latency, secs);
		run(sizes[i], "balanced", balanced, secs);
	}
	return dec.found ? 0 : 1;
}
