/* test_allowedips: cryptokey routing. Hand cases in the style of the Linux
 * driver's selftest (overlaps, /0, /32, /128, host bits, owner changes,
 * removal, walk), then random inserts, removals and lookups compared with
 * a naive reference (a flat list, linear longest match), and an
 * informational lookup rate. */
#include "test.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/monotime.h"
#include "wg/allowedips.h"

static char peers[16];
#define A (&peers[0])
#define B (&peers[1])
#define C (&peers[2])
#define D (&peers[3])
#define E (&peers[4])
#define F (&peers[5])
#define G (&peers[6])
#define H (&peers[7])

struct addr {
	uint8_t b[16];
};

static struct addr ip4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	return (struct addr){ .b = { a, b, c, d } };
}

static struct addr ip6(uint32_t a, uint32_t b, uint32_t c, uint32_t d)
{
	uint32_t w[4] = { htonl(a), htonl(b), htonl(c), htonl(d) };
	struct addr r;

	memcpy(r.b, w, sizeof(w));
	return r;
}

#define INS4(t, p, w, x, y, z, cidr) \
	CHECK(allowedips_insert(t, AF_INET, ip4(w, x, y, z).b, cidr, p) == 0)
#define INS6(t, p, w, x, y, z, cidr) \
	CHECK(allowedips_insert(t, AF_INET6, ip6(w, x, y, z).b, cidr, p) == 0)
#define LOOK4(t, w, x, y, z) allowedips_lookup(t, AF_INET, ip4(w, x, y, z).b)
#define LOOK6(t, w, x, y, z) allowedips_lookup(t, AF_INET6, ip6(w, x, y, z).b)

static void insert_selftest_table(struct allowedips *t)
{
	INS4(t, A, 192, 168, 4, 0, 24);
	INS4(t, B, 192, 168, 4, 4, 32);
	INS4(t, C, 192, 168, 0, 0, 16);
	INS4(t, D, 192, 95, 5, 64, 27);
	INS4(t, C, 192, 95, 5, 65, 27);	/* replaces D; host bit ignored */
	INS6(t, D, 0x26075300, 0x60006b00, 0, 0xc05f0543, 128);
	INS6(t, C, 0x26075300, 0x60006b00, 0, 0, 64);
	INS4(t, E, 0, 0, 0, 0, 0);
	INS6(t, E, 0, 0, 0, 0, 0);
	INS6(t, F, 0, 0, 0, 0, 0);		/* replaces E */
	INS6(t, G, 0x24046800, 0, 0, 0, 32);
	INS6(t, H, 0x24046800, 0x40040800, 0xdeadbeef, 0xdeadbeef, 64);
	INS6(t, A, 0x24046800, 0x40040800, 0xdeadbeef, 0xdeadbeef, 128);
	INS6(t, C, 0x24446800, 0x40e40800, 0xdeaebeef, 0xdefbeef, 128);
	INS6(t, B, 0x24446800, 0xf0e40800, 0xeeaebeef, 0, 98);
	INS4(t, G, 64, 15, 112, 0, 20);
	INS4(t, H, 64, 15, 123, 211, 25);
	INS4(t, A, 10, 0, 0, 0, 25);
	INS4(t, B, 10, 0, 0, 128, 25);
	INS4(t, A, 10, 1, 0, 0, 30);
	INS4(t, B, 10, 1, 0, 4, 30);
	INS4(t, C, 10, 1, 0, 8, 29);
	INS4(t, D, 10, 1, 0, 16, 29);
}

static void test_selftest_lookups(void)
{
	struct allowedips t;

	allowedips_init(&t);
	insert_selftest_table(&t);
	CHECK(LOOK4(&t, 192, 168, 4, 20) == A);
	CHECK(LOOK4(&t, 192, 168, 4, 0) == A);
	CHECK(LOOK4(&t, 192, 168, 4, 4) == B);
	CHECK(LOOK4(&t, 192, 168, 200, 182) == C);
	CHECK(LOOK4(&t, 192, 95, 5, 68) == C);
	CHECK(LOOK4(&t, 192, 95, 5, 96) == E);
	CHECK(LOOK6(&t, 0x26075300, 0x60006b00, 0, 0xc05f0543) == D);
	CHECK(LOOK6(&t, 0x26075300, 0x60006b00, 0, 0xc02e01ee) == C);
	CHECK(LOOK6(&t, 0x26075300, 0x60006b01, 0, 0) == F);
	CHECK(LOOK6(&t, 0x24046800, 0x40040806, 0, 0x1006) == G);
	CHECK(LOOK6(&t, 0x24046800, 0x40040806, 0x1234, 0x5678) == G);
	CHECK(LOOK6(&t, 0x240467ff, 0x40040806, 0x1234, 0x5678) == F);
	CHECK(LOOK6(&t, 0x24046801, 0x40040806, 0x1234, 0x5678) == F);
	CHECK(LOOK6(&t, 0x24046800, 0x40040800, 0x1234, 0x5678) == H);
	CHECK(LOOK6(&t, 0x24046800, 0x40040800, 0, 0) == H);
	CHECK(LOOK6(&t, 0x24046800, 0x40040800, 0x10101010, 0x10101010) == H);
	CHECK(LOOK6(&t, 0x24046800, 0x40040800, 0xdeadbeef, 0xdeadbeef) == A);
	CHECK(LOOK4(&t, 64, 15, 116, 26) == G);
	CHECK(LOOK4(&t, 64, 15, 127, 3) == G);
	CHECK(LOOK4(&t, 64, 15, 123, 1) == G);
	CHECK(LOOK4(&t, 64, 15, 123, 128) == H);
	CHECK(LOOK4(&t, 64, 15, 123, 129) == H);
	CHECK(LOOK4(&t, 10, 0, 0, 52) == A);
	CHECK(LOOK4(&t, 10, 0, 0, 220) == B);
	CHECK(LOOK4(&t, 10, 1, 0, 2) == A);
	CHECK(LOOK4(&t, 10, 1, 0, 6) == B);
	CHECK(LOOK4(&t, 10, 1, 0, 10) == C);
	CHECK(LOOK4(&t, 10, 1, 0, 20) == D);
	allowedips_free(&t);
}

static void test_empty_and_default(void)
{
	struct allowedips t;

	allowedips_init(&t);
	CHECK(LOOK4(&t, 1, 2, 3, 4) == NULL);
	CHECK(LOOK6(&t, 1, 2, 3, 4) == NULL);
	INS4(&t, A, 0, 0, 0, 0, 0);
	CHECK(LOOK4(&t, 255, 255, 255, 255) == A);
	CHECK(LOOK4(&t, 0, 0, 0, 0) == A);
	CHECK(LOOK6(&t, 0, 0, 0, 0) == NULL);	/* families are apart */
	INS6(&t, B, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0);
	CHECK(LOOK6(&t, 0x20010db8, 0, 0, 1) == B);
	INS4(&t, C, 255, 255, 255, 255, 32);
	CHECK(LOOK4(&t, 255, 255, 255, 255) == C);
	CHECK(LOOK4(&t, 255, 255, 255, 254) == A);
	INS6(&t, D, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 128);
	CHECK(LOOK6(&t, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff) == D);
	CHECK(LOOK6(&t, 0xffffffff, 0xffffffff, 0xffffffff, 0xfffffffe) == B);
	allowedips_free(&t);
}

static void test_bad_arguments(void)
{
	struct allowedips t;
	uint64_t seq;

	allowedips_init(&t);
	CHECK(allowedips_insert(&t, AF_INET, ip4(1, 2, 3, 4).b, 33, A) == -EINVAL);
	CHECK(allowedips_insert(&t, AF_INET6, ip4(1, 2, 3, 4).b, 129, A) == -EINVAL);
	CHECK(allowedips_insert(&t, AF_UNIX, ip4(1, 2, 3, 4).b, 8, A) == -EINVAL);
	CHECK(allowedips_insert(&t, AF_INET, ip4(1, 2, 3, 4).b, 8, NULL) == -EINVAL);
	CHECK(allowedips_lookup(&t, AF_UNIX, ip4(1, 2, 3, 4).b) == NULL);
	seq = t.seq;
	INS4(&t, A, 1, 2, 3, 4, 8);
	CHECK(t.seq != seq);
	CHECK(allowedips_remove(&t, AF_INET, ip4(1, 0, 0, 0).b, 8, B) == -ENOENT);
	CHECK(allowedips_remove(&t, AF_INET, ip4(1, 0, 0, 0).b, 9, A) == -ENOENT);
	CHECK(allowedips_remove(&t, AF_INET, ip4(1, 0, 0, 0).b, 7, A) == -ENOENT);
	CHECK(LOOK4(&t, 1, 9, 9, 9) == A);
	allowedips_free(&t);
}

/* Overlaps: removing a covering or covered prefix leaves the other. */
static void test_remove(void)
{
	struct allowedips t;

	allowedips_init(&t);
	INS4(&t, A, 192, 168, 0, 0, 16);
	INS4(&t, B, 192, 168, 1, 0, 24);
	INS4(&t, C, 192, 168, 2, 0, 24);
	INS4(&t, D, 192, 168, 1, 7, 32);
	CHECK(allowedips_remove(&t, AF_INET, ip4(192, 168, 1, 99).b, 24, B) == 0);
	CHECK(LOOK4(&t, 192, 168, 1, 8) == A);
	CHECK(LOOK4(&t, 192, 168, 1, 7) == D);
	CHECK(LOOK4(&t, 192, 168, 2, 1) == C);
	CHECK(allowedips_remove(&t, AF_INET, ip4(192, 168, 0, 0).b, 16, A) == 0);
	CHECK(LOOK4(&t, 192, 168, 1, 8) == NULL);
	CHECK(LOOK4(&t, 192, 168, 1, 7) == D);
	CHECK(LOOK4(&t, 192, 168, 2, 1) == C);
	CHECK(allowedips_remove(&t, AF_INET, ip4(192, 168, 0, 0).b, 16, A) == -ENOENT);
	CHECK(allowedips_remove(&t, AF_INET, ip4(192, 168, 1, 7).b, 32, D) == 0);
	CHECK(allowedips_remove(&t, AF_INET, ip4(192, 168, 2, 0).b, 24, C) == 0);
	CHECK(t.root4 == NULL);
	CHECK(LOOK4(&t, 192, 168, 2, 1) == NULL);
	/* Reinsert after emptying, and a /128 beside its /127 sibling. */
	INS6(&t, E, 0x20010db8, 0, 0, 2, 128);
	INS6(&t, F, 0x20010db8, 0, 0, 3, 128);
	INS6(&t, G, 0x20010db8, 0, 0, 2, 127);
	CHECK(allowedips_remove(&t, AF_INET6, ip6(0x20010db8, 0, 0, 3).b, 128, F) == 0);
	CHECK(LOOK6(&t, 0x20010db8, 0, 0, 3) == G);
	CHECK(LOOK6(&t, 0x20010db8, 0, 0, 2) == E);
	allowedips_free(&t);
}

static void test_remove_by_peer(void)
{
	struct allowedips t;

	allowedips_init(&t);
	INS4(&t, A, 1, 0, 0, 0, 32);
	INS4(&t, A, 64, 0, 0, 0, 32);
	INS4(&t, A, 128, 0, 0, 0, 32);
	INS4(&t, A, 192, 0, 0, 0, 32);
	INS4(&t, A, 255, 0, 0, 0, 32);
	INS4(&t, B, 128, 0, 0, 0, 1);
	INS6(&t, A, 0x20010db8, 0, 0, 0, 32);
	allowedips_remove_by_peer(&t, A);
	CHECK(LOOK4(&t, 1, 0, 0, 0) == NULL);
	CHECK(LOOK4(&t, 64, 0, 0, 0) == NULL);
	CHECK(LOOK4(&t, 128, 0, 0, 0) == B);
	CHECK(LOOK4(&t, 192, 0, 0, 0) == B);
	CHECK(LOOK4(&t, 255, 0, 0, 0) == B);
	CHECK(LOOK6(&t, 0x20010db8, 0, 0, 1) == NULL);
	CHECK(t.root6 == NULL);
	allowedips_free(&t);

	allowedips_init(&t);
	INS4(&t, A, 192, 168, 0, 0, 16);
	INS4(&t, A, 192, 168, 0, 0, 24);
	allowedips_remove_by_peer(&t, A);
	CHECK(LOOK4(&t, 192, 168, 0, 1) == NULL);
	CHECK(t.root4 == NULL);
	allowedips_free(&t);
}

/* A chain as deep as IPv6 allows: 128 nested /128s and their siblings,
 * then freed without recursion. */
static void test_deep_chain(void)
{
	struct allowedips t;
	struct addr ip;

	allowedips_init(&t);
	for (int i = 0; i < 64; i++) {
		uint64_t part = htobe64(~0ULL << i);

		memset(ip.b, 0xff, 8);
		memcpy(ip.b + 8, &part, 8);
		CHECK(allowedips_insert(&t, AF_INET6, ip.b, 128, A) == 0);
		memcpy(ip.b, &part, 8);
		memset(ip.b + 8, 0, 8);
		CHECK(allowedips_insert(&t, AF_INET6, ip.b, 128, A) == 0);
	}
	memset(ip.b, 0, 16);
	CHECK(allowedips_insert(&t, AF_INET6, ip.b, 128, B) == 0);
	for (int cidr = 0; cidr <= 128; cidr++)
		CHECK(allowedips_insert(&t, AF_INET6, ip.b, (uint8_t)cidr, C) == 0);
	CHECK(allowedips_lookup(&t, AF_INET6, ip.b) == C);
	allowedips_remove_by_peer(&t, C);
	CHECK(allowedips_lookup(&t, AF_INET6, ip.b) == NULL);
	allowedips_free(&t);
}

struct walk_seen {
	int family[8];
	struct addr addr[8];
	uint8_t cidr[8];
	int n;
	int stop_after;
};

static bool walk_collect(void *ctx, int family, const uint8_t *addr, uint8_t cidr)
{
	struct walk_seen *s = ctx;

	if (s->n < 8) {
		s->family[s->n] = family;
		memset(s->addr[s->n].b, 0, 16);
		memcpy(s->addr[s->n].b, addr, family == AF_INET ? 4 : 16);
		s->cidr[s->n] = cidr;
	}
	s->n++;
	return s->n != s->stop_after;
}

static void test_walk(void)
{
	struct walk_seen s = { .stop_after = -1 };
	struct allowedips t;

	allowedips_init(&t);
	INS4(&t, A, 192, 95, 5, 93, 27);
	INS6(&t, A, 0x26075300, 0x60006b00, 0, 0xc05f0543, 128);
	INS4(&t, A, 10, 1, 0, 20, 29);
	INS6(&t, A, 0x26075300, 0x6d8a6bf8, 0xdab1f1df, 0xc05f1523, 83);
	INS6(&t, A, 0x26075300, 0x6d8a6bf8, 0xdab1f1df, 0xc05f1523, 21);
	INS4(&t, B, 10, 1, 0, 0, 16);
	allowedips_walk_by_peer(&t, A, walk_collect, &s);
	CHECK(s.n == 5);
	/* IPv4 first, then by address, a shorter prefix before a longer. */
	CHECK(s.family[0] == AF_INET && s.cidr[0] == 29);
	CHECK_MEM(s.addr[0].b, ip4(10, 1, 0, 16).b, 16);
	CHECK(s.family[1] == AF_INET && s.cidr[1] == 27);
	CHECK_MEM(s.addr[1].b, ip4(192, 95, 5, 64).b, 16);
	CHECK(s.family[2] == AF_INET6 && s.cidr[2] == 21);
	CHECK_MEM(s.addr[2].b, ip6(0x26075000, 0, 0, 0).b, 16);
	CHECK(s.family[3] == AF_INET6 && s.cidr[3] == 128);
	CHECK_MEM(s.addr[3].b, ip6(0x26075300, 0x60006b00, 0, 0xc05f0543).b, 16);
	CHECK(s.family[4] == AF_INET6 && s.cidr[4] == 83);
	CHECK_MEM(s.addr[4].b, ip6(0x26075300, 0x6d8a6bf8, 0xdab1e000, 0).b, 16);

	s = (struct walk_seen){ .stop_after = 2 };
	allowedips_walk_by_peer(&t, A, walk_collect, &s);
	CHECK(s.n == 2);
	s = (struct walk_seen){ .stop_after = -1 };
	allowedips_walk_by_peer(&t, C, walk_collect, &s);
	CHECK(s.n == 0);
	allowedips_free(&t);
}

/* Reference: a flat list of (family, prefix, cidr, peer). */
struct ref_entry {
	int family;
	struct addr a;
	uint8_t cidr;
	void *peer;
};

#define REF_MAX 20000
static struct ref_entry ref[REF_MAX];
static size_t ref_n;

static unsigned family_bits(int family)
{
	return family == AF_INET ? 32 : 128;
}

static bool ref_covers(const uint8_t *prefix, const uint8_t *addr, unsigned cidr)
{
	for (unsigned i = 0; i < cidr; i++) {
		unsigned bit = 7 - i % 8;

		if (((prefix[i / 8] >> bit) & 1) != ((addr[i / 8] >> bit) & 1))
			return false;
	}
	return true;
}

static void ref_mask(struct addr *a, unsigned cidr)
{
	for (unsigned i = cidr; i < 128; i++)
		a->b[i / 8] &= (uint8_t)~(1u << (7 - i % 8));
}

static struct ref_entry *ref_find(int family, const struct addr *a, uint8_t cidr)
{
	for (size_t i = 0; i < ref_n; i++)
		if (ref[i].family == family && ref[i].cidr == cidr &&
		    memcmp(ref[i].a.b, a->b, 16) == 0)
			return &ref[i];
	return NULL;
}

static void ref_insert(int family, struct addr a, uint8_t cidr, void *peer)
{
	struct ref_entry *e;

	ref_mask(&a, cidr);
	e = ref_find(family, &a, cidr);
	if (e) {
		e->peer = peer;
		return;
	}
	if (ref_n < REF_MAX)
		ref[ref_n++] = (struct ref_entry){ family, a, cidr, peer };
}

static int ref_remove(int family, struct addr a, uint8_t cidr, void *peer)
{
	struct ref_entry *e;

	ref_mask(&a, cidr);
	e = ref_find(family, &a, cidr);
	if (!e || e->peer != peer)
		return -ENOENT;
	*e = ref[--ref_n];
	return 0;
}

static void ref_remove_by_peer(void *peer)
{
	for (size_t i = 0; i < ref_n;)
		if (ref[i].peer == peer)
			ref[i] = ref[--ref_n];
		else
			i++;
}

static void *ref_lookup(int family, const struct addr *a)
{
	const struct ref_entry *best = NULL;

	for (size_t i = 0; i < ref_n; i++)
		if (ref[i].family == family && (!best || ref[i].cidr > best->cidr) &&
		    ref_covers(ref[i].a.b, a->b, ref[i].cidr))
			best = &ref[i];
	return best ? best->peer : NULL;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* Half fully random, half an existing prefix with a few bits flipped, so
 * prefixes nest and share long stems as real tables do. */
static struct addr random_addr(int family)
{
	struct addr a = { 0 };
	size_t len = family == AF_INET ? 4 : 16;

	if (ref_n && rng() % 2) {
		const struct ref_entry *e = &ref[rng() % ref_n];
		unsigned bits = family_bits(family);

		if (e->family == family) {
			a = e->a;
			for (int flips = (int)(rng() % 3); flips-- > 0;) {
				unsigned i = (unsigned)(rng() % bits);

				a.b[i / 8] ^= (uint8_t)(1u << (7 - i % 8));
			}
			return a;
		}
	}
	for (size_t i = 0; i < len; i++)
		a.b[i] = (uint8_t)rng();
	return a;
}

static uint8_t random_cidr(int family)
{
	unsigned bits = family_bits(family);

	if (rng() % 4 == 0)
		return (uint8_t)(rng() % 4 ? bits : 0);
	return (uint8_t)(rng() % (bits + 1));
}

static unsigned compare_lookups(const struct allowedips *t, int family, int n)
{
	unsigned bad = 0;

	for (int i = 0; i < n; i++) {
		struct addr a = random_addr(family);

		if (allowedips_lookup(t, family, a.b) != ref_lookup(family, &a) &&
		    bad++ < 5)
			fprintf(stderr, "lookup mismatch (family %d)\n", family);
	}
	return bad;
}

static void random_step(struct allowedips *t, int family)
{
	unsigned op = (unsigned)(rng() % 1000);
	void *peer = &peers[rng() % 16];
	struct addr a = random_addr(family);
	uint8_t cidr = random_cidr(family);

	if (op < 650) {
		CHECK(allowedips_insert(t, family, a.b, cidr, peer) == 0);
		ref_insert(family, a, cidr, peer);
	} else if (op < 850 && ref_n) {
		/* An existing prefix, with its owner or (sometimes) not. */
		const struct ref_entry *e = &ref[rng() % ref_n];

		if (rng() % 4)
			peer = e->peer;
		a = e->a;
		a.b[15] |= e->family == AF_INET6 && e->cidr < 128;	/* host bit */
		CHECK(allowedips_remove(t, e->family, a.b, e->cidr, peer) ==
		      ref_remove(e->family, a, e->cidr, peer));
	} else if (op < 998) {
		CHECK(allowedips_remove(t, family, a.b, cidr, peer) ==
		      ref_remove(family, a, cidr, peer));
	} else {
		allowedips_remove_by_peer(t, peer);
		ref_remove_by_peer(peer);
	}
}

struct walk_check {
	void *peer;
	size_t n;
	bool ok;
	int last_family;
	struct addr last;
	uint8_t last_cidr;
};

static bool walk_in_order(const struct walk_check *w, int family,
			  const struct addr *a, uint8_t cidr)
{
	int c;

	if (w->n == 0 || family != w->last_family)
		return w->n == 0 || family == AF_INET6;
	c = memcmp(w->last.b, a->b, 16);
	return c < 0 || (c == 0 && w->last_cidr < cidr);
}

static bool walk_check_fn(void *ctx, int family, const uint8_t *addr, uint8_t cidr)
{
	struct walk_check *w = ctx;
	struct addr a = { 0 };
	struct ref_entry *e;

	memcpy(a.b, addr, family == AF_INET ? 4 : 16);
	e = ref_find(family, &a, cidr);
	if (!e || e->peer != w->peer || !walk_in_order(w, family, &a, cidr))
		w->ok = false;
	w->n++;
	w->last_family = family;
	w->last = a;
	w->last_cidr = cidr;
	return true;
}

static void check_walks(const struct allowedips *t)
{
	for (int p = 0; p < 16; p++) {
		struct walk_check w = { .peer = &peers[p], .ok = true };
		size_t want = 0;

		for (size_t i = 0; i < ref_n; i++)
			want += ref[i].peer == w.peer;
		allowedips_walk_by_peer(t, w.peer, walk_check_fn, &w);
		CHECK(w.ok);
		CHECK(w.n == want);
	}
}

static void test_random_vs_reference(void)
{
	struct allowedips t;
	unsigned bad = 0;

	allowedips_init(&t);
	ref_n = 0;
	for (int round = 0; round < 60; round++) {
		for (int i = 0; i < 100; i++) {
			random_step(&t, AF_INET);
			random_step(&t, AF_INET6);
		}
		bad += compare_lookups(&t, AF_INET, 300);
		bad += compare_lookups(&t, AF_INET6, 300);
	}
	printf("allowedips: %zu random routes\n", ref_n);
	CHECK(ref_n > 1000);
	bad += compare_lookups(&t, AF_INET, 20000);
	bad += compare_lookups(&t, AF_INET6, 20000);
	CHECK(bad == 0);
	check_walks(&t);
	for (int p = 0; p < 16; p += 2) {
		allowedips_remove_by_peer(&t, &peers[p]);
		ref_remove_by_peer(&peers[p]);
	}
	CHECK(compare_lookups(&t, AF_INET, 5000) == 0);
	CHECK(compare_lookups(&t, AF_INET6, 5000) == 0);
	check_walks(&t);
	allowedips_free(&t);
	ref_n = 0;
}

/* Informational only: lookups per second over a table of a few thousand
 * routes, addresses mostly inside them. */
static double lookup_rate(const struct allowedips *t, int family)
{
	enum { N_ADDRS = 1 << 14, ROUNDS = 64 };
	static struct addr addrs[N_ADDRS];
	uintptr_t sink = 0;
	monotime_ns start, elapsed;

	for (int i = 0; i < N_ADDRS; i++)
		addrs[i] = random_addr(family);
	start = monotime_now();
	for (int r = 0; r < ROUNDS; r++)
		for (int i = 0; i < N_ADDRS; i++)
			sink += (uintptr_t)allowedips_lookup(t, family, addrs[i].b);
	elapsed = monotime_now() - start;
	if (sink == 1)
		printf("(sink)\n");
	return (double)N_ADDRS * ROUNDS / ((double)(elapsed ? elapsed : 1) / 1e9);
}

static void test_lookup_rate(void)
{
	struct allowedips t;
	double v4, v6;

	allowedips_init(&t);
	ref_n = 0;
	for (int i = 0; i < 4000; i++) {
		int family = i % 2 ? AF_INET6 : AF_INET;
		struct addr a = random_addr(family);
		uint8_t cidr = (uint8_t)(family == AF_INET ? 8 + rng() % 25 : 16 + rng() % 113);

		CHECK(allowedips_insert(&t, family, a.b, cidr, &peers[i % 16]) == 0);
		ref_insert(family, a, cidr, &peers[i % 16]);
	}
	v4 = lookup_rate(&t, AF_INET);
	v6 = lookup_rate(&t, AF_INET6);
	printf("allowedips: %.1f M lookups/s IPv4, %.1f M lookups/s IPv6 "
	       "(%zu routes, informational)\n", v4 / 1e6, v6 / 1e6, ref_n);
	allowedips_free(&t);
	ref_n = 0;
}

TEST_MAIN("allowedips",
	  TEST(test_selftest_lookups),
	  TEST(test_empty_and_default),
	  TEST(test_bad_arguments),
	  TEST(test_remove),
	  TEST(test_remove_by_peer),
	  TEST(test_deep_chain),
	  TEST(test_walk),
	  TEST(test_random_vs_reference),
	  TEST(test_lookup_rate))
