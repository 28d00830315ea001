/* packet: buffers that carry one datagram or one IP packet through the
 * stages of the data path, and batches of them. Every stage takes and
 * produces arrays, so reading with recvmmsg and writing with sendmmsg (or
 * GSO) changes the I/O layer only. A buffer has headroom for the data
 * message header and tailroom for padding and the tag, so encryption and
 * decryption happen in place. */
#ifndef EGRESS_WG_PACKET_H
#define EGRESS_WG_PACKET_H

#include <stddef.h>
#include <stdint.h>

#include "wg/endpoint.h"
#include "wg/messages.h"

#define PKT_HEADROOM  64	/* >= MESSAGE_DATA_HEADER_LEN, cache-line aligned */
#define PKT_MAX_INNER 65535	/* largest IP packet */
#define PKT_BUF_SIZE  (PKT_HEADROOM + PKT_MAX_INNER + MESSAGE_PADDING_MULTIPLE \
		       + NOISE_AUTHTAG_LEN + 64)
#define PKT_BATCH_MAX 64

struct wg_peer;

struct pkt {
	uint8_t *data;			/* start of the bytes in flight */
	size_t len;
	struct wg_endpoint ep;		/* rx: the sender; tx: the destination */
	struct pkt *next;		/* free list / staged queue link */
	uint8_t buf[PKT_BUF_SIZE];
};

struct pkt_batch {
	struct pkt *pkts[PKT_BATCH_MAX];
	size_t n;
};

/* A free list of buffers, grown on demand up to a cap, so staging packets
 * for peers without a session cannot eat all memory. Single-threaded. */
struct pkt_pool {
	struct pkt *free;
	size_t allocated, max;
};

void pkt_pool_init(struct pkt_pool *pool, size_t max);
void pkt_pool_destroy(struct pkt_pool *pool);
/* A buffer with data at buf + PKT_HEADROOM and len 0, or NULL at the cap. */
struct pkt *pkt_alloc(struct pkt_pool *pool);
void pkt_free(struct pkt_pool *pool, struct pkt *p);

/* A FIFO of packets linked through pkt->next (staged packets of a peer). */
struct pkt_queue {
	struct pkt *head, *tail;
	size_t len;
};

void pkt_queue_push(struct pkt_queue *q, struct pkt *p);
struct pkt *pkt_queue_pop(struct pkt_queue *q);
void pkt_queue_purge(struct pkt_queue *q, struct pkt_pool *pool);

#endif
