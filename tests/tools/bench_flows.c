/* bench_flows: the flow table at a million sessions. Inserts 1,000,000
 * TCP flows, walks each through the handshake to established, then times
 * random established-flow lookups (either direction, all hits, one core)
 * and prints memory per flow. Keys are computed from the flow number in
 * registers, as a packet's headers would be in cache, so the figure is
 * the table's own cost.
 *
 * Usage: bench_flows [flows] [lookups] */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dataplane/flow_table.h"

static double seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	v = htonl(v);
	memcpy(p, &v, 4);
}

static void make_key(struct flow_tuple *t, uint32_t i, int dir)
{
	uint32_t client = 0x0a000000u + i, server = 0xcb007100u + (i & 127);
	uint16_t sport = (uint16_t)(1024 + (i & 0x7fff)), dport = 443;

	memset(t, 0, sizeof(*t));
	t->family = AF_INET;
	t->protocol = IPPROTO_TCP;
	put_be32(t->src, dir ? server : client);
	put_be32(t->dst, dir ? client : server);
	t->sport = dir ? dport : sport;
	t->dport = dir ? sport : dport;
}

static uint64_t rng = 0x853c49e6748fea9bULL;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 11);
}

static size_t rss_bytes(void)
{
	unsigned long size = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f) {
		if (fscanf(f, "%lu %lu", &size, &resident) != 2)
			resident = 0;
		fclose(f);
	}
	return resident * 4096;
}

static int fill(struct flow_table *ft, uint32_t n)
{
	struct flow_tuple t;

	for (uint32_t i = 0; i < n; i++) {
		struct flow *f;

		make_key(&t, i, 0);
		f = flow_table_insert(ft, &t, NULL, 1);
		if (!f)
			return -1;
		flow_table_touch(ft, f, FLOW_DIR_ORIG, 60, 0x02, 1);
		flow_table_touch(ft, f, FLOW_DIR_REPLY, 60, 0x12, 2);
		flow_table_touch(ft, f, FLOW_DIR_ORIG, 52, 0x10, 3);
	}
	return 0;
}

int main(int argc, char **argv)
{
	uint32_t n = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 0) : 1000000;
	uint64_t lookups = argc > 2 ? strtoull(argv[2], NULL, 0) : 20000000;
	struct flow_timeouts tmo = { SECONDS(30), SECONDS(7200), SECONDS(60),
				     SECONDS(120), SECONDS(30), SECONDS(600) };
	size_t rss0 = rss_bytes(), found = 0;
	struct flow_table *ft = flow_table_create(n, &tmo);
	double t0, t1, t2;

	if (!ft || n == 0)
		return 1;
	t0 = seconds();
	if (fill(ft, n) < 0)
		return 1;
	t1 = seconds();
	for (uint64_t k = 0; k < lookups; k++) {
		uint32_t r = rnd();
		struct flow_tuple t;
		enum flow_dir dir;
		struct flow *f;

		make_key(&t, r % n, (int)(r >> 20 & 1));
		f = flow_table_lookup(ft, &t, &dir);
		found += f && f->tcp_state == FLOW_TCP_ESTABLISHED;
	}
	t2 = seconds();
	printf("flows %u, inserts (with 3 touches) %.2f M/s\n", n, n / (t1 - t0) / 1e6);
	printf("lookups %llu, hits %zu, %.2f M lookups/s (%.1f ns each)\n",
	       (unsigned long long)lookups, found, (double)lookups / (t2 - t1) / 1e6,
	       (t2 - t1) * 1e9 / (double)lookups);
	printf("memory %.1f MB total, %.1f bytes per flow (struct flow %zu), RSS growth %.1f MB\n",
	       flow_table_memory(ft) / 1e6, (double)flow_table_memory(ft) / n,
	       sizeof(struct flow), (double)(rss_bytes() - rss0) / 1e6);
	flow_table_destroy(ft);
	return found == lookups ? 0 : 1;
}
