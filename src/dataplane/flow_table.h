/* flow_table: every live session, found from a packet of either
 * direction. An entry holds two tuples as conntrack does: the original
 * direction (as the client sent it) and the reply direction (as the reply
 * arrives: the inverse of the original, or the translated one after NAT).
 * Both are hashed; a lookup returns the entry and which direction matched.
 *
 * Memory is bounded (max entries fixed at creation, allocated up front).
 * Idle entries expire after a per-protocol timeout (TCP by state, UDP,
 * ICMP, other); when the table is full the least recently used entry is
 * evicted and flow_evicted_full counts it. Single-threaded: one owner. */
#ifndef EGRESS_DATAPLANE_FLOW_TABLE_H
#define EGRESS_DATAPLANE_FLOW_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"
#include "common/monotime.h"

struct flow_tuple {
	uint32_t zone;		/* separates address spaces (e.g. origin node) */
	uint8_t family, protocol;
	uint16_t sport, dport;	/* host order; ICMP echo: both = id */
	uint8_t src[16], dst[16];
};

enum flow_dir { FLOW_DIR_ORIG = 0, FLOW_DIR_REPLY = 1 };

enum flow_tcp_state {
	FLOW_TCP_NONE,		/* not TCP */
	FLOW_TCP_SYN_SENT, FLOW_TCP_SYN_RECV, FLOW_TCP_ESTABLISHED,
	FLOW_TCP_FIN_WAIT, FLOW_TCP_CLOSE,	/* FIN seen / RST seen */
};

/* What the owner stores with a flow; the table never looks inside. Kept
 * small: a million flows must fit in a few hundred MB. */
struct flow_data {
	uint32_t node_id;	/* egress chosen (policy_name_id), 0 = local */
	uint16_t path;		/* underlay path index at that node */
	uint16_t flags;
	uint32_t class_id, pool_id, user_id, rule;	/* ids: survive reloads */
	void *peer;		/* the client's (access) or origin's (egress) wg_peer */
	uint64_t policy_version;
	uint32_t endpoint_slot;	/* egress: where replies go (see node/) */
	uint16_t domain_slot;
	uint8_t dscp, pad;
};

struct flow {
	struct flow_tuple tuple[2];		/* [FLOW_DIR_ORIG], [FLOW_DIR_REPLY] */
	monotime_ns created, last_seen;
	uint64_t packets[2], bytes[2];
	uint8_t tcp_state;			/* enum flow_tcp_state */
	struct flow_data data;
	/* table-private links follow */
	uint32_t hnext[2], lru_prev, lru_next;
};

struct flow_timeouts {
	monotime_ns tcp_syn, tcp_established, tcp_closing, udp, icmp, other;
};

struct flow_table_counters {
	uint64_t inserted, expired, evicted_full, insert_failed_exists;
	uint64_t lookups, hits;
};

struct flow_table;

/* max_flows entries are allocated at once; NULL on ENOMEM. */
struct flow_table *flow_table_create(size_t max_flows, const struct flow_timeouts *t);
void flow_table_destroy(struct flow_table *ft);
void flow_table_set_timeouts(struct flow_table *ft, const struct flow_timeouts *t);

/* The entry either of whose tuples equals t, or NULL; *dir says which. */
struct flow *flow_table_lookup(struct flow_table *ft, const struct flow_tuple *t,
			       enum flow_dir *dir);
/* Inserts a flow; reply may be NULL for "the inverse of orig". Evicts the
 * LRU entry when full. NULL if either tuple is already present. */
struct flow *flow_table_insert(struct flow_table *ft, const struct flow_tuple *orig,
			       const struct flow_tuple *reply, monotime_ns now);
void flow_table_remove(struct flow_table *ft, struct flow *f);

/* Accounts a packet: last_seen, counters, the TCP state machine from the
 * flags (tcp_flags 0 for non-TCP), and the LRU position. */
void flow_table_touch(struct flow_table *ft, struct flow *f, enum flow_dir dir,
		      size_t bytes, uint8_t tcp_flags, monotime_ns now);

/* Removes idle flows, at most budget of them (so a timer tick is bounded);
 * calls on_expire (may be NULL) before each removal. Returns how many. */
size_t flow_table_expire(struct flow_table *ft, monotime_ns now, size_t budget,
			 void (*on_expire)(void *ctx, struct flow *f), void *ctx);

/* Visits every flow; stop by returning false. The table must not change
 * during the walk. */
void flow_table_walk(struct flow_table *ft, bool (*fn)(void *ctx, struct flow *f),
		     void *ctx);

/* A walk in pieces, by slot instead of by LRU order, so the table may
 * change between pieces: fn sees the live flows among at most max slots
 * from slot from. Returns where the next piece starts, 0 once the walk
 * reached the end. A flow inserted or removed between pieces is seen
 * once or not at all. */
size_t flow_table_walk_slots(struct flow_table *ft, size_t from, size_t max,
			     bool (*fn)(void *ctx, struct flow *f), void *ctx);
size_t flow_table_count(const struct flow_table *ft);
size_t flow_table_capacity(const struct flow_table *ft);
size_t flow_table_memory(const struct flow_table *ft);	/* bytes */
const struct flow_table_counters *flow_table_counters(const struct flow_table *ft);

void flow_tuple_invert(const struct flow_tuple *in, struct flow_tuple *out);
const char *flow_tcp_state_name(enum flow_tcp_state s);

#endif
