/* packet: buffer pool and queues. */
#include "wg/packet.h"

#include <stdlib.h>

void pkt_pool_init(struct pkt_pool *pool, size_t max)
{
	pool->free = NULL;
	pool->allocated = 0;
	pool->max = max;
}

void pkt_pool_destroy(struct pkt_pool *pool)
{
	while (pool->free) {
		struct pkt *p = pool->free;

		pool->free = p->next;
		free(p);
		pool->allocated--;
	}
}

struct pkt *pkt_alloc(struct pkt_pool *pool)
{
	struct pkt *p = pool->free;

	if (p) {
		pool->free = p->next;
	} else {
		if (pool->allocated >= pool->max)
			return NULL;
		p = malloc(sizeof(*p));
		if (!p)
			return NULL;
		pool->allocated++;
	}
	p->next = NULL;
	p->data = p->buf + PKT_HEADROOM;
	p->len = 0;
	p->ep.addr.sa.sa_family = AF_UNSPEC;	/* "send to the peer's endpoint" */
	return p;
}

void pkt_free(struct pkt_pool *pool, struct pkt *p)
{
	p->next = pool->free;
	pool->free = p;
}

void pkt_queue_push(struct pkt_queue *q, struct pkt *p)
{
	p->next = NULL;
	if (q->tail)
		q->tail->next = p;
	else
		q->head = p;
	q->tail = p;
	q->len++;
}

struct pkt *pkt_queue_pop(struct pkt_queue *q)
{
	struct pkt *p = q->head;

	if (!p)
		return NULL;
	q->head = p->next;
	if (!q->head)
		q->tail = NULL;
	q->len--;
	p->next = NULL;
	return p;
}

void pkt_queue_purge(struct pkt_queue *q, struct pkt_pool *pool)
{
	struct pkt *p;

	while ((p = pkt_queue_pop(q)))
		pkt_free(pool, p);
}
