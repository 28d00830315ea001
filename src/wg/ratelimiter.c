/* ratelimiter: a token bucket per source for handshake messages under load.
 *
 * Tokens are nanoseconds of credit: a packet costs PACKET_COST and credit
 * accrues with elapsed time up to TOKEN_MAX, so the burst is part of the
 * bucket size rather than of the rate. IPv6 sources are limited per /64,
 * since one host can hold a whole /64. The chained hash table is keyed
 * with a random SipHash key so a sender cannot pick addresses that pile
 * into one chain. Entries idle for a second are collected; by then their
 * bucket would be full again, so dropping them changes nothing.
 *
 * All time comes from the caller's `now`. Not locked: the caller
 * serialises (one handshake worker, or its own lock). */
#include "wg/ratelimiter.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define PACKET_COST (NSEC_PER_SEC / RATELIMITER_PACKETS_PER_SECOND)
#define TOKEN_MAX (PACKET_COST * RATELIMITER_PACKETS_BURST)

#define RATELIMITER_GC_INTERVAL NSEC_PER_SEC
#define RATELIMITER_IDLE_MAX NSEC_PER_SEC

struct ratelimiter_entry {
	struct ratelimiter_entry *next;
	uint64_t ip;		/* IPv4 address, or IPv6 /64 prefix */
	uint8_t family;
	monotime_ns last_time;
	uint64_t tokens;
};

/* Room for max_entries at a load of about two per chain. */
static size_t ratelimiter_table_size(size_t max_entries)
{
	size_t n = 16;

	while (n < max_entries / 2 && n < ((size_t)1 << 24))
		n <<= 1;
	return n;
}

bool ratelimiter_init(struct ratelimiter *rl, size_t max_entries)
{
	memset(rl, 0, sizeof(*rl));
	if (max_entries == 0 || sodium_init() < 0)
		return false;
	rl->n_buckets = ratelimiter_table_size(max_entries);
	rl->buckets = calloc(rl->n_buckets, sizeof(*rl->buckets));
	if (!rl->buckets)
		return false;
	rl->max_entries = max_entries;
	randombytes_buf(rl->hash_key, sizeof(rl->hash_key));
	return true;
}

void ratelimiter_free(struct ratelimiter *rl)
{
	struct ratelimiter_entry *entry, *next;

	for (size_t i = 0; i < rl->n_buckets; i++) {
		for (entry = rl->buckets[i]; entry; entry = next) {
			next = entry->next;
			free(entry);
		}
	}
	free(rl->buckets);
	sodium_memzero(rl->hash_key, sizeof(rl->hash_key));
	memset(rl, 0, sizeof(*rl));
}

/* The source as limited: the IPv4 address or the IPv6 /64. */
static bool ratelimiter_source(int family, const uint8_t *addr, uint64_t *ip)
{
	uint32_t v4;

	*ip = 0;
	if (family == AF_INET) {
		memcpy(&v4, addr, sizeof(v4));
		*ip = v4;
		return true;
	}
	if (family == AF_INET6) {
		memcpy(ip, addr, sizeof(*ip));
		return true;
	}
	return false;
}

static struct ratelimiter_entry **ratelimiter_bucket(const struct ratelimiter *rl,
						     uint8_t family, uint64_t ip)
{
	uint8_t in[1 + sizeof(ip)], out[crypto_shorthash_BYTES];
	uint64_t h;

	_Static_assert(crypto_shorthash_KEYBYTES == sizeof(rl->hash_key),
		       "hash_key is a SipHash key");
	in[0] = family;
	memcpy(in + 1, &ip, sizeof(ip));
	crypto_shorthash(out, in, sizeof(in), rl->hash_key);
	memcpy(&h, out, sizeof(h));
	return &rl->buckets[h & (rl->n_buckets - 1)];
}

/* Credits the time since the last packet, then charges this one. */
static bool ratelimiter_take(struct ratelimiter_entry *entry, monotime_ns now)
{
	uint64_t elapsed = now > entry->last_time ? now - entry->last_time : 0;
	uint64_t tokens = entry->tokens + elapsed;
	bool ret;

	if (tokens > TOKEN_MAX || tokens < elapsed)
		tokens = TOKEN_MAX;
	entry->last_time = now;
	ret = tokens >= PACKET_COST;
	entry->tokens = ret ? tokens - PACKET_COST : tokens;
	return ret;
}

void ratelimiter_gc(struct ratelimiter *rl, monotime_ns now)
{
	struct ratelimiter_entry **link, *entry;

	for (size_t i = 0; i < rl->n_buckets; i++) {
		for (link = &rl->buckets[i]; (entry = *link);) {
			if (now > entry->last_time &&
			    now - entry->last_time >= RATELIMITER_IDLE_MAX) {
				*link = entry->next;
				free(entry);
				rl->n_entries--;
			} else {
				link = &entry->next;
			}
		}
	}
	rl->last_gc = now;
}

bool ratelimiter_allow(struct ratelimiter *rl, int family, const uint8_t *addr,
		       monotime_ns now)
{
	struct ratelimiter_entry **bucket, *entry;
	uint64_t ip;

	if (!ratelimiter_source(family, addr, &ip))
		return false;
	if (now - rl->last_gc >= RATELIMITER_GC_INTERVAL)
		ratelimiter_gc(rl, now);
	bucket = ratelimiter_bucket(rl, (uint8_t)family, ip);
	for (entry = *bucket; entry; entry = entry->next)
		if (entry->ip == ip && entry->family == family)
			return ratelimiter_take(entry, now);

	/* A new source; refusing when full keeps a flood of spoofed sources
	 * from growing the table without bound. */
	if (rl->n_entries >= rl->max_entries)
		return false;
	entry = malloc(sizeof(*entry));
	if (!entry)
		return false;
	*entry = (struct ratelimiter_entry){
		.next = *bucket, .ip = ip, .family = (uint8_t)family,
		.last_time = now, .tokens = TOKEN_MAX - PACKET_COST,
	};
	*bucket = entry;
	rl->n_entries++;
	return true;
}
