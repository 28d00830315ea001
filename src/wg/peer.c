/* peer: lifetime of a peer and of its sessions (keypairs). */
#include "wg/peer.h"
#include "wg/device.h"
#include "crypto/crypto.h"

#include <stdlib.h>
#include <string.h>

static size_t peer_bucket(const uint8_t key[NOISE_PUBLIC_KEY_LEN])
{
	uint32_t h;

	/* Public keys are uniformly random: their first bytes hash well. */
	memcpy(&h, key, sizeof(h));
	return h % WG_PEER_HASH_BUCKETS;
}

struct wg_peer *wg_peer_lookup(const struct wg_device *dev,
			       const uint8_t public_key[NOISE_PUBLIC_KEY_LEN])
{
	struct wg_peer *p = dev->peer_hash[peer_bucket(public_key)];

	while (p && memcmp(p->public_key, public_key, NOISE_PUBLIC_KEY_LEN))
		p = p->hash_next;
	return p;
}

static void peer_link(struct wg_device *dev, struct wg_peer *peer)
{
	size_t b = peer_bucket(peer->public_key);

	peer->hash_next = dev->peer_hash[b];
	dev->peer_hash[b] = peer;
	peer->list_prev = dev->peers_tail;
	if (dev->peers_tail)
		dev->peers_tail->list_next = peer;
	else
		dev->peers_head = peer;
	dev->peers_tail = peer;
	dev->n_peers++;
}

static void peer_unlink(struct wg_device *dev, struct wg_peer *peer)
{
	struct wg_peer **pp = &dev->peer_hash[peer_bucket(peer->public_key)];

	while (*pp && *pp != peer)
		pp = &(*pp)->hash_next;
	if (*pp)
		*pp = peer->hash_next;
	if (peer->list_prev)
		peer->list_prev->list_next = peer->list_next;
	else
		dev->peers_head = peer->list_next;
	if (peer->list_next)
		peer->list_next->list_prev = peer->list_prev;
	else
		dev->peers_tail = peer->list_prev;
	for (struct wg_peer **xp = &dev->xmit_list; *xp; xp = &(*xp)->xmit_next) {
		if (*xp == peer) {
			*xp = peer->xmit_next;
			break;
		}
	}
	dev->n_peers--;
}

struct wg_peer *wg_peer_create(struct wg_device *dev,
			       const uint8_t public_key[NOISE_PUBLIC_KEY_LEN],
			       const uint8_t preshared_key[NOISE_SYMMETRIC_KEY_LEN])
{
	struct wg_peer *peer;

	if (dev->n_peers >= MAX_PEERS_PER_DEVICE)
		return NULL;
	peer = calloc(1, sizeof(*peer));
	if (!peer)
		return NULL;
	peer->device = dev;
	peer->serial = dev->next_peer_serial++;
	memcpy(peer->public_key, public_key, NOISE_PUBLIC_KEY_LEN);
	noise_handshake_init(&peer->handshake, &dev->identity, public_key,
			     preshared_key, peer);
	cookie_init(&peer->latest_cookie);
	cookie_precompute_peer_keys(&peer->latest_cookie, public_key);
	wg_timers_init(&peer->timers, &wg_device_timer_actions);
	/* Peers that lost a session together must not retry in lock step. */
	crypto_random(&peer->timers.jitter_state, sizeof(peer->timers.jitter_state));
	peer->timers.jitter_state |= 1;
	peer_link(dev, peer);
	return peer;
}

static void keypair_free(struct wg_device *dev, struct noise_keypair **slot)
{
	struct noise_keypair *kp = *slot;

	if (!kp)
		return;
	*slot = NULL;
	wg_index_remove(&dev->index, kp->local_index);
	noise_keypair_wipe(kp);
	free(kp);
}

void wg_peer_keypairs_clear(struct wg_peer *peer)
{
	struct wg_device *dev = peer->device;

	keypair_free(dev, &peer->keypairs.current_keypair);
	keypair_free(dev, &peer->keypairs.previous_keypair);
	keypair_free(dev, &peer->keypairs.next_keypair);
}

void wg_peer_remove(struct wg_peer *peer)
{
	struct wg_device *dev = peer->device;

	allowedips_remove_by_peer(&dev->allowedips, peer);
	wg_timers_stop(&peer->timers);
	wg_peer_keypairs_clear(peer);
	wg_index_remove(&dev->index, peer->handshake.local_index);
	noise_handshake_clear(&peer->handshake);
	crypto_wipe(&peer->handshake, sizeof(peer->handshake));
	crypto_wipe(&peer->latest_cookie, sizeof(peer->latest_cookie));
	pkt_queue_purge(&peer->staged, &dev->pool);
	peer_unlink(dev, peer);
	free(peer);
}

bool wg_peer_add_new_keypair(struct wg_peer *peer, struct noise_keypair *kp)
{
	struct wg_device *dev = peer->device;
	struct noise_keypairs *k = &peer->keypairs;

	/* kp->local_index is the handshake's: it now names this session. */
	if (!wg_index_promote_to_keypair(&dev->index, kp->local_index, kp))
		return false;
	peer->handshake.local_index = 0;
	kp->owner = peer;
	if (kp->i_am_the_initiator) {
		/* Confirmed by the response: usable now. An unconfirmed next
		 * becomes previous, so its packets in flight still decrypt. */
		if (k->next_keypair) {
			keypair_free(dev, &k->previous_keypair);
			k->previous_keypair = k->next_keypair;
			k->next_keypair = NULL;
			keypair_free(dev, &k->current_keypair);
		} else {
			keypair_free(dev, &k->previous_keypair);
			k->previous_keypair = k->current_keypair;
		}
		k->current_keypair = kp;
	} else {
		/* Responder: wait for the initiator's first data packet. */
		keypair_free(dev, &k->next_keypair);
		keypair_free(dev, &k->previous_keypair);
		k->next_keypair = kp;
	}
	return true;
}

bool wg_peer_received_with_keypair(struct wg_peer *peer, struct noise_keypair *kp)
{
	struct noise_keypairs *k = &peer->keypairs;

	if (kp != k->next_keypair)
		return false;
	keypair_free(peer->device, &k->previous_keypair);
	k->previous_keypair = k->current_keypair;
	k->current_keypair = kp;
	k->next_keypair = NULL;
	return true;
}

struct noise_keypair *wg_peer_sending_keypair(struct wg_peer *peer, monotime_ns now)
{
	struct noise_keypair *kp = peer->keypairs.current_keypair;

	if (!kp || !kp->sending.is_valid)
		return NULL;
	if (monotime_expired(kp->sending.birthdate, SECONDS(REJECT_AFTER_TIME), now) ||
	    kp->sending_counter >= REJECT_AFTER_MESSAGES) {
		kp->sending.is_valid = false;
		return NULL;
	}
	return kp;
}

void wg_peer_expire_current_keypair(struct wg_peer *peer)
{
	if (peer->keypairs.next_keypair)
		peer->keypairs.next_keypair->sending.is_valid = false;
	if (peer->keypairs.current_keypair)
		peer->keypairs.current_keypair->sending.is_valid = false;
}

void wg_peer_set_endpoint(struct wg_peer *peer, const struct wg_endpoint *ep)
{
	peer->endpoint = *ep;
}
