/* index: the table from our 32-bit session indices (the receiver index in
 * responses, cookie replies and data messages) to what they name: a
 * pending handshake or a live keypair. Indices are random so that they
 * reveal nothing and cannot be guessed. */
#ifndef EGRESS_WG_INDEX_H
#define EGRESS_WG_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct wg_peer;
struct noise_keypair;

enum wg_index_type {
	INDEX_HANDSHAKE = 1,
	INDEX_KEYPAIR = 2,
};

struct wg_index_entry {
	uint32_t index;
	enum wg_index_type type;
	struct wg_peer *peer;
	struct noise_keypair *keypair;		/* INDEX_KEYPAIR only */
	struct wg_index_entry *next;
};

#define WG_INDEX_BUCKETS 4096

struct wg_index_table {
	struct wg_index_entry *buckets[WG_INDEX_BUCKETS];
	size_t n;
};

void wg_index_init(struct wg_index_table *t);
void wg_index_destroy(struct wg_index_table *t);
/* Picks a fresh random index, records it; returns it, or 0 on ENOMEM
 * (0 is never handed out). */
uint32_t wg_index_insert(struct wg_index_table *t, enum wg_index_type type,
			 struct wg_peer *peer, struct noise_keypair *kp);
void wg_index_remove(struct wg_index_table *t, uint32_t index);
/* The handshake's index becomes the session's: the peer addresses data to
 * the index it saw in the handshake. False if index is not a handshake. */
bool wg_index_promote_to_keypair(struct wg_index_table *t, uint32_t index,
				 struct noise_keypair *kp);
const struct wg_index_entry *wg_index_lookup(const struct wg_index_table *t,
					     uint32_t index);

#endif
