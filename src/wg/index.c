/* index: a chained hash table keyed by random indices (already uniform,
 * so the low bits are the hash). */
#include "wg/index.h"
#include "crypto/crypto.h"

#include <stdlib.h>

void wg_index_init(struct wg_index_table *t)
{
	for (size_t i = 0; i < WG_INDEX_BUCKETS; i++)
		t->buckets[i] = NULL;
	t->n = 0;
}

void wg_index_destroy(struct wg_index_table *t)
{
	for (size_t i = 0; i < WG_INDEX_BUCKETS; i++) {
		while (t->buckets[i]) {
			struct wg_index_entry *e = t->buckets[i];

			t->buckets[i] = e->next;
			free(e);
		}
	}
	t->n = 0;
}

static struct wg_index_entry **bucket(struct wg_index_table *t, uint32_t index)
{
	return &t->buckets[index % WG_INDEX_BUCKETS];
}

const struct wg_index_entry *wg_index_lookup(const struct wg_index_table *t,
					     uint32_t index)
{
	const struct wg_index_entry *e = t->buckets[index % WG_INDEX_BUCKETS];

	while (e && e->index != index)
		e = e->next;
	return e;
}

uint32_t wg_index_insert(struct wg_index_table *t, enum wg_index_type type,
			 struct wg_peer *peer, struct noise_keypair *kp)
{
	struct wg_index_entry *e = malloc(sizeof(*e));
	uint32_t index;

	if (!e)
		return 0;
	do
		crypto_random(&index, sizeof(index));
	while (index == 0 || wg_index_lookup(t, index));
	*e = (struct wg_index_entry){ .index = index, .type = type, .peer = peer,
				      .keypair = kp, .next = *bucket(t, index) };
	*bucket(t, index) = e;
	t->n++;
	return index;
}

void wg_index_remove(struct wg_index_table *t, uint32_t index)
{
	struct wg_index_entry **pp = bucket(t, index);

	if (index == 0)
		return;
	for (; *pp; pp = &(*pp)->next) {
		if ((*pp)->index == index) {
			struct wg_index_entry *e = *pp;

			*pp = e->next;
			free(e);
			t->n--;
			return;
		}
	}
}

bool wg_index_promote_to_keypair(struct wg_index_table *t, uint32_t index,
				 struct noise_keypair *kp)
{
	struct wg_index_entry *e = (struct wg_index_entry *)wg_index_lookup(t, index);

	if (!e || e->type != INDEX_HANDSHAKE)
		return false;
	e->type = INDEX_KEYPAIR;
	e->keypair = kp;
	return true;
}
