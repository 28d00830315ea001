/* peer: one remote WireGuard identity and everything the device keeps for
 * it: handshake, sessions, cookie, endpoint, timers, packets waiting for a
 * session, and transfer counters. */
#ifndef EGRESS_WG_PEER_H
#define EGRESS_WG_PEER_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "wg/cookie.h"
#include "wg/endpoint.h"
#include "wg/noise.h"
#include "wg/packet.h"
#include "wg/timers.h"

struct wg_device;

struct wg_peer {
	struct wg_device *device;
	uint8_t public_key[NOISE_PUBLIC_KEY_LEN];
	uint64_t serial;		/* creation order: `wg show` lists by it */

	struct noise_handshake handshake;
	struct noise_keypairs keypairs;
	struct cookie latest_cookie;
	struct wg_endpoint endpoint;
	struct wg_timers timers;
	struct pkt_queue staged;	/* waiting for a session */

	monotime_ns last_sent_handshake;
	struct timespec walltime_last_handshake;
	uint64_t rx_bytes, tx_bytes;
	uint64_t rx_packets, tx_packets;	/* WireGuard messages, as the bytes */

	struct wg_peer *list_prev, *list_next;	/* device's peers, in order */
	struct wg_peer *hash_next;		/* by public key */
	struct wg_peer *xmit_next;		/* peers with staged packets */
	bool on_xmit_list;
};

/* Creates a peer and links it into dev; NULL on ENOMEM or when full. */
struct wg_peer *wg_peer_create(struct wg_device *dev,
			       const uint8_t public_key[NOISE_PUBLIC_KEY_LEN],
			       const uint8_t preshared_key[NOISE_SYMMETRIC_KEY_LEN]);
/* Unlinks the peer from every table, drops its packets, wipes its keys. */
void wg_peer_remove(struct wg_peer *peer);
struct wg_peer *wg_peer_lookup(const struct wg_device *dev,
			       const uint8_t public_key[NOISE_PUBLIC_KEY_LEN]);

/* Sessions. */
void wg_peer_keypairs_clear(struct wg_peer *peer);
/* Installs a freshly derived keypair as the Linux driver does: an
 * initiator uses it at once; a responder keeps it as next until the
 * initiator's first data packet confirms it. */
bool wg_peer_add_new_keypair(struct wg_peer *peer, struct noise_keypair *kp);
/* A data packet arrived with kp: promotes next to current. True if it did. */
bool wg_peer_received_with_keypair(struct wg_peer *peer, struct noise_keypair *kp);
/* The keypair to send with, or NULL when there is no usable one. */
struct noise_keypair *wg_peer_sending_keypair(struct wg_peer *peer, monotime_ns now);
/* Expires the current sending key so the next packet starts a handshake. */
void wg_peer_expire_current_keypair(struct wg_peer *peer);

void wg_peer_set_endpoint(struct wg_peer *peer, const struct wg_endpoint *ep);

#endif
