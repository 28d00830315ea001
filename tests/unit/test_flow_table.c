/* test_flow_table: the flow table against a naive reference (an array
 * scanned end to end) over 100k random inserts, lookups, touches,
 * removals and expiries; timeouts by TCP state with an injected clock;
 * LRU eviction when full. */
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "dataplane/flow_table.h"
#include "test.h"

static uint64_t rng_state = 0x2545f4914f6cdd1dULL;

static uint32_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 16);
}

static const struct flow_timeouts tmo = {
	.tcp_syn = 50, .tcp_established = 700, .tcp_closing = 30,
	.udp = 120, .icmp = 20, .other = 90,
};

/* ---- the reference ---------------------------------------------------- */

#define REF_MAX 4096

struct ref_flow {
	struct flow_tuple t[2];
	monotime_ns last_seen;
	uint8_t tcp_state;
	uint64_t packets[2];
};

static struct ref_flow ref[REF_MAX];
static size_t ref_n;

static bool tuple_eq(const struct flow_tuple *a, const struct flow_tuple *b)
{
	size_t al = a->family == AF_INET6 ? 16 : 4;

	return a->zone == b->zone && a->family == b->family && a->protocol == b->protocol &&
	       a->sport == b->sport && a->dport == b->dport &&
	       !memcmp(a->src, b->src, al) && !memcmp(a->dst, b->dst, al);
}

static void tuple_inv(const struct flow_tuple *in, struct flow_tuple *out)
{
	*out = *in;
	memcpy(out->src, in->dst, 16);
	memcpy(out->dst, in->src, 16);
	out->sport = in->dport;
	out->dport = in->sport;
}

static int ref_find(const struct flow_tuple *t, int *dir)
{
	for (size_t i = 0; i < ref_n; i++)
		for (int d = 0; d < 2; d++)
			if (tuple_eq(&ref[i].t[d], t)) {
				*dir = d;
				return (int)i;
			}
	return -1;
}

/* Timeout class, in the table's class order. */
static int ref_class(const struct ref_flow *r)
{
	switch (r->t[0].protocol) {
	case IPPROTO_TCP:
		if (r->tcp_state == FLOW_TCP_ESTABLISHED)
			return 1;
		return r->tcp_state >= FLOW_TCP_FIN_WAIT ? 2 : 0;
	case IPPROTO_UDP:
		return 3;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		return 4;
	default:
		return 5;
	}
}

static monotime_ns ref_timeout(int c)
{
	const monotime_ns t[] = { tmo.tcp_syn, tmo.tcp_established, tmo.tcp_closing,
				  tmo.udp, tmo.icmp, tmo.other };
	return t[c];
}

/* The TCP tracker written as a table: [state][event]. Events: 0 RST,
 * 1 FIN, 2 SYN alone (orig), 3 SYN alone (reply), 4 SYN+ACK (orig),
 * 5 SYN+ACK (reply), 6 ACK alone (orig), 7 ACK alone (reply), 8 none. */
static const uint8_t tcp_tab[6][9] = {
	/* NONE */	  { 5, 4, 1, 1, 0, 0, 3, 3, 0 },
	/* SYN_SENT */	  { 5, 4, 1, 2, 1, 2, 1, 1, 1 },
	/* SYN_RECV */	  { 5, 4, 2, 2, 2, 2, 3, 2, 2 },
	/* ESTABLISHED */ { 5, 4, 3, 3, 3, 3, 3, 3, 3 },
	/* FIN_WAIT */	  { 5, 4, 4, 4, 4, 4, 4, 4, 4 },
	/* CLOSE */	  { 5, 5, 1, 5, 5, 5, 5, 5, 5 },
};

static uint8_t ref_tcp(uint8_t s, int dir, uint8_t fl)
{
	int ev;

	if (fl & 0x04)
		ev = 0;
	else if (fl & 0x01)
		ev = 1;
	else if ((fl & 0x12) == 0x02)
		ev = 2 + dir;
	else if ((fl & 0x12) == 0x12)
		ev = 4 + dir;
	else if (fl & 0x10)
		ev = 6 + dir;
	else
		ev = 8;
	return tcp_tab[s][ev];
}

static void ref_remove(size_t i)
{
	ref[i] = ref[--ref_n];
}

static size_t ref_oldest(void)
{
	size_t best = 0;

	for (size_t i = 1; i < ref_n; i++)
		if (ref[i].last_seen < ref[best].last_seen)
			best = i;
	return best;
}

/* Expires like the table: class by class, oldest first, up to budget. */
static size_t ref_expire(monotime_ns now, size_t budget)
{
	size_t n = 0;

	for (int c = 0; c < 6; c++) {
		while (n < budget) {
			int best = -1;

			for (size_t i = 0; i < ref_n; i++)
				if (ref_class(&ref[i]) == c &&
				    now - ref[i].last_seen >= ref_timeout(c) &&
				    (best < 0 || ref[i].last_seen < ref[best].last_seen))
					best = (int)i;
			if (best < 0)
				break;
			ref_remove((size_t)best);
			n++;
		}
	}
	return n;
}

/* ---- random operations ------------------------------------------------ */

static void random_tuple(struct flow_tuple *t)
{
	static const uint8_t protos[] = { IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP, 47 };

	memset(t, 0, sizeof(*t));
	t->zone = rnd() % 2;
	t->family = rnd() % 3 ? AF_INET : AF_INET6;
	t->protocol = protos[rnd() % 4];
	t->sport = (uint16_t)(1000 + rnd() % 6);
	t->dport = (uint16_t)(1000 + rnd() % 6);
	t->src[0] = (uint8_t)(rnd() % 4);
	t->dst[0] = (uint8_t)(rnd() % 4);
	if (t->family == AF_INET6)
		t->src[15] = 1;
	else
		t->src[9] = (uint8_t)rnd();	/* junk past an IPv4 address: ignored */
}

static void op_insert(struct flow_table *ft, size_t cap, monotime_ns now)
{
	struct flow_tuple o, r;
	bool custom = rnd() % 4 == 0;
	struct flow *f;
	int d;

	random_tuple(&o);
	if (custom)
		random_tuple(&r);
	else
		tuple_inv(&o, &r);
	r.protocol = o.protocol;
	f = flow_table_insert(ft, &o, custom ? &r : NULL, now);
	if (tuple_eq(&o, &r) || ref_find(&o, &d) >= 0 || ref_find(&r, &d) >= 0) {
		CHECK(f == NULL);
		return;
	}
	CHECK(f != NULL);
	if (ref_n == cap)
		ref_remove(ref_oldest());
	ref[ref_n++] = (struct ref_flow){ .t = { o, r }, .last_seen = now };
}

static void op_lookup(struct flow_table *ft, monotime_ns now)
{
	struct flow_tuple t;
	enum flow_dir dir = FLOW_DIR_ORIG;
	struct flow *f;
	int d = 0, i;

	if (ref_n && rnd() % 4) {	/* mostly hits, so flows see many packets */
		t = ref[rnd() % ref_n].t[rnd() % 2];
		if (t.family == AF_INET)
			t.dst[12] = (uint8_t)rnd();
	} else {
		random_tuple(&t);
	}
	f = flow_table_lookup(ft, &t, &dir);
	i = ref_find(&t, &d);
	CHECK((f != NULL) == (i >= 0));
	if (!f || i < 0)
		return;
	CHECK((int)dir == d && tuple_eq(&f->tuple[0], &ref[i].t[0]));
	CHECK(tuple_eq(&f->tuple[1], &ref[i].t[1]));
	if (rnd() % 2) {
		uint8_t fl = (uint8_t)(rnd() % 2 ? rnd() & 0x17 : 0x10);

		flow_table_touch(ft, f, dir, 100, fl, now);
		ref[i].last_seen = now;
		ref[i].packets[d]++;
		if (ref[i].t[0].protocol == IPPROTO_TCP)
			ref[i].tcp_state = ref_tcp(ref[i].tcp_state, d, fl);
		CHECK(f->tcp_state == ref[i].tcp_state);
		CHECK(f->packets[d] == ref[i].packets[d] && f->bytes[d] == 100 * f->packets[d]);
	} else if (rnd() % 8 == 0) {
		flow_table_remove(ft, f);
		ref_remove((size_t)i);
	}
}

struct walk_ctx {
	size_t seen;
	bool ok;
};

static bool walk_check(void *vctx, struct flow *f)
{
	struct walk_ctx *w = vctx;
	int d, i = ref_find(&f->tuple[0], &d);

	w->seen++;
	if (i < 0 || d != 0 || ref[i].tcp_state != f->tcp_state ||
	    ref[i].last_seen != f->last_seen)
		w->ok = false;
	return true;
}

static void check_all(struct flow_table *ft)
{
	struct walk_ctx w = { 0, true };

	flow_table_walk(ft, walk_check, &w);
	CHECK(w.ok && w.seen == ref_n && flow_table_count(ft) == ref_n);
}

static void run_random(size_t cap, int ops)
{
	struct flow_table *ft = flow_table_create(cap, &tmo);
	monotime_ns now = 1000;

	ref_n = 0;
	CHECK(ft != NULL);
	for (int i = 0; i < ops && ft; i++) {
		uint32_t op = rnd() % 100;

		now += 1 + rnd() % 4;	/* strictly increasing: last_seen is unique */
		if (op < 35) {
			op_insert(ft, cap, now);
		} else if (op < 98) {
			op_lookup(ft, now);
		} else {
			size_t budget = rnd() % 2 ? rnd() % 4 : rnd() % 64;

			CHECK(flow_table_expire(ft, now, budget, NULL, NULL) ==
			      ref_expire(now, budget));
		}
		CHECK(flow_table_count(ft) == ref_n);
		if (i % 1000 == 0)
			check_all(ft);
	}
	check_all(ft);
	flow_table_destroy(ft);
}

static void test_random_vs_reference(void)
{
	run_random(64, 100000);		/* mostly full: eviction all the time */
	run_random(2048, 100000);	/* never full: expiry and removal */
}

/* ---- focused tests ---------------------------------------------------- */

static void make_tuple(struct flow_tuple *t, uint8_t proto, uint32_t n)
{
	memset(t, 0, sizeof(*t));
	t->family = AF_INET;
	t->protocol = proto;
	t->src[0] = 10;
	t->src[1] = (uint8_t)(n >> 16);
	t->src[2] = (uint8_t)(n >> 8);
	t->src[3] = (uint8_t)n;
	t->dst[0] = 198;
	t->dst[3] = 1;
	t->sport = (uint16_t)(40000 + n % 1000);
	t->dport = 443;
}

static int expired_calls;

static void count_expired(void *ctx, struct flow *f)
{
	(void)f;
	(*(int *)ctx)++;
}

static void test_tcp_timeouts(void)
{
	struct flow_table *ft = flow_table_create(16, &tmo);
	struct flow_tuple t, r;
	enum flow_dir dir;
	struct flow *f;

	make_tuple(&t, IPPROTO_TCP, 1);
	f = flow_table_insert(ft, &t, NULL, 100);
	flow_table_touch(ft, f, FLOW_DIR_ORIG, 60, 0x02, 100);
	CHECK(f->tcp_state == FLOW_TCP_SYN_SENT);
	CHECK(flow_table_expire(ft, 100 + tmo.tcp_syn - 1, 10, NULL, NULL) == 0);
	flow_tuple_invert(&t, &r);
	CHECK(flow_table_lookup(ft, &r, &dir) == f && dir == FLOW_DIR_REPLY);
	flow_table_touch(ft, f, dir, 60, 0x12, 120);
	CHECK(f->tcp_state == FLOW_TCP_SYN_RECV);
	flow_table_touch(ft, f, FLOW_DIR_ORIG, 52, 0x10, 130);
	CHECK(f->tcp_state == FLOW_TCP_ESTABLISHED);
	CHECK(!strcmp(flow_tcp_state_name(f->tcp_state), "established"));
	/* established lives well past the handshake timeout */
	CHECK(flow_table_expire(ft, 130 + tmo.tcp_established - 1, 10, NULL, NULL) == 0);
	flow_table_touch(ft, f, FLOW_DIR_REPLY, 52, 0x11, 800);
	CHECK(f->tcp_state == FLOW_TCP_FIN_WAIT);
	CHECK(flow_table_expire(ft, 800 + tmo.tcp_closing - 1, 10, NULL, NULL) == 0);
	expired_calls = 0;
	CHECK(flow_table_expire(ft, 800 + tmo.tcp_closing, 10, count_expired,
				&expired_calls) == 1);
	CHECK(expired_calls == 1 && flow_table_count(ft) == 0);
	CHECK(flow_table_lookup(ft, &t, &dir) == NULL);
	CHECK(flow_table_counters(ft)->expired == 1);
	flow_table_destroy(ft);
}

static void test_protocol_timeouts(void)
{
	const uint8_t protos[] = { IPPROTO_UDP, IPPROTO_ICMP, 47 };
	const monotime_ns want[] = { tmo.udp, tmo.icmp, tmo.other };

	for (int i = 0; i < 3; i++) {
		struct flow_table *ft = flow_table_create(4, &tmo);
		struct flow_tuple t;
		struct flow *f;

		make_tuple(&t, protos[i], 7);
		f = flow_table_insert(ft, &t, NULL, 1000);
		flow_table_touch(ft, f, FLOW_DIR_ORIG, 10, 0, 1500);
		CHECK(flow_table_expire(ft, 1500 + want[i] - 1, 10, NULL, NULL) == 0);
		CHECK(flow_table_expire(ft, 1500 + want[i], 10, NULL, NULL) == 1);
		flow_table_destroy(ft);
	}
}

static void test_expire_budget(void)
{
	struct flow_table *ft = flow_table_create(1000, &tmo);
	struct flow_tuple t;

	for (uint32_t i = 0; i < 100; i++) {
		make_tuple(&t, IPPROTO_UDP, i);
		CHECK(flow_table_insert(ft, &t, NULL, i) != NULL);
	}
	CHECK(flow_table_expire(ft, 99 + tmo.udp, 10, NULL, NULL) == 10);
	CHECK(flow_table_count(ft) == 90);
	/* the oldest went first */
	make_tuple(&t, IPPROTO_UDP, 9);
	CHECK(flow_table_lookup(ft, &t, NULL) == NULL);
	make_tuple(&t, IPPROTO_UDP, 10);
	CHECK(flow_table_lookup(ft, &t, NULL) != NULL);
	CHECK(flow_table_expire(ft, 99 + tmo.udp, 1000, NULL, NULL) == 90);
	flow_table_destroy(ft);
}

static void test_eviction(void)
{
	struct flow_table *ft = flow_table_create(100, &tmo);
	struct flow_tuple t;
	struct flow *first;

	make_tuple(&t, IPPROTO_UDP, 0);
	first = flow_table_insert(ft, &t, NULL, 1);
	for (uint32_t i = 1; i < 100; i++) {
		make_tuple(&t, i % 2 ? IPPROTO_TCP : IPPROTO_UDP, i);
		CHECK(flow_table_insert(ft, &t, NULL, 1 + i) != NULL);
	}
	CHECK(flow_table_count(ft) == 100 && flow_table_capacity(ft) == 100);
	flow_table_touch(ft, first, FLOW_DIR_ORIG, 1, 0, 500);	/* now the newest */
	make_tuple(&t, IPPROTO_UDP, 1000);
	CHECK(flow_table_insert(ft, &t, NULL, 501) != NULL);
	CHECK(flow_table_count(ft) == 100 && flow_table_counters(ft)->evicted_full == 1);
	make_tuple(&t, IPPROTO_TCP, 1);		/* inserted at 2: the LRU one */
	CHECK(flow_table_lookup(ft, &t, NULL) == NULL);
	make_tuple(&t, IPPROTO_UDP, 0);
	CHECK(flow_table_lookup(ft, &t, NULL) == first);
	flow_table_destroy(ft);
}

/* The walk in pieces sees exactly the live flows the whole walk sees,
 * after inserts, removals, expiry and eviction left holes in the slots. */
static bool mark_flow(void *ctx, struct flow *f)
{
	uint8_t *seen = ctx;

	seen[(f->tuple[0].src[2] << 8 | f->tuple[0].src[3]) & 1023]++;
	return true;
}

static void test_walk_slots(void)
{
	struct flow_table *ft = flow_table_create(500, &tmo);
	static uint8_t whole[1024], pieces[1024];
	struct flow_tuple t;
	size_t next = 0;
	int n = 0;

	for (uint32_t i = 0; i < 700; i++) {	/* 200 evictions */
		make_tuple(&t, IPPROTO_UDP, i);
		CHECK(flow_table_insert(ft, &t, NULL, 1 + i) != NULL);
	}
	for (uint32_t i = 200; i < 700; i += 3) {
		struct flow *f;

		make_tuple(&t, IPPROTO_UDP, i);
		f = flow_table_lookup(ft, &t, NULL);
		CHECK(f != NULL);
		if (f)
			flow_table_remove(ft, f);
	}
	flow_table_walk(ft, mark_flow, whole);
	do {
		next = flow_table_walk_slots(ft, next, 37, mark_flow, pieces);
		n++;
	} while (next && n < 100);
	CHECK(n == (500 + 36) / 37);
	CHECK(memcmp(whole, pieces, sizeof(whole)) == 0);
	for (size_t i = 0; i < sizeof(whole); i++)
		CHECK(whole[i] <= 1);
	flow_table_destroy(ft);
}

static void test_duplicates_and_nat_reply(void)
{
	struct flow_table *ft = flow_table_create(8, &tmo);
	struct flow_tuple t, r, inv;
	enum flow_dir dir;
	struct flow *f;

	make_tuple(&t, IPPROTO_UDP, 3);
	flow_tuple_invert(&t, &r);
	r.dst[0] = 203;		/* translated: replies arrive at a pool address */
	r.dport = 61000;
	r.zone = 9;
	f = flow_table_insert(ft, &t, &r, 5);
	CHECK(f != NULL);
	CHECK(flow_table_lookup(ft, &r, &dir) == f && dir == FLOW_DIR_REPLY);
	flow_tuple_invert(&t, &inv);
	CHECK(flow_table_lookup(ft, &inv, &dir) == NULL);
	CHECK(flow_table_insert(ft, &t, NULL, 6) == NULL);
	CHECK(flow_table_insert(ft, &inv, &r, 6) == NULL);
	/* a tuple that is its own inverse */
	memset(&t, 0, sizeof(t));
	t.family = AF_INET;
	t.protocol = IPPROTO_UDP;
	t.sport = t.dport = 53;
	CHECK(flow_table_insert(ft, &t, NULL, 6) == NULL);
	CHECK(flow_table_counters(ft)->insert_failed_exists == 3);
	CHECK(flow_table_memory(ft) >= 8 * sizeof(struct flow));
	flow_table_destroy(ft);
}

static void test_create_limits(void)
{
	CHECK(flow_table_create(0, &tmo) == NULL);
	CHECK(!strcmp(flow_tcp_state_name(FLOW_TCP_SYN_SENT), "syn_sent"));
	CHECK(!strcmp(flow_tcp_state_name((enum flow_tcp_state)99), "?"));
}

TEST_MAIN("flow_table",
	  TEST(test_create_limits),
	  TEST(test_tcp_timeouts),
	  TEST(test_protocol_timeouts),
	  TEST(test_expire_budget),
	  TEST(test_eviction),
	  TEST(test_duplicates_and_nat_reply),
	  TEST(test_walk_slots),
	  TEST(test_random_vs_reference))
