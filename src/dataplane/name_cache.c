/* name_cache: address -> domain name, as learned from DNS answers and TLS
 * SNI, so that a new session to an address can be classified by the name
 * the client looked up. One array of entries allocated up front, chained
 * by index from a bucket array, and one LRU list: a put takes a free
 * entry or the least recently used one. Expired entries are dropped when
 * looked up, or reused through the LRU. The hash is keyed (SipHash-2-4)
 * because DNS answers, and so the addresses, come from outside. */
#include "dataplane/name_cache.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define NIL UINT32_MAX
#define NAME_CACHE_MAX_ENTRIES ((size_t)1 << 28)

struct name_entry {
	struct ip_addr addr;
	char name[NAME_CACHE_NAME_MAX];
	monotime_ns expires;
	uint32_t hnext, lru_prev, lru_next;
};

struct name_cache {
	struct name_entry *e;
	uint32_t *buckets;
	size_t max, mask, count, fresh;
	uint32_t free_head;		/* released entries, linked by lru_next */
	uint32_t lru_head, lru_tail;	/* head is the most recently used */
	uint32_t min_ttl, max_ttl;
	uint8_t key[crypto_shorthash_KEYBYTES];
};

static uint32_t name_hash(const struct name_cache *nc, const struct ip_addr *a)
{
	uint8_t in[1 + sizeof(a->a)], out[crypto_shorthash_BYTES];
	size_t n = ip_addr_bytes(a->family);

	in[0] = a->family;
	memcpy(in + 1, a->a, n);
	crypto_shorthash(out, in, 1 + n, nc->key);
	return (uint32_t)out[0] | (uint32_t)out[1] << 8 | (uint32_t)out[2] << 16 |
	       (uint32_t)out[3] << 24;
}

static bool name_addr_equal(const struct ip_addr *x, const struct ip_addr *y)
{
	return x->family == y->family && !memcmp(x->a, y->a, ip_addr_bytes(x->family));
}

struct name_cache *name_cache_create(size_t max_entries, uint32_t min_ttl_s,
				     uint32_t max_ttl_s)
{
	struct name_cache *nc;
	size_t nb = 16;

	if (max_entries == 0 || max_entries > NAME_CACHE_MAX_ENTRIES || sodium_init() < 0)
		return NULL;
	while (nb < max_entries)
		nb <<= 1;
	nc = calloc(1, sizeof(*nc));
	if (!nc)
		return NULL;
	nc->e = calloc(max_entries, sizeof(*nc->e));
	nc->buckets = malloc(nb * sizeof(*nc->buckets));
	if (!nc->e || !nc->buckets) {
		name_cache_destroy(nc);
		return NULL;
	}
	memset(nc->buckets, 0xff, nb * sizeof(*nc->buckets));
	nc->max = max_entries;
	nc->mask = nb - 1;
	nc->free_head = nc->lru_head = nc->lru_tail = NIL;
	nc->min_ttl = min_ttl_s;
	nc->max_ttl = max_ttl_s < min_ttl_s ? min_ttl_s : max_ttl_s;
	randombytes_buf(nc->key, sizeof(nc->key));
	return nc;
}

void name_cache_destroy(struct name_cache *nc)
{
	if (!nc)
		return;
	free(nc->e);
	free(nc->buckets);
	free(nc);
}

static uint32_t *name_bucket(struct name_cache *nc, const struct ip_addr *a)
{
	return &nc->buckets[name_hash(nc, a) & nc->mask];
}

static struct name_entry *name_find(struct name_cache *nc, const struct ip_addr *a)
{
	for (uint32_t i = *name_bucket(nc, a); i != NIL; i = nc->e[i].hnext)
		if (name_addr_equal(&nc->e[i].addr, a))
			return &nc->e[i];
	return NULL;
}

static void name_lru_unlink(struct name_cache *nc, struct name_entry *x)
{
	if (x->lru_prev != NIL)
		nc->e[x->lru_prev].lru_next = x->lru_next;
	else
		nc->lru_head = x->lru_next;
	if (x->lru_next != NIL)
		nc->e[x->lru_next].lru_prev = x->lru_prev;
	else
		nc->lru_tail = x->lru_prev;
}

static void name_lru_push(struct name_cache *nc, struct name_entry *x)
{
	uint32_t i = (uint32_t)(x - nc->e);

	x->lru_prev = NIL;
	x->lru_next = nc->lru_head;
	if (nc->lru_head != NIL)
		nc->e[nc->lru_head].lru_prev = i;
	else
		nc->lru_tail = i;
	nc->lru_head = i;
}

static void name_remove(struct name_cache *nc, struct name_entry *x)
{
	uint32_t i = (uint32_t)(x - nc->e), *pp = name_bucket(nc, &x->addr);

	while (*pp != i)
		pp = &nc->e[*pp].hnext;
	*pp = x->hnext;
	name_lru_unlink(nc, x);
	x->lru_next = nc->free_head;
	nc->free_head = i;
	nc->count--;
}

/* A free entry, a never used one, or the least recently used one. */
static struct name_entry *name_slot(struct name_cache *nc)
{
	struct name_entry *x;

	if (nc->free_head == NIL && nc->fresh < nc->max)
		return &nc->e[nc->fresh++];
	if (nc->free_head == NIL)
		name_remove(nc, &nc->e[nc->lru_tail]);
	x = &nc->e[nc->free_head];
	nc->free_head = x->lru_next;
	return x;
}

/* Copies name lower-cased; 0 when empty or too long, else its length. */
static size_t name_copy_lower(char *dst, const char *src)
{
	size_t n = strnlen(src, NAME_CACHE_NAME_MAX);

	if (n >= NAME_CACHE_NAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)	/* ASCII only: no locale in the data path */
		dst[i] = (char)(src[i] >= 'A' && src[i] <= 'Z' ? src[i] + ('a' - 'A') : src[i]);
	dst[n] = '\0';
	return n;
}

void name_cache_put(struct name_cache *nc, const struct ip_addr *a, const char *name,
		    uint32_t ttl_s, monotime_ns now)
{
	char lower[NAME_CACHE_NAME_MAX];
	uint32_t ttl = ttl_s < nc->min_ttl ? nc->min_ttl : ttl_s;
	struct name_entry *x;
	size_t len;

	if (ttl > nc->max_ttl)
		ttl = nc->max_ttl;
	if (a->family != AF_INET && a->family != AF_INET6)
		return;
	len = name_copy_lower(lower, name);
	if (len == 0)
		return;
	x = name_find(nc, a);
	if (x) {
		name_lru_unlink(nc, x);
	} else {
		uint32_t *head;

		x = name_slot(nc);
		ip_addr_set(&x->addr, a->family, a->a);
		head = name_bucket(nc, &x->addr);
		x->hnext = *head;
		*head = (uint32_t)(x - nc->e);
		nc->count++;
	}
	memcpy(x->name, lower, len + 1);
	x->expires = now + SECONDS(ttl);
	name_lru_push(nc, x);
}

const char *name_cache_get(struct name_cache *nc, const struct ip_addr *a, monotime_ns now)
{
	struct name_entry *x;

	if (a->family != AF_INET && a->family != AF_INET6)
		return NULL;
	x = name_find(nc, a);
	if (!x)
		return NULL;
	if (now >= x->expires) {
		name_remove(nc, x);
		return NULL;
	}
	name_lru_unlink(nc, x);
	name_lru_push(nc, x);
	return x->name;
}

size_t name_cache_count(const struct name_cache *nc)
{
	return nc->count;
}
