/* test_nat: thousands of sessions from many clients to one server through
 * one pool address get distinct reply tuples; a free source port is
 * kept; every port of the range can be handed out, and then no more. */
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "dataplane/nat.h"
#include "test.h"

static const struct flow_timeouts tmo = {
	SECONDS(30), SECONDS(7200), SECONDS(60), SECONDS(120), SECONDS(30), SECONDS(600)
};

static uint64_t rng_state = 0xdeadbeefcafef00dULL;

static uint32_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 16);
}

static struct ip_addr pool, server;

static void setup(void)
{
	ip_addr_parse("203.0.113.7", &pool);
	ip_addr_parse("198.51.100.1", &server);
}

static void client_tuple(struct flow_tuple *t, uint8_t proto, uint32_t client,
			 uint16_t sport, uint16_t dport)
{
	memset(t, 0, sizeof(*t));
	t->zone = 1;
	t->family = AF_INET;
	t->protocol = proto;
	t->src[0] = 100;
	t->src[1] = (uint8_t)(64 + (client >> 16));
	t->src[2] = (uint8_t)(client >> 8);
	t->src[3] = (uint8_t)client;
	memcpy(t->dst, server.a, 4);
	t->sport = sport;
	t->dport = dport;
}

static bool nat_open(struct flow_table *ft, const struct flow_tuple *o, unsigned tries,
		     struct flow_tuple *reply)
{
	if (!nat_reserve(ft, o, &pool, 0, tries, reply))
		return false;
	return flow_table_insert(ft, o, reply, 1) != NULL;
}

static void test_many_clients_unique(void)
{
	struct flow_table *ft = flow_table_create(8192, &tmo);
	static uint8_t used[65536];
	struct flow_tuple o, r;
	int kept = 0;

	setup();
	memset(used, 0, sizeof(used));
	for (uint32_t i = 0; i < 6000; i++) {
		/* clients pick from few ports, so they collide often */
		client_tuple(&o, i % 3 ? IPPROTO_TCP : IPPROTO_UDP, i % 600,
			     (uint16_t)(40000 + rnd() % 64), 443);
		if (flow_table_lookup(ft, &o, NULL))
			continue;	/* that client already has this session */
		CHECK(nat_open(ft, &o, 64, &r));
		CHECK(!memcmp(r.src, server.a, 4) && !memcmp(r.dst, pool.a, 4));
		CHECK(r.sport == 443 && r.zone == 0 && r.protocol == o.protocol);
		CHECK(r.dport >= NAT_PORT_MIN);
		kept += r.dport == o.sport;
		used[r.dport] += o.protocol == IPPROTO_TCP;
	}
	for (int p = 0; p < 65536; p++)
		CHECK(used[p] <= 1);
	CHECK(kept >= 64);	/* each port kept at least once per protocol */
	CHECK(flow_table_count(ft) > 3000);
	flow_table_destroy(ft);
}

static void test_port_preserved_and_low_ports(void)
{
	struct flow_table *ft = flow_table_create(64, &tmo);
	struct flow_tuple o, r;
	enum flow_dir dir;

	setup();
	client_tuple(&o, IPPROTO_UDP, 1, 51000, 53);
	CHECK(nat_open(ft, &o, 16, &r) && r.dport == 51000);
	CHECK(flow_table_lookup(ft, &r, &dir) != NULL && dir == FLOW_DIR_REPLY);
	client_tuple(&o, IPPROTO_UDP, 2, 51000, 53);	/* same port, other client */
	CHECK(nat_open(ft, &o, 16, &r) && r.dport != 51000 && r.dport >= NAT_PORT_MIN);
	client_tuple(&o, IPPROTO_UDP, 3, 123, 123);	/* privileged: moved up */
	CHECK(nat_open(ft, &o, 16, &r) && r.dport >= NAT_PORT_MIN);
	client_tuple(&o, IPPROTO_TCP, 1, 51000, 53);	/* other protocol: free */
	CHECK(nat_open(ft, &o, 16, &r) && r.dport == 51000);
	flow_table_destroy(ft);
}

static void test_icmp_echo_id(void)
{
	struct flow_table *ft = flow_table_create(64, &tmo);
	struct flow_tuple o, r;

	setup();
	client_tuple(&o, IPPROTO_ICMP, 1, 7, 7);
	CHECK(nat_open(ft, &o, 16, &r) && r.sport == 7 && r.dport == 7);
	client_tuple(&o, IPPROTO_ICMP, 2, 7, 7);
	CHECK(nat_open(ft, &o, 16, &r) && r.sport == r.dport && r.dport != 7);
	flow_table_destroy(ft);
}

static void test_other_protocol_and_family(void)
{
	struct flow_table *ft = flow_table_create(64, &tmo);
	struct flow_tuple o, r;
	struct ip_addr v6;

	setup();
	client_tuple(&o, 47, 1, 0, 0);	/* GRE: no ports, one session per pair */
	CHECK(nat_open(ft, &o, 16, &r) && r.dport == 0);
	client_tuple(&o, 47, 2, 0, 0);
	CHECK(!nat_reserve(ft, &o, &pool, 0, 16, &r));
	ip_addr_parse("2001:db8::1", &v6);
	CHECK(!nat_reserve(ft, &o, &v6, 0, 16, &r));
	flow_table_destroy(ft);
}

static void test_exhaustion(void)
{
	const uint32_t range = NAT_PORT_MAX - NAT_PORT_MIN + 1;
	struct flow_table *ft = flow_table_create(range + 16, &tmo);
	static uint8_t used[65536];
	struct flow_tuple o, r;
	bool all = true;

	setup();
	memset(used, 0, sizeof(used));
	for (uint32_t i = 0; i < range; i++) {
		client_tuple(&o, IPPROTO_UDP, i, 5000, 443);	/* every one collides */
		all &= nat_open(ft, &o, 65536, &r);
		used[r.dport]++;
	}
	CHECK(all);
	for (uint32_t p = NAT_PORT_MIN; p <= NAT_PORT_MAX; p++)
		CHECK(used[p] == 1);
	client_tuple(&o, IPPROTO_UDP, 70000, 5000, 443);
	CHECK(!nat_reserve(ft, &o, &pool, 0, 65536, &r));
	CHECK(!nat_reserve(ft, &o, &pool, 0, 8, &r));
	/* another server port is a fresh space */
	client_tuple(&o, IPPROTO_UDP, 70000, 5000, 444);
	CHECK(nat_reserve(ft, &o, &pool, 0, 8, &r) && r.dport == 5000);
	flow_table_destroy(ft);
}

TEST_MAIN("nat",
	  TEST(test_many_clients_unique),
	  TEST(test_port_preserved_and_low_ports),
	  TEST(test_icmp_echo_id),
	  TEST(test_other_protocol_and_family),
	  TEST(test_exhaustion))
