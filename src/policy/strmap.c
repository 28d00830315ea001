/* strmap: the hash is a 64-bit multiply-xorshift over 8-byte words (fast
 * on short names and domains). Lookups on names from the network cannot
 * degrade the table since it is never modified after compile. */
#include "policy/strmap.h"

#include <stdlib.h>
#include <string.h>

uint64_t policy_strmap_hash(const void *key, size_t len)
{
	const unsigned char *p = key;
	uint64_t h = 0x9e3779b97f4a7c15ull ^ (len * 0xff51afd7ed558ccdull);

	while (len >= 8) {
		uint64_t w;

		memcpy(&w, p, 8);
		h = (h ^ w) * 0xbf58476d1ce4e5b9ull;
		h ^= h >> 31;
		p += 8;
		len -= 8;
	}
	if (len) {
		uint64_t w = 0;

		memcpy(&w, p, len);
		h = (h ^ w) * 0x94d049bb133111ebull;
		h ^= h >> 29;
	}
	h *= 0xbf58476d1ce4e5b9ull;
	return h ^ (h >> 32);
}

void policy_strmap_init(struct strmap *m)
{
	memset(m, 0, sizeof(*m));
}

void policy_strmap_free(struct strmap *m)
{
	free(m->slots);
	policy_strmap_init(m);
}

static struct strmap_slot *strmap_find(const struct strmap *m, const void *key,
				       size_t len, uint64_t hash)
{
	size_t i = (size_t)hash & m->mask;

	for (;; i = (i + 1) & m->mask) {
		struct strmap_slot *s = &m->slots[i];

		if (!s->key)
			return s;
		if (s->hash == hash && s->len == len && !memcmp(s->key, key, len))
			return s;
	}
}

static bool strmap_grow(struct strmap *m)
{
	size_t cap = m->mask ? (m->mask + 1) * 2 : 16;
	struct strmap old = *m;

	m->slots = calloc(cap, sizeof(*m->slots));
	if (!m->slots) {
		*m = old;
		return false;
	}
	m->mask = cap - 1;
	for (size_t i = 0; old.mask && i <= old.mask; i++)
		if (old.slots[i].key)
			*strmap_find(m, old.slots[i].key, old.slots[i].len,
				     old.slots[i].hash) = old.slots[i];
	free(old.slots);
	return true;
}

uint32_t policy_strmap_put(struct strmap *m, const void *key, size_t len, uint32_t value)
{
	uint64_t hash;
	struct strmap_slot *s;

	if (!key)
		key = "";
	hash = policy_strmap_hash(key, len);
	if (len > UINT32_MAX)
		return UINT32_MAX;
	/* Keep the load under 1/2: probes stay short. */
	if ((m->n + 1) * 2 > (m->mask ? m->mask + 1 : 0) && !strmap_grow(m))
		return UINT32_MAX;
	s = strmap_find(m, key, len, hash);
	if (s->key)
		return s->value;
	*s = (struct strmap_slot){ .key = key, .len = (uint32_t)len,
				   .value = value, .hash = hash };
	m->n++;
	return value;
}

uint32_t policy_strmap_get_hashed(const struct strmap *m, const void *key, size_t len,
				  uint64_t hash)
{
	if (!m->mask)
		return UINT32_MAX;
	const struct strmap_slot *s = strmap_find(m, key, len, hash);

	return s->key ? s->value : UINT32_MAX;
}

uint32_t policy_strmap_get(const struct strmap *m, const void *key, size_t len)
{
	if (!m->mask)
		return UINT32_MAX;
	return policy_strmap_get_hashed(m, key, len, policy_strmap_hash(key, len));
}

size_t policy_strmap_bytes(const struct strmap *m)
{
	return m->mask ? (m->mask + 1) * sizeof(*m->slots) : 0;
}
