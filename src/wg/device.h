/* device: one WireGuard interface. It owns the identity, the peers and
 * every table the protocol needs, and runs the packet path on batches:
 *
 *   UDP in  -> wg_device_receive()  -> handshake queue / decrypt -> tun_out
 *   TUN in  -> wg_device_xmit()     -> stage per peer -> encrypt -> udp_out
 *   timers  -> wg_device_run_timers()
 *   wg_device_flush() hands the output batches to the I/O layer.
 *
 * The device does no I/O of its own (struct wg_device_io does), so unit
 * tests wire two devices together in memory and move time by hand. It is
 * single-threaded: one loop owns it. */
#ifndef EGRESS_WG_DEVICE_H
#define EGRESS_WG_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wg/allowedips.h"
#include "wg/config.h"
#include "wg/cookie.h"
#include "wg/counters.h"
#include "wg/index.h"
#include "wg/noise.h"
#include "wg/packet.h"
#include "wg/ratelimiter.h"

struct wg_peer;

struct wg_device_io {
	/* Sends each packet to pkt->ep; returns how many went out. The device
	 * keeps ownership of the buffers. */
	size_t (*udp_send)(void *ctx, struct pkt **pkts, size_t n);
	/* Writes each packet to the TUN interface; returns how many went. */
	size_t (*tun_write)(void *ctx, struct pkt **pkts, size_t n);
	/* Rebinds the UDP sockets; *actual gets the bound port (for 0). */
	int (*set_listen_port)(void *ctx, uint16_t port, uint16_t *actual);
	int (*set_fwmark)(void *ctx, uint32_t fwmark);
};

/* Hooks let a node's data path (src/node/) take packets at two points:
 * after a tunnel packet is decrypted, and when a packet comes from the TUN.
 * Without hooks the device is plain WireGuard. */
enum wg_hook_verdict { WG_HOOK_PASS, WG_HOOK_TAKEN };

struct wg_device_hooks {
	/* A decrypted payload that is a fabric message (fabric/messages.h):
	 * not IP, so cryptokey routing cannot judge it; the hook owns p and
	 * must itself check that peer is a node. Without this hook such
	 * payloads are dropped as bad inner packets. */
	void (*fabric_rx)(void *ctx, struct wg_peer *peer, struct pkt *p, monotime_ns now);
	/* A decrypted IP packet that passed the allowed-ips source check.
	 * TAKEN: the hook owns p. PASS: it goes to the TUN as usual. */
	enum wg_hook_verdict (*tunnel_rx)(void *ctx, struct wg_peer *peer, struct pkt *p,
					  monotime_ns now);
	/* An IP packet from the TUN, before cryptokey routing. */
	enum wg_hook_verdict (*tun_rx)(void *ctx, struct pkt *p, monotime_ns now);
};

/* Accepts and drops everything (src/wg/null_io.c): fuzzers and tests. */
extern const struct wg_device_io wg_null_io;

struct handshake_item {
	struct wg_endpoint src;
	uint16_t len;
	uint8_t buf[MESSAGE_INITIATION_LEN];	/* the largest handshake message */
};

/* Handshake messages wait here so data keeps priority under a flood; a
 * long queue is what "under load" means (as in the Linux driver). */
struct handshake_queue {
	struct handshake_item *items;
	size_t head, len, cap;
};

#define WG_PEER_HASH_BUCKETS 1024
#define WG_PKT_POOL_MAX 8192
#define WG_DEFAULT_MTU 1420
#define WG_UNDER_LOAD_AFTER_S 1

struct wg_device {
	struct noise_static_identity identity;
	struct cookie_checker cookie_checker;
	struct ratelimiter ratelimiter;
	struct allowedips allowedips;
	struct wg_index_table index;

	struct wg_peer *peers_head, *peers_tail;
	struct wg_peer *peer_hash[WG_PEER_HASH_BUCKETS];
	size_t n_peers;
	uint64_t next_peer_serial;
	struct wg_peer *xmit_list;

	uint16_t listen_port;
	uint32_t fwmark;
	uint32_t mtu;

	struct handshake_queue handshakes;
	monotime_ns last_under_load;

	struct pkt_pool pool;
	struct pkt_batch udp_out, tun_out;
	const struct wg_device_io *io;
	void *io_ctx;
	const struct wg_device_hooks *hooks;
	void *hooks_ctx;
	/* Wall clock for TAI64N timestamps; tests replace it. */
	struct timespec (*walltime)(void);

	uint64_t counters[WG_CTR__MAX];
};

int wg_device_init(struct wg_device *dev, const struct wg_device_io *io, void *io_ctx);
void wg_device_destroy(struct wg_device *dev);

/* Applies a parsed "set" request. Everything is validated before anything
 * changes, so a rejected request leaves the device as it was. */
int wg_device_set_conf(struct wg_device *dev, const struct wg_device_conf *conf,
		       monotime_ns now);
/* Fills out for a "get" request; wg_device_conf_free() releases it. */
int wg_device_get_conf(const struct wg_device *dev, struct wg_device_conf *out);

/* Datagrams from the underlay; the device takes ownership of the buffers. */
void wg_device_receive(struct wg_device *dev, struct pkt **pkts, size_t n,
		       monotime_ns now);
/* Processes up to budget queued handshake messages; returns how many remain. */
size_t wg_device_process_handshakes(struct wg_device *dev, size_t budget,
				    monotime_ns now);
/* IP packets from the TUN interface; the device takes ownership. */
void wg_device_xmit(struct wg_device *dev, struct pkt **pkts, size_t n, monotime_ns now);

void wg_device_set_hooks(struct wg_device *dev, const struct wg_device_hooks *hooks,
			 void *ctx);
/* Queues p (an IP packet or a fabric message, at p->data) to be encrypted
 * for peer and sent over ep (NULL: the peer's endpoint). It goes out with
 * the current batch; outside a batch call wg_device_send_pending(). */
void wg_device_send_to_peer(struct wg_device *dev, struct wg_peer *peer, struct pkt *p,
			    const struct wg_endpoint *ep);
void wg_device_send_pending(struct wg_device *dev, monotime_ns now);
/* Writes p (an IP packet) to the TUN with the current batch. */
void wg_device_send_to_tun(struct wg_device *dev, struct pkt *p);

void wg_device_run_timers(struct wg_device *dev, monotime_ns now);
/* The earliest timer deadline of any peer, or 0 when none is set. */
monotime_ns wg_device_next_deadline(const struct wg_device *dev);
void wg_device_flush(struct wg_device *dev);

static inline void wg_device_count(struct wg_device *dev, enum wg_counter c)
{
	dev->counters[c]++;
}

/* Internal to the packet path (send.c, receive.c, peer.c). */
void wg_device_queue_udp(struct wg_device *dev, struct pkt *p);
void wg_device_queue_tun(struct wg_device *dev, struct pkt *p);
void wg_send_handshake_initiation(struct wg_peer *peer, bool is_retry, monotime_ns now);
void wg_send_handshake_response(struct wg_peer *peer, monotime_ns now);
void wg_send_handshake_cookie(struct wg_device *dev, const struct handshake_item *item,
			      uint32_t sender_index, monotime_ns now);
void wg_send_keepalive(struct wg_peer *peer, monotime_ns now);
void wg_send_staged_packets(struct wg_peer *peer, monotime_ns now);
bool wg_device_is_under_load(struct wg_device *dev, monotime_ns now);

extern const struct wg_timer_actions wg_device_timer_actions;

#endif
