/* device: life of a device, its configuration, the TUN-side entry of the
 * packet path, timers and output batches. */
#include "wg/device.h"
#include "wg/peer.h"
#include "crypto/crypto.h"
#include "common/log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static void timer_send_initiation(struct wg_peer *peer, bool is_retry, monotime_ns now)
{
	wg_send_handshake_initiation(peer, is_retry, now);
}

static void timer_zero_key_material(struct wg_peer *peer)
{
	wg_peer_keypairs_clear(peer);
	wg_index_remove(&peer->device->index, peer->handshake.local_index);
	noise_handshake_clear(&peer->handshake);
}

static void timer_purge_staged(struct wg_peer *peer)
{
	peer->device->counters[WG_CTR_tx_drop_handshake_gave_up] += peer->staged.len;
	pkt_queue_purge(&peer->staged, &peer->device->pool);
}

static void timer_clear_endpoint_src(struct wg_peer *peer)
{
	peer->endpoint.has_src = false;
	peer->endpoint.src_ifindex = 0;
}

const struct wg_timer_actions wg_device_timer_actions = {
	.send_initiation = timer_send_initiation,
	.send_keepalive = wg_send_keepalive,
	.zero_key_material = timer_zero_key_material,
	.purge_staged = timer_purge_staged,
	.clear_endpoint_src = timer_clear_endpoint_src,
};

int wg_device_init(struct wg_device *dev, const struct wg_device_io *io, void *io_ctx)
{
	memset(dev, 0, sizeof(*dev));
	dev->io = io;
	dev->io_ctx = io_ctx;
	dev->mtu = WG_DEFAULT_MTU;
	dev->walltime = walltime_now;
	allowedips_init(&dev->allowedips);
	wg_index_init(&dev->index);
	cookie_checker_init(&dev->cookie_checker);
	pkt_pool_init(&dev->pool, WG_PKT_POOL_MAX);
	dev->handshakes.cap = MAX_QUEUED_INCOMING_HANDSHAKES;
	dev->handshakes.items = calloc(dev->handshakes.cap, sizeof(struct handshake_item));
	if (!dev->handshakes.items)
		return -ENOMEM;
	if (!ratelimiter_init(&dev->ratelimiter, 1U << 16)) {
		free(dev->handshakes.items);
		return -ENOMEM;
	}
	return 0;
}

void wg_device_destroy(struct wg_device *dev)
{
	while (dev->peers_head)
		wg_peer_remove(dev->peers_head);
	for (size_t i = 0; i < dev->udp_out.n; i++)
		pkt_free(&dev->pool, dev->udp_out.pkts[i]);
	for (size_t i = 0; i < dev->tun_out.n; i++)
		pkt_free(&dev->pool, dev->tun_out.pkts[i]);
	dev->udp_out.n = dev->tun_out.n = 0;
	ratelimiter_free(&dev->ratelimiter);
	allowedips_free(&dev->allowedips);
	wg_index_destroy(&dev->index);
	free(dev->handshakes.items);
	pkt_pool_destroy(&dev->pool);
	crypto_wipe(&dev->identity, sizeof(dev->identity));
	crypto_wipe(&dev->cookie_checker, sizeof(dev->cookie_checker));
}

/* ---- output batches ---- */

static void flush_udp(struct wg_device *dev)
{
	struct pkt_batch *b = &dev->udp_out;
	size_t sent = b->n ? dev->io->udp_send(dev->io_ctx, b->pkts, b->n) : 0;

	if (sent < b->n)
		dev->counters[WG_CTR_tx_drop_send_error] += b->n - sent;
	for (size_t i = 0; i < b->n; i++)
		pkt_free(&dev->pool, b->pkts[i]);
	b->n = 0;
}

static void flush_tun(struct wg_device *dev)
{
	struct pkt_batch *b = &dev->tun_out;
	size_t written = b->n ? dev->io->tun_write(dev->io_ctx, b->pkts, b->n) : 0;

	if (written < b->n)
		dev->counters[WG_CTR_rx_drop_tun_write] += b->n - written;
	for (size_t i = 0; i < b->n; i++)
		pkt_free(&dev->pool, b->pkts[i]);
	b->n = 0;
}

void wg_device_queue_udp(struct wg_device *dev, struct pkt *p)
{
	if (dev->udp_out.n == PKT_BATCH_MAX)
		flush_udp(dev);
	dev->udp_out.pkts[dev->udp_out.n++] = p;
}

void wg_device_queue_tun(struct wg_device *dev, struct pkt *p)
{
	if (dev->tun_out.n == PKT_BATCH_MAX)
		flush_tun(dev);
	dev->tun_out.pkts[dev->tun_out.n++] = p;
}

void wg_device_flush(struct wg_device *dev)
{
	flush_udp(dev);
	flush_tun(dev);
}

/* ---- TUN side ---- */

/* The destination of an outgoing IP packet; NULL if it is not IP. */
static const uint8_t *packet_destination(const struct pkt *p, int *family)
{
	if (p->len >= 20 && p->data[0] >> 4 == 4) {
		*family = AF_INET;
		return p->data + 16;
	}
	if (p->len >= 40 && p->data[0] >> 4 == 6) {
		*family = AF_INET6;
		return p->data + 24;
	}
	return NULL;
}

static void stage_packet(struct wg_device *dev, struct wg_peer *peer, struct pkt *p)
{
	/* Oldest packets go first when a peer without a session piles up. */
	if (peer->staged.len >= MAX_STAGED_PACKETS) {
		pkt_free(&dev->pool, pkt_queue_pop(&peer->staged));
		wg_device_count(dev, WG_CTR_tx_drop_staged_full);
	}
	pkt_queue_push(&peer->staged, p);
	if (!peer->on_xmit_list) {
		peer->on_xmit_list = true;
		peer->xmit_next = dev->xmit_list;
		dev->xmit_list = peer;
	}
}

void wg_device_set_hooks(struct wg_device *dev, const struct wg_device_hooks *hooks,
			 void *ctx)
{
	dev->hooks = hooks;
	dev->hooks_ctx = ctx;
}

void wg_device_send_to_peer(struct wg_device *dev, struct wg_peer *peer, struct pkt *p,
			    const struct wg_endpoint *ep)
{
	if (ep)
		p->ep = *ep;
	else
		p->ep.addr.sa.sa_family = AF_UNSPEC;
	stage_packet(dev, peer, p);
}

void wg_device_send_to_tun(struct wg_device *dev, struct pkt *p)
{
	wg_device_queue_tun(dev, p);
}

void wg_device_send_pending(struct wg_device *dev, monotime_ns now)
{
	while (dev->xmit_list) {
		struct wg_peer *peer = dev->xmit_list;

		dev->xmit_list = peer->xmit_next;
		peer->on_xmit_list = false;
		wg_send_staged_packets(peer, now);
	}
}

void wg_device_xmit(struct wg_device *dev, struct pkt **pkts, size_t n, monotime_ns now)
{
	for (size_t i = 0; i < n; i++) {
		struct pkt *p = pkts[i];
		int family = 0;

		if (dev->hooks && dev->hooks->tun_rx &&
		    dev->hooks->tun_rx(dev->hooks_ctx, p, now) == WG_HOOK_TAKEN)
			continue;

		const uint8_t *dst = packet_destination(p, &family);
		struct wg_peer *peer = dst ? allowedips_lookup(&dev->allowedips, family, dst) : NULL;
		enum wg_counter reason = !dst ? WG_CTR_tx_drop_bad_packet : WG_CTR_tx_drop_no_peer;

		if (peer && !wg_endpoint_is_set(&peer->endpoint))
			reason = WG_CTR_tx_drop_no_endpoint, peer = NULL;
		if (!peer) {
			wg_device_count(dev, reason);
			pkt_free(&dev->pool, p);
			continue;
		}
		stage_packet(dev, peer, p);
	}
	wg_device_send_pending(dev, now);
}

/* ---- timers ---- */

void wg_device_run_timers(struct wg_device *dev, monotime_ns now)
{
	struct wg_peer *peer = dev->peers_head;

	while (peer) {
		struct wg_peer *next = peer->list_next;

		wg_timers_run(&peer->timers, peer, now);
		peer = next;
	}
}

monotime_ns wg_device_next_deadline(const struct wg_device *dev)
{
	monotime_ns next = 0;

	for (const struct wg_peer *p = dev->peers_head; p; p = p->list_next) {
		monotime_ns d = wg_timers_next_deadline(&p->timers);

		if (d && (next == 0 || d < next))
			next = d;
	}
	return next;
}
