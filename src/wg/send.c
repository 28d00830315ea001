/* send: everything the device sends on the underlay: handshake messages,
 * cookie replies, keepalives and encrypted data, plus staging of packets
 * that wait for a session. Outputs go to the device's UDP batch. */
#include "wg/device.h"
#include "wg/peer.h"
#include "crypto/crypto.h"
#include "common/log.h"

#include <stdlib.h>
#include <string.h>

static void send_handshake_bytes(struct wg_peer *peer, const uint8_t *msg, size_t len,
				 monotime_ns now)
{
	struct wg_device *dev = peer->device;
	struct pkt *p;

	if (!wg_endpoint_is_set(&peer->endpoint)) {
		wg_device_count(dev, WG_CTR_tx_drop_no_endpoint);
		return;
	}
	p = pkt_alloc(&dev->pool);
	if (!p) {
		wg_device_count(dev, WG_CTR_tx_drop_no_buffer);
		return;
	}
	memcpy(p->data, msg, len);
	p->len = len;
	p->ep = peer->endpoint;
	peer->tx_bytes += len;
	peer->tx_packets++;
	wg_timers_any_authenticated_packet_traversal(&peer->timers, now);
	wg_timers_any_authenticated_packet_sent(&peer->timers);
	wg_device_queue_udp(dev, p);
}

/* Gives the handshake a fresh local index, retiring the old one. */
static bool handshake_new_index(struct wg_peer *peer)
{
	struct wg_device *dev = peer->device;

	wg_index_remove(&dev->index, peer->handshake.local_index);
	peer->handshake.local_index = wg_index_insert(&dev->index, INDEX_HANDSHAKE,
						      peer, NULL);
	return peer->handshake.local_index != 0;
}

void wg_send_handshake_initiation(struct wg_peer *peer, bool is_retry, monotime_ns now)
{
	struct message_handshake_initiation msg;
	uint8_t buf[MESSAGE_INITIATION_LEN], ts[NOISE_TIMESTAMP_LEN];

	if (!is_retry)
		peer->timers.handshake_attempts = 0;
	/* At most one initiation per REKEY_TIMEOUT, whoever asks. */
	if (!monotime_expired(peer->last_sent_handshake, SECONDS(REKEY_TIMEOUT), now))
		return;
	if (!handshake_new_index(peer))
		return;
	noise_tai64n(ts, peer->device->walltime());
	/* Fails without a private key: try again as soon as one is set. */
	if (!noise_handshake_create_initiation(&msg, &peer->handshake, ts, NULL))
		return;
	peer->last_sent_handshake = now;
	message_encode_initiation(buf, sizeof(buf), &msg);
	cookie_add_mac_to_packet(buf, sizeof(buf), &peer->latest_cookie, now);
	wg_timers_handshake_initiated(&peer->timers, now);
	wg_device_count(peer->device, WG_CTR_handshake_initiation_tx);
	send_handshake_bytes(peer, buf, sizeof(buf), now);
	crypto_wipe(&msg, sizeof(msg));
}

void wg_send_handshake_response(struct wg_peer *peer, monotime_ns now)
{
	struct message_handshake_response msg;
	struct noise_keypair *kp;
	uint8_t buf[MESSAGE_RESPONSE_LEN];

	if (!handshake_new_index(peer))
		return;
	if (!noise_handshake_create_response(&msg, &peer->handshake, NULL))
		return;
	message_encode_response(buf, sizeof(buf), &msg);
	cookie_add_mac_to_packet(buf, sizeof(buf), &peer->latest_cookie, now);
	kp = calloc(1, sizeof(*kp));
	if (!kp)
		return;
	if (!noise_handshake_begin_session(&peer->handshake, kp, now) ||
	    !wg_peer_add_new_keypair(peer, kp)) {
		noise_keypair_wipe(kp);
		free(kp);
		return;
	}
	wg_timers_session_derived(&peer->timers, now);
	wg_device_count(peer->device, WG_CTR_handshake_response_tx);
	wg_device_count(peer->device, WG_CTR_sessions_established);
	send_handshake_bytes(peer, buf, sizeof(buf), now);
}

void wg_send_handshake_cookie(struct wg_device *dev, const struct handshake_item *item,
			      uint32_t sender_index, monotime_ns now)
{
	struct message_handshake_cookie msg;
	uint8_t src[18];
	size_t srclen = wg_sockaddr_cookie_bytes(&item->src.addr, src);
	struct pkt *p = pkt_alloc(&dev->pool);

	if (!p) {
		wg_device_count(dev, WG_CTR_tx_drop_no_buffer);
		return;
	}
	cookie_message_create(&msg, item->buf, item->len, sender_index,
			      &dev->cookie_checker, src, srclen, now);
	p->len = message_encode_cookie(p->data, MESSAGE_COOKIE_LEN, &msg);
	p->ep = item->src;
	wg_device_count(dev, WG_CTR_cookie_reply_tx);
	wg_device_queue_udp(dev, p);
}

/* Padding hides the exact length: up to a multiple of 16, never past the
 * MTU (as the Linux driver does). */
static size_t padded_len(size_t len, uint32_t mtu)
{
	size_t last_unit = len, padded;

	if (mtu && last_unit > mtu)
		last_unit %= mtu;
	padded = (last_unit + MESSAGE_PADDING_MULTIPLE - 1) & ~(size_t)(MESSAGE_PADDING_MULTIPLE - 1);
	if (mtu && padded > mtu)
		padded = mtu;
	return len + (padded > last_unit ? padded - last_unit : 0);
}

/* Encrypts p (an IP packet, or empty for a keepalive) in place into a
 * data message. The buffer's head- and tailroom make room for it. */
static void encrypt_packet(struct pkt *p, struct noise_keypair *kp, uint64_t counter,
			   uint32_t mtu)
{
	size_t plen = padded_len(p->len, mtu);
	struct message_data_header h = { .key_idx = kp->remote_index, .counter = counter };
	uint8_t *hdr = p->data - MESSAGE_DATA_HEADER_LEN;

	memset(p->data + p->len, 0, plen - p->len);
	aead_seal(p->data, p->data, plen, NULL, 0, counter, kp->sending.key);
	message_encode_data_header(hdr, MESSAGE_DATA_HEADER_LEN, &h);
	p->data = hdr;
	p->len = MESSAGE_DATA_HEADER_LEN + plen + NOISE_AUTHTAG_LEN;
}

/* Starts a handshake when the session is old or used a lot (initiator
 * only for age, so both sides do not rekey at once). */
static void keep_key_fresh_send(struct wg_peer *peer, struct noise_keypair *kp,
				monotime_ns now)
{
	if (kp->sending_counter > REKEY_AFTER_MESSAGES ||
	    (kp->i_am_the_initiator &&
	     monotime_expired(kp->sending.birthdate, SECONDS(REKEY_AFTER_TIME), now)))
		wg_send_handshake_initiation(peer, false, now);
}

static void send_one(struct wg_peer *peer, struct noise_keypair *kp, struct pkt *p,
		     monotime_ns now)
{
	struct wg_device *dev = peer->device;
	bool keepalive = p->len == 0;

	encrypt_packet(p, kp, kp->sending_counter++, dev->mtu);
	/* A packet may name its own path (fabric traffic over a chosen
	 * underlay); everything else goes to the peer's endpoint. */
	if (!wg_endpoint_is_set(&p->ep))
		p->ep = peer->endpoint;
	peer->tx_bytes += p->len;
	peer->tx_packets++;
	wg_device_count(dev, keepalive ? WG_CTR_keepalive_tx : WG_CTR_tx_packets);
	dev->counters[WG_CTR_tx_bytes] += p->len;
	wg_device_queue_udp(dev, p);
	if (!keepalive)
		wg_timers_data_sent(&peer->timers, now);
}

void wg_send_staged_packets(struct wg_peer *peer, monotime_ns now)
{
	struct wg_device *dev = peer->device;
	struct noise_keypair *kp;

	if (!peer->staged.len)
		return;
	if (!wg_endpoint_is_set(&peer->endpoint)) {
		dev->counters[WG_CTR_tx_drop_no_endpoint] += peer->staged.len;
		pkt_queue_purge(&peer->staged, &dev->pool);
		return;
	}
	kp = wg_peer_sending_keypair(peer, now);
	if (!kp) {
		/* Packets stay staged until the handshake completes. */
		wg_send_handshake_initiation(peer, false, now);
		return;
	}
	while (peer->staged.len && kp->sending_counter < REJECT_AFTER_MESSAGES)
		send_one(peer, kp, pkt_queue_pop(&peer->staged), now);
	wg_timers_any_authenticated_packet_traversal(&peer->timers, now);
	wg_timers_any_authenticated_packet_sent(&peer->timers);
	keep_key_fresh_send(peer, kp, now);
}

void wg_send_keepalive(struct wg_peer *peer, monotime_ns now)
{
	struct wg_device *dev = peer->device;
	struct pkt *p;

	/* Anything staged already serves as a keepalive. */
	if (!peer->staged.len) {
		p = pkt_alloc(&dev->pool);
		if (!p) {
			wg_device_count(dev, WG_CTR_tx_drop_no_buffer);
			return;
		}
		pkt_queue_push(&peer->staged, p);
	}
	wg_send_staged_packets(peer, now);
}
