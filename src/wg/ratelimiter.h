/* ratelimiter: a token bucket per source address (IPv4 /32, IPv6 /64) for
 * handshake messages that arrive while the device is under load, as in the
 * Linux driver: 20 packets/s with a burst of 5. Entries idle for a second
 * are collected; the table is bounded and refuses new sources when full. */
#ifndef EGRESS_WG_RATELIMITER_H
#define EGRESS_WG_RATELIMITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/monotime.h"

#define RATELIMITER_PACKETS_PER_SECOND 20
#define RATELIMITER_PACKETS_BURST 5

struct ratelimiter_entry;

struct ratelimiter {
	struct ratelimiter_entry **buckets;
	size_t n_buckets;
	size_t n_entries, max_entries;
	uint8_t hash_key[16];		/* random: a sender cannot aim at one bucket */
	monotime_ns last_gc;
};

bool ratelimiter_init(struct ratelimiter *rl, size_t max_entries);
void ratelimiter_free(struct ratelimiter *rl);
/* family AF_INET (addr: 4 bytes) or AF_INET6 (addr: 16 bytes). */
bool ratelimiter_allow(struct ratelimiter *rl, int family, const uint8_t *addr,
		       monotime_ns now);
/* Drops entries idle for over a second; called at most once a second by
 * ratelimiter_allow itself, exported for tests. */
void ratelimiter_gc(struct ratelimiter *rl, monotime_ns now);

#endif
