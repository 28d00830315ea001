/* flow_table: the session table, conntrack style, in two arrays
 * allocated once: the flows, and a bucket array of chain heads.
 *
 * Each flow is hashed twice, once per direction. A chain link is a
 * "ref", the flow's index times two plus the direction, so one uint32
 * names both the entry and which of its tuples sits on this chain; the
 * next link lives in that flow's hnext[dir]. The hash is SipHash-1-3
 * under a random key (as conntrack's siphash), so a remote sender cannot
 * aim tuples at one chain.
 *
 * Idle flows sit on one LRU list per timeout class (TCP handshake,
 * established, closing, UDP, ICMP, other). Within a class every flow has
 * the same timeout, so each list is ordered by deadline as well as by
 * last use: expiry pops tails and never scans live flows, and the
 * globally least recently used flow is the oldest of the six tails.
 * Single owner, no locks. */
#include "dataplane/flow_table.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>

#define REF_NIL UINT32_MAX
/* hnext[0] of a released flow: never a ref (refs stay below 2^31), so a
 * walk over the slots tells live flows from free ones. */
#define REF_FREE (UINT32_MAX - 1)
#define FLOW_MAX_ENTRIES ((size_t)1 << 30)	/* refs need one spare bit */
/* Two keys per flow, as many buckets: chains average one key when full. */
#define FLOW_BUCKETS_PER_FLOW 2
#define HUGE_PAGE ((size_t)2 << 20)

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_ACK 0x10

/* The bytes of a tuple that are compared and hashed: all but the tail
 * padding, which flow_tuple_canon() keeps zero in stored tuples. */
#define TUPLE_KEY_LEN (offsetof(struct flow_tuple, dst) + 16)
_Static_assert(TUPLE_KEY_LEN == 42, "flow_tuple has interior padding");

enum flow_class {
	FLOW_CLASS_TCP_SYN, FLOW_CLASS_TCP_ESTABLISHED, FLOW_CLASS_TCP_CLOSING,
	FLOW_CLASS_UDP, FLOW_CLASS_ICMP, FLOW_CLASS_OTHER,
	FLOW_CLASS__MAX
};

struct flow_lru {
	uint32_t head, tail;	/* flow indices; head is the most recent */
};

struct flow_table {
	struct flow *flows;
	uint32_t *buckets;
	size_t max_flows, bucket_mask, count;
	size_t fresh;		/* flows[fresh..] were never used */
	uint32_t free_head;	/* released flows, linked by lru_next */
	struct flow_lru lru[FLOW_CLASS__MAX];
	monotime_ns timeout[FLOW_CLASS__MAX];
	struct flow_table_counters ctr;
	uint64_t key[2];
	size_t flows_bytes, buckets_bytes;
};

static const char *const flow_tcp_state_names[] = {
	[FLOW_TCP_NONE] = "none",
	[FLOW_TCP_SYN_SENT] = "syn_sent",
	[FLOW_TCP_SYN_RECV] = "syn_recv",
	[FLOW_TCP_ESTABLISHED] = "established",
	[FLOW_TCP_FIN_WAIT] = "fin_wait",
	[FLOW_TCP_CLOSE] = "close",
};

const char *flow_tcp_state_name(enum flow_tcp_state s)
{
	if ((size_t)s >= sizeof(flow_tcp_state_names) / sizeof(flow_tcp_state_names[0]))
		return "?";
	return flow_tcp_state_names[s];
}

/* ---- keys and hashing ------------------------------------------------ */

/* A tuple as six words for hashing and comparing: bytes 0-39 and the
 * last two. For IPv4 the address tails are masked off here rather than
 * by copying the tuple, which a lookup would pay for on every packet. */
struct flow_key {
	uint64_t w[6];
	bool v6;
};

static uint64_t load64(const void *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* Byte masks, endian-neutral: word 1 keeps dport and src[0..3] (bytes
 * 8-13), word 3 keeps dst[0..3] (bytes 26-29). */
static const uint8_t v4_mask1[8] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0 };
static const uint8_t v4_mask3[8] = { 0, 0, 0xff, 0xff, 0xff, 0xff, 0, 0 };

static void flow_key_load(struct flow_key *k, const struct flow_tuple *t)
{
	const uint8_t *p = (const uint8_t *)t;

	k->v6 = t->family == AF_INET6;
	k->w[0] = load64(p);
	k->w[1] = load64(p + 8);
	k->w[3] = load64(p + 24);
	if (!k->v6) {
		k->w[1] &= load64(v4_mask1);
		k->w[3] &= load64(v4_mask3);
		k->w[2] = k->w[4] = k->w[5] = 0;
		return;
	}
	k->w[2] = load64(p + 16);
	k->w[4] = load64(p + 32);
	k->w[5] = (uint64_t)p[40] | (uint64_t)p[41] << 8;
}

/* Stored tuples are canonical, so their words need no masking. */
static bool flow_key_equal(const struct flow_tuple *stored, const struct flow_key *k)
{
	const uint8_t *p = (const uint8_t *)stored;
	uint64_t d;

	d = (load64(p) ^ k->w[0]) | (load64(p + 8) ^ k->w[1]) |
	    (load64(p + 16) ^ k->w[2]) | (load64(p + 24) ^ k->w[3]) |
	    (load64(p + 32) ^ k->w[4]);
	return !d && ((uint64_t)p[40] | (uint64_t)p[41] << 8) == k->w[5];
}

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND do {							\
		v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32); \
		v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;			\
		v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;			\
		v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32); \
	} while (0)
#define SIPWORD(m) do { v3 ^= (m); SIPROUND; v0 ^= (m); } while (0)

/* SipHash-1-3 of the key's words: three for IPv4, six for IPv6. */
static uint32_t flow_hash(const struct flow_table *ft, const struct flow_key *k)
{
	uint64_t v0 = ft->key[0] ^ 0x736f6d6570736575ULL;
	uint64_t v1 = ft->key[1] ^ 0x646f72616e646f6dULL;
	uint64_t v2 = ft->key[0] ^ 0x6c7967656e657261ULL;
	uint64_t v3 = ft->key[1] ^ 0x7465646279746573ULL;

	SIPWORD(k->w[0]);
	SIPWORD(k->w[1]);
	SIPWORD(k->w[3]);
	if (k->v6) {
		SIPWORD(k->w[2]);
		SIPWORD(k->w[4]);
		SIPWORD(k->w[5] | (uint64_t)48 << 56);
	} else {
		SIPWORD((uint64_t)24 << 56);
	}
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return (uint32_t)(v0 ^ v1 ^ v2 ^ v3);
}

/* A copy with zeroed padding and IPv4 address tails, so that equal
 * tuples are equal byte for byte. */
static void flow_tuple_canon(struct flow_tuple *out, const struct flow_tuple *in)
{
	memcpy(out, in, TUPLE_KEY_LEN);
	memset((uint8_t *)out + TUPLE_KEY_LEN, 0, sizeof(*out) - TUPLE_KEY_LEN);
	if (in->family != AF_INET6) {
		memset(out->src + 4, 0, 12);
		memset(out->dst + 4, 0, 12);
	}
}

void flow_tuple_invert(const struct flow_tuple *in, struct flow_tuple *out)
{
	struct flow_tuple t;

	flow_tuple_canon(&t, in);
	memcpy(t.src, in->dst, 16);
	memcpy(t.dst, in->src, 16);
	t.sport = in->dport;
	t.dport = in->sport;
	flow_tuple_canon(out, &t);
}

/* ---- hash chains ------------------------------------------------------ */

static uint32_t *flow_bucket(struct flow_table *ft, const struct flow_key *k)
{
	return &ft->buckets[flow_hash(ft, k) & ft->bucket_mask];
}

static struct flow *flow_find(struct flow_table *ft, const struct flow_key *k,
			      enum flow_dir *dir)
{
	uint32_t ref = *flow_bucket(ft, k);

	while (ref != REF_NIL) {
		struct flow *f = &ft->flows[ref >> 1];

		if (flow_key_equal(&f->tuple[ref & 1], k)) {
			if (dir)
				*dir = (enum flow_dir)(ref & 1);
			return f;
		}
		ref = f->hnext[ref & 1];
	}
	return NULL;
}

static struct flow *flow_find_tuple(struct flow_table *ft, const struct flow_tuple *t)
{
	struct flow_key k;

	flow_key_load(&k, t);
	return flow_find(ft, &k, NULL);
}

static uint32_t flow_index(const struct flow_table *ft, const struct flow *f)
{
	return (uint32_t)(f - ft->flows);
}

static void flow_hash_link(struct flow_table *ft, struct flow *f, unsigned dir)
{
	struct flow_key k;
	uint32_t *head;

	flow_key_load(&k, &f->tuple[dir]);
	head = flow_bucket(ft, &k);
	f->hnext[dir] = *head;
	*head = flow_index(ft, f) << 1 | dir;
}

static void flow_hash_unlink(struct flow_table *ft, struct flow *f, unsigned dir)
{
	uint32_t ref = flow_index(ft, f) << 1 | dir;
	struct flow_key k;
	uint32_t *pp;

	flow_key_load(&k, &f->tuple[dir]);
	pp = flow_bucket(ft, &k);
	while (*pp != ref && *pp != REF_NIL)
		pp = &ft->flows[*pp >> 1].hnext[*pp & 1];
	if (*pp == ref)
		*pp = f->hnext[dir];
}

/* ---- LRU lists -------------------------------------------------------- */

static enum flow_class flow_class_of(const struct flow *f)
{
	switch (f->tuple[0].protocol) {
	case IPPROTO_TCP:
		if (f->tcp_state == FLOW_TCP_ESTABLISHED)
			return FLOW_CLASS_TCP_ESTABLISHED;
		if (f->tcp_state == FLOW_TCP_FIN_WAIT || f->tcp_state == FLOW_TCP_CLOSE)
			return FLOW_CLASS_TCP_CLOSING;
		return FLOW_CLASS_TCP_SYN;
	case IPPROTO_UDP:
		return FLOW_CLASS_UDP;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		return FLOW_CLASS_ICMP;
	default:
		return FLOW_CLASS_OTHER;
	}
}

static void flow_lru_unlink(struct flow_table *ft, struct flow *f, enum flow_class c)
{
	struct flow_lru *l = &ft->lru[c];

	if (f->lru_prev != REF_NIL)
		ft->flows[f->lru_prev].lru_next = f->lru_next;
	else
		l->head = f->lru_next;
	if (f->lru_next != REF_NIL)
		ft->flows[f->lru_next].lru_prev = f->lru_prev;
	else
		l->tail = f->lru_prev;
}

static void flow_lru_push(struct flow_table *ft, struct flow *f, enum flow_class c)
{
	struct flow_lru *l = &ft->lru[c];
	uint32_t idx = flow_index(ft, f);

	f->lru_prev = REF_NIL;
	f->lru_next = l->head;
	if (l->head != REF_NIL)
		ft->flows[l->head].lru_prev = idx;
	else
		l->tail = idx;
	l->head = idx;
}

/* ---- creation --------------------------------------------------------- */

/* Zeroed memory, lazily backed; huge pages where the kernel has them,
 * since lookups are random over hundreds of MB and TLB misses dominate. */
static void *flow_alloc(size_t bytes)
{
	uint8_t *p = calloc(1, bytes);
	uintptr_t start, end;

	if (!p || bytes < 2 * HUGE_PAGE)
		return p;
	start = ((uintptr_t)p + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1);
	end = ((uintptr_t)p + bytes) & ~(uintptr_t)(HUGE_PAGE - 1);
	if (end > start)
		madvise((void *)start, end - start, MADV_HUGEPAGE);
	return p;
}

static bool flow_random_key(uint64_t key[2])
{
	uint8_t *p = (uint8_t *)key;
	size_t got = 0;

	while (got < 2 * sizeof(uint64_t)) {
		ssize_t n = getrandom(p + got, 2 * sizeof(uint64_t) - got, 0);

		if (n < 0 && errno != EINTR)
			return false;
		if (n > 0)
			got += (size_t)n;
	}
	return true;
}

static size_t flow_bucket_count(size_t max_flows)
{
	size_t n = 16;

	while (n < max_flows * FLOW_BUCKETS_PER_FLOW)
		n <<= 1;
	return n;
}

struct flow_table *flow_table_create(size_t max_flows, const struct flow_timeouts *t)
{
	struct flow_table *ft;
	size_t nb;

	if (max_flows == 0 || max_flows > FLOW_MAX_ENTRIES)
		return NULL;
	ft = calloc(1, sizeof(*ft));
	if (!ft)
		return NULL;
	nb = flow_bucket_count(max_flows);
	ft->flows_bytes = max_flows * sizeof(struct flow);
	ft->buckets_bytes = nb * sizeof(uint32_t);
	ft->flows = flow_alloc(ft->flows_bytes);
	ft->buckets = flow_alloc(ft->buckets_bytes);
	if (!ft->flows || !ft->buckets || !flow_random_key(ft->key))
		goto fail;
	memset(ft->buckets, 0xff, ft->buckets_bytes);	/* REF_NIL */
	memset(ft->lru, 0xff, sizeof(ft->lru));
	ft->max_flows = max_flows;
	ft->bucket_mask = nb - 1;
	ft->free_head = REF_NIL;
	flow_table_set_timeouts(ft, t);
	return ft;
fail:
	flow_table_destroy(ft);
	return NULL;
}

void flow_table_destroy(struct flow_table *ft)
{
	if (!ft)
		return;
	free(ft->flows);
	free(ft->buckets);
	free(ft);
}

void flow_table_set_timeouts(struct flow_table *ft, const struct flow_timeouts *t)
{
	ft->timeout[FLOW_CLASS_TCP_SYN] = t->tcp_syn;
	ft->timeout[FLOW_CLASS_TCP_ESTABLISHED] = t->tcp_established;
	ft->timeout[FLOW_CLASS_TCP_CLOSING] = t->tcp_closing;
	ft->timeout[FLOW_CLASS_UDP] = t->udp;
	ft->timeout[FLOW_CLASS_ICMP] = t->icmp;
	ft->timeout[FLOW_CLASS_OTHER] = t->other;
}

/* ---- lookup, insert, remove ------------------------------------------ */

struct flow *flow_table_lookup(struct flow_table *ft, const struct flow_tuple *t,
			       enum flow_dir *dir)
{
	struct flow_key key;
	struct flow *f;

	flow_key_load(&key, t);
	ft->ctr.lookups++;
	f = flow_find(ft, &key, dir);
	if (f)
		ft->ctr.hits++;
	return f;
}

/* The least recently used flow over all classes: the oldest tail. */
static struct flow *flow_lru_oldest(struct flow_table *ft)
{
	struct flow *oldest = NULL;

	for (int c = 0; c < FLOW_CLASS__MAX; c++) {
		struct flow *f;

		if (ft->lru[c].tail == REF_NIL)
			continue;
		f = &ft->flows[ft->lru[c].tail];
		if (!oldest || f->last_seen < oldest->last_seen)
			oldest = f;
	}
	return oldest;
}

/* A free slot: a released one, a never used one, or the LRU victim. */
static struct flow *flow_slot(struct flow_table *ft)
{
	struct flow *f;

	if (ft->free_head != REF_NIL) {
		f = &ft->flows[ft->free_head];
		ft->free_head = f->lru_next;
		return f;
	}
	if (ft->fresh < ft->max_flows)
		return &ft->flows[ft->fresh++];
	f = flow_lru_oldest(ft);
	flow_table_remove(ft, f);
	ft->ctr.evicted_full++;
	ft->free_head = f->lru_next;
	return f;
}

struct flow *flow_table_insert(struct flow_table *ft, const struct flow_tuple *orig,
			       const struct flow_tuple *reply, monotime_ns now)
{
	struct flow_tuple o, r;
	struct flow *f;

	flow_tuple_canon(&o, orig);
	if (reply)
		flow_tuple_canon(&r, reply);
	else
		flow_tuple_invert(&o, &r);
	/* A tuple that is its own reply could not tell the directions apart. */
	if (!memcmp(&o, &r, sizeof(o)) || flow_find_tuple(ft, &o) || flow_find_tuple(ft, &r)) {
		ft->ctr.insert_failed_exists++;
		return NULL;
	}
	f = flow_slot(ft);
	memset(f, 0, sizeof(*f));
	f->tuple[FLOW_DIR_ORIG] = o;
	f->tuple[FLOW_DIR_REPLY] = r;
	f->created = now;
	f->last_seen = now;
	flow_hash_link(ft, f, FLOW_DIR_ORIG);
	flow_hash_link(ft, f, FLOW_DIR_REPLY);
	flow_lru_push(ft, f, flow_class_of(f));
	ft->count++;
	ft->ctr.inserted++;
	return f;
}

void flow_table_remove(struct flow_table *ft, struct flow *f)
{
	flow_hash_unlink(ft, f, FLOW_DIR_ORIG);
	flow_hash_unlink(ft, f, FLOW_DIR_REPLY);
	flow_lru_unlink(ft, f, flow_class_of(f));
	f->hnext[0] = REF_FREE;
	f->lru_prev = REF_NIL;
	f->lru_next = ft->free_head;
	ft->free_head = flow_index(ft, f);
	ft->count--;
}

/* ---- accounting and expiry ------------------------------------------- */

/* The TCP tracker, deliberately loose: no sequence checks. A flow first
 * seen mid-stream (an ACK without SYN) is picked up as established so a
 * restart or failover does not cut live sessions. */
static uint8_t flow_tcp_next(uint8_t s, enum flow_dir dir, uint8_t flags)
{
	bool syn = flags & TCP_SYN, ack = flags & TCP_ACK;

	if (flags & TCP_RST)
		return FLOW_TCP_CLOSE;
	if (flags & TCP_FIN)
		return s == FLOW_TCP_CLOSE ? s : FLOW_TCP_FIN_WAIT;
	switch (s) {
	case FLOW_TCP_NONE:
		if (syn && !ack)
			return FLOW_TCP_SYN_SENT;
		return ack && !syn ? FLOW_TCP_ESTABLISHED : s;
	case FLOW_TCP_SYN_SENT:
		return syn && dir == FLOW_DIR_REPLY ? FLOW_TCP_SYN_RECV : s;
	case FLOW_TCP_SYN_RECV:
		return ack && !syn && dir == FLOW_DIR_ORIG ? FLOW_TCP_ESTABLISHED : s;
	case FLOW_TCP_CLOSE:	/* a new SYN reuses the tuple */
		return syn && !ack && dir == FLOW_DIR_ORIG ? FLOW_TCP_SYN_SENT : s;
	default:
		return s;
	}
}

void flow_table_touch(struct flow_table *ft, struct flow *f, enum flow_dir dir,
		      size_t bytes, uint8_t tcp_flags, monotime_ns now)
{
	enum flow_class old = flow_class_of(f), c;
	unsigned d = dir == FLOW_DIR_REPLY;

	if (now > f->last_seen)		/* the lists assume time never runs back */
		f->last_seen = now;
	f->packets[d]++;
	f->bytes[d] += bytes;
	if (f->tuple[0].protocol == IPPROTO_TCP)
		f->tcp_state = flow_tcp_next(f->tcp_state, dir, tcp_flags);
	c = flow_class_of(f);
	if (c == old && ft->lru[c].head == flow_index(ft, f))
		return;
	flow_lru_unlink(ft, f, old);
	flow_lru_push(ft, f, c);
}

static struct flow *flow_expired_tail(struct flow_table *ft, int c, monotime_ns now)
{
	struct flow *f;

	if (ft->lru[c].tail == REF_NIL)
		return NULL;
	f = &ft->flows[ft->lru[c].tail];
	if (now < f->last_seen || now - f->last_seen < ft->timeout[c])
		return NULL;
	return f;
}

size_t flow_table_expire(struct flow_table *ft, monotime_ns now, size_t budget,
			 void (*on_expire)(void *ctx, struct flow *f), void *ctx)
{
	size_t n = 0;

	for (int c = 0; c < FLOW_CLASS__MAX; c++) {
		struct flow *f;

		while (n < budget && (f = flow_expired_tail(ft, c, now))) {
			if (on_expire)
				on_expire(ctx, f);
			flow_table_remove(ft, f);
			ft->ctr.expired++;
			n++;
		}
	}
	return n;
}

void flow_table_walk(struct flow_table *ft, bool (*fn)(void *ctx, struct flow *f),
		     void *ctx)
{
	for (int c = 0; c < FLOW_CLASS__MAX; c++) {
		for (uint32_t i = ft->lru[c].head; i != REF_NIL; i = ft->flows[i].lru_next)
			if (!fn(ctx, &ft->flows[i]))
				return;
	}
}

size_t flow_table_walk_slots(struct flow_table *ft, size_t from, size_t max,
			     bool (*fn)(void *ctx, struct flow *f), void *ctx)
{
	size_t end = from + max < ft->fresh ? from + max : ft->fresh;

	for (size_t i = from; i < end; i++)
		if (ft->flows[i].hnext[0] != REF_FREE && !fn(ctx, &ft->flows[i]))
			return i + 1 < ft->fresh ? i + 1 : 0;
	return end < ft->fresh ? end : 0;
}

size_t flow_table_count(const struct flow_table *ft)
{
	return ft->count;
}

size_t flow_table_capacity(const struct flow_table *ft)
{
	return ft->max_flows;
}

size_t flow_table_memory(const struct flow_table *ft)
{
	return sizeof(*ft) + ft->flows_bytes + ft->buckets_bytes;
}

const struct flow_table_counters *flow_table_counters(const struct flow_table *ft)
{
	return &ft->ctr;
}
