/* strmap: byte strings to indices, open addressing with linear probing.
 * Keys are not copied: they must outlive the map (they live in an arena or
 * in the struct policy). Built once, then read by any number of threads. */
#ifndef EGRESS_POLICY_STRMAP_H
#define EGRESS_POLICY_STRMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct strmap_slot {
	const void *key;
	uint32_t len;
	uint32_t value;
	uint64_t hash;
};

struct strmap {
	struct strmap_slot *slots;	/* key NULL = empty */
	size_t mask;			/* slots - 1; 0 when unallocated */
	size_t n;
};

uint64_t policy_strmap_hash(const void *key, size_t len);

void policy_strmap_init(struct strmap *m);
void policy_strmap_free(struct strmap *m);
/* Inserts key -> value unless key is present. Returns the value now
 * stored for key (the old one when present), or UINT32_MAX on ENOMEM. */
uint32_t policy_strmap_put(struct strmap *m, const void *key, size_t len, uint32_t value);
/* UINT32_MAX when absent. */
uint32_t policy_strmap_get(const struct strmap *m, const void *key, size_t len);
/* The same with the hash already computed (policy_strmap_hash). */
uint32_t policy_strmap_get_hashed(const struct strmap *m, const void *key, size_t len,
				  uint64_t hash);
size_t policy_strmap_bytes(const struct strmap *m);

static inline uint32_t policy_strmap_gets(const struct strmap *m, const char *s)
{
	return policy_strmap_get(m, s, strlen(s));
}

#endif
