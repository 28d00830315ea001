/* nat: picks the translated source port (or ICMP echo id) for a session
 * leaving an egress node, so that the reply tuple is unique in the flow
 * table. The original port is kept when free (some protocols and
 * allow-lists care); otherwise ports are probed along a permutation of
 * the port range that starts and steps by a keyed hash of the session,
 * so successive probes scatter rather than pile into one run, and with
 * enough tries every port is visited once. The hash key is random per
 * process so that outsiders cannot predict which port a session gets.
 * Each probe is a flow_table_lookup, so probes show in its lookup count. */
#include "dataplane/nat.h"

#include <netinet/in.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define NAT_PORT_RANGE ((uint32_t)NAT_PORT_MAX - NAT_PORT_MIN + 1)

static uint8_t nat_hash_key[crypto_shorthash_KEYBYTES];
static pthread_once_t nat_key_once = PTHREAD_ONCE_INIT;

static void nat_key_init(void)
{
	if (sodium_init() < 0)
		abort();	/* no randomness source: nothing safe to do */
	randombytes_buf(nat_hash_key, sizeof(nat_hash_key));
}

static uint64_t nat_hash(const struct flow_tuple *orig, const struct ip_addr *pool)
{
	uint8_t in[sizeof(*orig) + sizeof(pool->a)], out[crypto_shorthash_BYTES];
	struct flow_tuple t;
	uint64_t h;

	pthread_once(&nat_key_once, nat_key_init);
	memset(&t, 0, sizeof(t));	/* padding too: the hash reads all bytes */
	t.zone = orig->zone;
	t.family = orig->family;
	t.protocol = orig->protocol;
	t.sport = orig->sport;
	t.dport = orig->dport;
	memcpy(t.src, orig->src, ip_addr_bytes(orig->family));
	memcpy(t.dst, orig->dst, ip_addr_bytes(orig->family));
	memcpy(in, &t, sizeof(t));
	memcpy(in + sizeof(t), pool->a, sizeof(pool->a));
	crypto_shorthash(out, in, sizeof(in), nat_hash_key);
	memcpy(&h, out, sizeof(h));
	return h;
}

static uint32_t nat_gcd(uint32_t a, uint32_t b)
{
	while (b) {
		uint32_t r = a % b;

		a = b;
		b = r;
	}
	return a;
}

/* A step coprime with the range, so start + i * step visits every port. */
static uint32_t nat_step(uint64_t h)
{
	uint32_t step = (uint32_t)(h % (NAT_PORT_RANGE - 1)) + 1;

	while (nat_gcd(step, NAT_PORT_RANGE) != 1)
		step++;
	return step;
}

static bool nat_has_ports(uint8_t protocol)
{
	return protocol == IPPROTO_TCP || protocol == IPPROTO_UDP ||
	       protocol == IPPROTO_ICMP || protocol == IPPROTO_ICMPV6;
}

static bool nat_is_icmp(uint8_t protocol)
{
	return protocol == IPPROTO_ICMP || protocol == IPPROTO_ICMPV6;
}

/* Fills in the translated port; true when the reply tuple is free. */
static bool nat_try(struct flow_table *ft, struct flow_tuple *reply, uint16_t port)
{
	enum flow_dir dir;

	if (nat_is_icmp(reply->protocol))
		reply->sport = port;	/* echo replies carry the same id */
	reply->dport = port;
	return flow_table_lookup(ft, reply, &dir) == NULL;
}

bool nat_reserve(struct flow_table *ft, const struct flow_tuple *orig,
		 const struct ip_addr *pool_addr, uint32_t reply_zone,
		 unsigned max_tries, struct flow_tuple *reply)
{
	enum flow_dir dir;
	uint32_t start, step;
	uint64_t h;

	if (pool_addr->family != orig->family)
		return false;
	flow_tuple_invert(orig, reply);
	reply->zone = reply_zone;
	memset(reply->dst, 0, sizeof(reply->dst));
	memcpy(reply->dst, pool_addr->a, ip_addr_bytes(pool_addr->family));
	if (!nat_has_ports(orig->protocol))
		return flow_table_lookup(ft, reply, &dir) == NULL;
	/* Echo ids have no privileged range; ports below it are not kept. */
	if ((orig->sport >= NAT_PORT_MIN || nat_is_icmp(orig->protocol)) &&
	    nat_try(ft, reply, orig->sport))
		return true;
	h = nat_hash(orig, pool_addr);
	start = (uint32_t)(h >> 32) % NAT_PORT_RANGE;
	step = nat_step(h);
	for (unsigned i = 0; i < max_tries && i < NAT_PORT_RANGE; i++) {
		uint32_t off = (uint32_t)((start + (uint64_t)i * step) % NAT_PORT_RANGE);

		if (nat_try(ft, reply, (uint16_t)(NAT_PORT_MIN + off)))
			return true;
	}
	return false;
}
