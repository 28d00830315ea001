/* arena: a list of chunks carved from the front. Big requests get a chunk
 * of their own so that a 20 MB prefix table does not waste a 20 MB tail. */
#include "policy/arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_CHUNK (256u * 1024u)
#define ARENA_ALIGN 16u

struct arena_chunk {
	struct arena_chunk *next;
	size_t used, cap;
	_Alignas(16) unsigned char data[];
};

struct policy_arena {
	struct arena_chunk *head;	/* the one being carved */
	struct arena_chunk *big;	/* dedicated chunks */
	size_t bytes;
};

struct policy_arena *policy_arena_create(void)
{
	return calloc(1, sizeof(struct policy_arena));
}

static void arena_free_list(struct arena_chunk *c)
{
	while (c) {
		struct arena_chunk *next = c->next;

		free(c);
		c = next;
	}
}

void policy_arena_destroy(struct policy_arena *a)
{
	if (!a)
		return;
	arena_free_list(a->head);
	arena_free_list(a->big);
	free(a);
}

static struct arena_chunk *arena_chunk_new(struct policy_arena *a, size_t cap)
{
	struct arena_chunk *c = calloc(1, sizeof(*c) + cap);

	if (!c)
		return NULL;
	c->cap = cap;
	a->bytes += sizeof(*c) + cap;
	return c;
}

void *policy_arena_alloc(struct policy_arena *a, size_t n, size_t size)
{
	struct arena_chunk *c;
	size_t len;

	if (size && n > (SIZE_MAX / 2) / size)
		return NULL;
	len = (n * size + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
	if (len == 0)
		len = ARENA_ALIGN;
	if (len > ARENA_CHUNK / 4) {
		c = arena_chunk_new(a, len);
		if (!c)
			return NULL;
		c->next = a->big;
		a->big = c;
		c->used = len;
		return c->data;
	}
	if (!a->head || a->head->cap - a->head->used < len) {
		c = arena_chunk_new(a, ARENA_CHUNK);
		if (!c)
			return NULL;
		c->next = a->head;
		a->head = c;
	}
	c = a->head;
	c->used += len;
	return c->data + c->used - len;
}

char *policy_arena_strndup(struct policy_arena *a, const char *s, size_t len)
{
	char *p = policy_arena_alloc(a, len + 1, 1);

	if (p && len)
		memcpy(p, s, len);
	return p;
}

void *policy_arena_memdup(struct policy_arena *a, const void *p, size_t len)
{
	void *q = policy_arena_alloc(a, len, 1);

	if (q && len)
		memcpy(q, p, len);
	return q;
}

size_t policy_arena_bytes(const struct policy_arena *a)
{
	return a->bytes;
}
