/* cursor: bounds-checked reading and writing of wire formats. Every parser
 * reads through a struct cursor; a read past the end fails, sets c->ok to
 * false and leaves the destination untouched, so a parser may read a whole
 * message and check c->ok once. Nothing ever indexes a raw buffer by a
 * length that came from the network. */
#ifndef EGRESS_CURSOR_H
#define EGRESS_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct cursor {
	const uint8_t *p;
	size_t left;
	bool ok;
};

struct wcursor {
	uint8_t *p;
	size_t left;
	bool ok;
};

static inline struct cursor cursor_init(const void *buf, size_t len)
{
	return (struct cursor){ .p = buf, .left = len, .ok = true };
}

static inline struct wcursor wcursor_init(void *buf, size_t len)
{
	return (struct wcursor){ .p = buf, .left = len, .ok = true };
}

/* Returns a pointer to the next n bytes and consumes them, or NULL. */
static inline const uint8_t *rd_ptr(struct cursor *c, size_t n)
{
	const uint8_t *p;

	if (!c->ok || c->left < n) {
		c->ok = false;
		return NULL;
	}
	p = c->p;
	c->p += n;
	c->left -= n;
	return p;
}

static inline bool rd_bytes(struct cursor *c, void *dst, size_t n)
{
	const uint8_t *p = rd_ptr(c, n);

	if (!p)
		return false;
	if (n)
		memcpy(dst, p, n);
	return true;
}

static inline bool rd_skip(struct cursor *c, size_t n)
{
	return rd_ptr(c, n) != NULL;
}

static inline bool rd_u8(struct cursor *c, uint8_t *v)
{
	const uint8_t *p = rd_ptr(c, 1);

	if (!p)
		return false;
	*v = p[0];
	return true;
}

static inline bool rd_u16be(struct cursor *c, uint16_t *v)
{
	const uint8_t *p = rd_ptr(c, 2);

	if (!p)
		return false;
	*v = (uint16_t)(p[0] << 8 | p[1]);
	return true;
}

static inline bool rd_u32be(struct cursor *c, uint32_t *v)
{
	const uint8_t *p = rd_ptr(c, 4);

	if (!p)
		return false;
	*v = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
	return true;
}

static inline bool rd_u32le(struct cursor *c, uint32_t *v)
{
	const uint8_t *p = rd_ptr(c, 4);

	if (!p)
		return false;
	*v = (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
	return true;
}

static inline bool rd_u64le(struct cursor *c, uint64_t *v)
{
	uint32_t lo, hi;

	if (!rd_u32le(c, &lo) || !rd_u32le(c, &hi))
		return false;
	*v = (uint64_t)hi << 32 | lo;
	return true;
}

static inline uint8_t *wr_ptr(struct wcursor *w, size_t n)
{
	uint8_t *p;

	if (!w->ok || w->left < n) {
		w->ok = false;
		return NULL;
	}
	p = w->p;
	w->p += n;
	w->left -= n;
	return p;
}

static inline bool wr_bytes(struct wcursor *w, const void *src, size_t n)
{
	uint8_t *p = wr_ptr(w, n);

	if (!p)
		return false;
	if (n)
		memcpy(p, src, n);
	return true;
}

static inline bool wr_u32le(struct wcursor *w, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };

	return wr_bytes(w, b, 4);
}

static inline bool wr_u64le(struct wcursor *w, uint64_t v)
{
	return wr_u32le(w, (uint32_t)v) && wr_u32le(w, (uint32_t)(v >> 32));
}

static inline bool wr_u32be(struct wcursor *w, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };

	return wr_bytes(w, b, 4);
}

#endif
