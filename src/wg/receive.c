/* receive: everything that arrives on the underlay. Validation goes
 * cheapest first, as in the Linux driver: exact length and type -> (queue)
 * MAC1 -> cookie / rate limit under load -> Diffie-Hellman or decryption ->
 * replay -> allowed IPs. A peer's state changes only once a message fully
 * authenticated. Every drop raises one counter. */
#include "wg/device.h"
#include "fabric/messages.h"
#include "wg/peer.h"
#include "crypto/crypto.h"
#include "common/cursor.h"
#include "common/log.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

static void drop(struct wg_device *dev, struct pkt *p, enum wg_counter reason)
{
	wg_device_count(dev, reason);
	pkt_free(&dev->pool, p);
}

static bool handshake_enqueue(struct wg_device *dev, const struct pkt *p)
{
	struct handshake_queue *q = &dev->handshakes;
	struct handshake_item *it;

	if (q->len == q->cap)
		return false;
	it = &q->items[(q->head + q->len) % q->cap];
	it->src = p->ep;
	it->len = (uint16_t)p->len;
	memcpy(it->buf, p->data, p->len);
	q->len++;
	return true;
}

static void receive_data(struct wg_device *dev, struct pkt *p, monotime_ns now);

void wg_device_receive(struct wg_device *dev, struct pkt **pkts, size_t n, monotime_ns now)
{
	for (size_t i = 0; i < n; i++) {
		struct pkt *p = pkts[i];

		switch (message_determine_type(p->data, p->len)) {
		case MESSAGE_HANDSHAKE_INITIATION:
		case MESSAGE_HANDSHAKE_RESPONSE:
		case MESSAGE_HANDSHAKE_COOKIE:
			if (!handshake_enqueue(dev, p))
				drop(dev, p, WG_CTR_rx_drop_handshake_queue_full);
			else
				pkt_free(&dev->pool, p);
			break;
		case MESSAGE_DATA:
			receive_data(dev, p, now);
			break;
		default:
			drop(dev, p, p->len < MESSAGE_DATA_MIN_LEN ? WG_CTR_rx_drop_too_short :
				     p->len > MESSAGE_MAX_LEN ? WG_CTR_rx_drop_too_long :
				     WG_CTR_rx_drop_bad_type);
		}
	}
	/* Hooks may have forwarded packets to other peers. */
	wg_device_send_pending(dev, now);
}

/* Under load while the queue is long, and for a second after (so an
 * attacker cannot toggle it cheaply). */
bool wg_device_is_under_load(struct wg_device *dev, monotime_ns now)
{
	if (dev->handshakes.len >= MAX_QUEUED_INCOMING_HANDSHAKES / 8) {
		if (!dev->last_under_load ||
		    now - dev->last_under_load > SECONDS(WG_UNDER_LOAD_AFTER_S))
			wg_device_count(dev, WG_CTR_under_load_episodes);
		dev->last_under_load = now;
		return true;
	}
	return dev->last_under_load &&
	       now - dev->last_under_load < SECONDS(WG_UNDER_LOAD_AFTER_S);
}

/* Roaming: the endpoint follows the source of authenticated packets only. */
static void update_endpoint(struct wg_peer *peer, const struct wg_endpoint *src)
{
	if (!wg_sockaddr_equal(&peer->endpoint.addr, &src->addr) ||
	    peer->endpoint.has_src != src->has_src ||
	    (src->has_src && memcmp(&peer->endpoint.src6, &src->src6,
				    src->addr.sa.sa_family == AF_INET ? 4 : 16)))
		wg_peer_set_endpoint(peer, src);
}

static void authenticated_rx(struct wg_peer *peer, const struct handshake_item *it,
			     monotime_ns now)
{
	update_endpoint(peer, &it->src);
	peer->rx_bytes += it->len;
	peer->rx_packets++;
	wg_timers_any_authenticated_packet_received(&peer->timers);
	wg_timers_any_authenticated_packet_traversal(&peer->timers, now);
}

static struct noise_handshake *lookup_by_static(void *ctx, const uint8_t key[NOISE_PUBLIC_KEY_LEN])
{
	struct wg_peer *peer = wg_peer_lookup(ctx, key);

	return peer ? &peer->handshake : NULL;
}

static struct noise_handshake *lookup_by_index(void *ctx, uint32_t index)
{
	const struct wg_index_entry *e = wg_index_lookup(&((struct wg_device *)ctx)->index, index);

	return e && e->type == INDEX_HANDSHAKE ? &e->peer->handshake : NULL;
}

static void consume_initiation(struct wg_device *dev, const struct handshake_item *it,
			       monotime_ns now)
{
	struct message_handshake_initiation msg;
	struct noise_handshake *hs;
	struct wg_peer *peer;

	if (!message_decode_initiation(it->buf, it->len, &msg)) {
		wg_device_count(dev, WG_CTR_rx_drop_bad_type);
		return;
	}
	hs = noise_handshake_consume_initiation(&msg, &dev->identity, lookup_by_static,
						dev, now);
	if (!hs) {
		wg_device_count(dev, WG_CTR_rx_drop_handshake_invalid);
		return;
	}
	peer = hs->owner;
	wg_device_count(dev, WG_CTR_handshake_initiation_rx);
	authenticated_rx(peer, it, now);
	wg_send_handshake_response(peer, now);
}

static void consume_response(struct wg_device *dev, const struct handshake_item *it,
			     monotime_ns now)
{
	struct message_handshake_response msg;
	struct noise_handshake *hs;
	struct noise_keypair *kp;
	struct wg_peer *peer;

	if (!message_decode_response(it->buf, it->len, &msg)) {
		wg_device_count(dev, WG_CTR_rx_drop_bad_type);
		return;
	}
	hs = noise_handshake_consume_response(&msg, &dev->identity, lookup_by_index, dev);
	if (!hs) {
		wg_device_count(dev, WG_CTR_rx_drop_handshake_invalid);
		return;
	}
	peer = hs->owner;
	wg_device_count(dev, WG_CTR_handshake_response_rx);
	authenticated_rx(peer, it, now);
	kp = calloc(1, sizeof(*kp));
	if (!kp)
		return;
	if (!noise_handshake_begin_session(hs, kp, now) || !wg_peer_add_new_keypair(peer, kp)) {
		noise_keypair_wipe(kp);
		free(kp);
		return;
	}
	wg_device_count(dev, WG_CTR_sessions_established);
	wg_timers_session_derived(&peer->timers, now);
	wg_timers_handshake_complete(&peer->timers);
	peer->walltime_last_handshake = peer->device->walltime();
	/* Confirm the session to the responder: data if we have some, else
	 * a keepalive. */
	wg_send_keepalive(peer, now);
}

static void consume_cookie(struct wg_device *dev, const struct handshake_item *it,
			   monotime_ns now)
{
	struct message_handshake_cookie msg;
	const struct wg_index_entry *e;

	if (!message_decode_cookie(it->buf, it->len, &msg)) {
		wg_device_count(dev, WG_CTR_rx_drop_bad_type);
		return;
	}
	e = wg_index_lookup(&dev->index, msg.receiver_index);
	if (!e || !cookie_message_consume(&msg, &e->peer->latest_cookie, now)) {
		wg_device_count(dev, WG_CTR_rx_drop_cookie_invalid);
		return;
	}
	wg_device_count(dev, WG_CTR_cookie_reply_rx);
}

/* MAC1 always; under load also MAC2 (else answer with a cookie) and a
 * per-source rate limit. True when the message may cost a DH. */
static bool handshake_admit(struct wg_device *dev, const struct handshake_item *it,
			    monotime_ns now)
{
	bool under_load = wg_device_is_under_load(dev, now);
	uint8_t src[18];
	size_t srclen = wg_sockaddr_cookie_bytes(&it->src.addr, src);
	enum cookie_mac_state st = cookie_validate_packet(&dev->cookie_checker, it->buf,
							  it->len, src, srclen,
							  under_load, now);
	uint32_t sender;
	struct cursor c;

	if (st == INVALID_MAC) {
		wg_device_count(dev, WG_CTR_rx_drop_bad_mac1);
		return false;
	}
	if (!under_load)
		return true;
	if (st == VALID_MAC_BUT_NO_COOKIE) {
		c = cursor_init(it->buf + 4, 4);
		rd_u32le(&c, &sender);
		wg_send_handshake_cookie(dev, it, sender, now);
		return false;
	}
	if (!ratelimiter_allow(&dev->ratelimiter, it->src.addr.sa.sa_family,
			       it->src.addr.sa.sa_family == AF_INET6 ?
			       it->src.addr.in6.sin6_addr.s6_addr :
			       (const uint8_t *)&it->src.addr.in.sin_addr, now)) {
		wg_device_count(dev, WG_CTR_rx_drop_ratelimited);
		return false;
	}
	return true;
}

static void process_handshake(struct wg_device *dev, const struct handshake_item *it,
			      monotime_ns now)
{
	enum message_type type = it->buf[0];

	if (!dev->identity.has_identity) {
		wg_device_count(dev, WG_CTR_rx_drop_no_identity);
		return;
	}
	if (type == MESSAGE_HANDSHAKE_COOKIE) {
		consume_cookie(dev, it, now);
		return;
	}
	if (!handshake_admit(dev, it, now))
		return;
	if (type == MESSAGE_HANDSHAKE_INITIATION)
		consume_initiation(dev, it, now);
	else
		consume_response(dev, it, now);
}

size_t wg_device_process_handshakes(struct wg_device *dev, size_t budget, monotime_ns now)
{
	struct handshake_queue *q = &dev->handshakes;

	while (q->len && budget--) {
		struct handshake_item *it = &q->items[q->head];

		/* Decide load before dequeuing: the queue length is the signal. */
		(void)wg_device_is_under_load(dev, now);
		q->head = (q->head + 1) % q->cap;
		q->len--;
		process_handshake(dev, it, now);
	}
	return q->len;
}

/* The inner packet's true length from its IP header; 0 if it is not a
 * well-formed IPv4 or IPv6 packet that fits. */
static size_t inner_packet_len(const uint8_t *data, size_t len, int *family,
			       const uint8_t **src)
{
	struct cursor c = cursor_init(data, len);
	uint8_t vihl;
	uint16_t total;

	if (!rd_u8(&c, &vihl))
		return 0;
	if (vihl >> 4 == 4 && len >= 20) {
		c = cursor_init(data + 2, 2);
		rd_u16be(&c, &total);
		if (total < 20 || total < (vihl & 15) * 4 || total > len)
			return 0;
		*family = AF_INET;
		*src = data + 12;
		return total;
	}
	if (vihl >> 4 == 6 && len >= 40) {
		c = cursor_init(data + 4, 2);
		rd_u16be(&c, &total);
		if ((size_t)total + 40 > len)
			return 0;
		*family = AF_INET6;
		*src = data + 8;
		return (size_t)total + 40;
	}
	return 0;
}

/* Starts a handshake before the session expires on the initiator side, so
 * a receive-only initiator does not lose its session. */
static void keep_key_fresh_receive(struct wg_peer *peer, struct noise_keypair *kp,
				   monotime_ns now)
{
	if (peer->timers.sent_lastminute_handshake || !kp->i_am_the_initiator)
		return;
	if (monotime_expired(kp->receiving.birthdate,
			     SECONDS(REJECT_AFTER_TIME - KEEPALIVE_TIMEOUT - REKEY_TIMEOUT), now)) {
		peer->timers.sent_lastminute_handshake = true;
		wg_send_handshake_initiation(peer, false, now);
	}
}

static bool keypair_receivable(struct noise_keypair *kp, monotime_ns now)
{
	if (!kp->receiving.is_valid ||
	    monotime_expired(kp->receiving.birthdate, SECONDS(REJECT_AFTER_TIME), now) ||
	    kp->receiving_counter.counter >= REJECT_AFTER_MESSAGES) {
		kp->receiving.is_valid = false;
		return false;
	}
	return true;
}

static void deliver(struct wg_device *dev, struct wg_peer *peer, struct pkt *p,
		    monotime_ns now)
{
	const uint8_t *src = NULL;
	int family = 0;
	size_t len;

	if (p->len == 0) {
		wg_device_count(dev, WG_CTR_keepalive_rx);
		pkt_free(&dev->pool, p);
		return;
	}
	if (dev->hooks && dev->hooks->fabric_rx && fabric_is_message(p->data, p->len)) {
		wg_timers_data_received(&peer->timers, now);
		dev->hooks->fabric_rx(dev->hooks_ctx, peer, p, now);
		return;
	}
	len = inner_packet_len(p->data, p->len, &family, &src);
	if (!len) {
		drop(dev, p, WG_CTR_rx_drop_bad_inner_packet);
		return;
	}
	if (allowedips_lookup(&dev->allowedips, family, src) != peer) {
		drop(dev, p, WG_CTR_rx_drop_allowedips_mismatch);
		return;
	}
	p->len = len;			/* strip the padding */
	wg_timers_data_received(&peer->timers, now);
	wg_device_count(dev, WG_CTR_rx_packets);
	if (dev->hooks && dev->hooks->tunnel_rx &&
	    dev->hooks->tunnel_rx(dev->hooks_ctx, peer, p, now) == WG_HOOK_TAKEN)
		return;
	wg_device_queue_tun(dev, p);
}

/* Authenticates and decrypts a data message in place; returns its keypair
 * or NULL with *reason set. */
static struct noise_keypair *open_data(struct wg_device *dev, struct pkt *p,
				       monotime_ns now, enum wg_counter *reason)
{
	struct message_data_header h;
	const struct wg_index_entry *e;
	const uint8_t *ct;
	size_t ctlen;

	*reason = WG_CTR_rx_drop_bad_type;
	if (!message_decode_data(p->data, p->len, &h, &ct, &ctlen))
		return NULL;
	*reason = WG_CTR_rx_drop_unknown_index;
	e = wg_index_lookup(&dev->index, h.key_idx);
	if (!e || e->type != INDEX_KEYPAIR)
		return NULL;
	*reason = WG_CTR_rx_drop_key_expired;
	if (!keypair_receivable(e->keypair, now))
		return NULL;
	*reason = WG_CTR_rx_drop_decrypt_failed;
	p->data = (uint8_t *)ct;
	if (!aead_open(p->data, ct, ctlen, NULL, 0, h.counter, e->keypair->receiving.key))
		return NULL;
	p->len = ctlen - NOISE_AUTHTAG_LEN;
	*reason = WG_CTR_rx_drop_replay;
	if (!replay_counter_validate(&e->keypair->receiving_counter, h.counter))
		return NULL;
	return e->keypair;
}

static void receive_data(struct wg_device *dev, struct pkt *p, monotime_ns now)
{
	size_t wire_len = p->len;
	enum wg_counter reason;
	struct noise_keypair *kp = open_data(dev, p, now, &reason);
	struct wg_peer *peer;

	if (!kp) {
		drop(dev, p, reason);
		return;
	}
	peer = kp->owner;
	update_endpoint(peer, &p->ep);
	peer->rx_bytes += wire_len;
	peer->rx_packets++;
	dev->counters[WG_CTR_rx_bytes] += wire_len;
	if (wg_peer_received_with_keypair(peer, kp)) {
		wg_timers_handshake_complete(&peer->timers);
		peer->walltime_last_handshake = peer->device->walltime();
		wg_send_staged_packets(peer, now);
	}
	keep_key_fresh_receive(peer, kp, now);
	wg_timers_any_authenticated_packet_received(&peer->timers);
	wg_timers_any_authenticated_packet_traversal(&peer->timers, now);
	deliver(dev, peer, p, now);
}
