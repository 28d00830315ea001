/* messages: the fabric's wire formats (messages.h) to and from host-order
 * structs. Every read goes through a cursor and every message has one exact
 * length (DATA: a header and whatever inner packet follows). Only version 0
 * of the magic is accepted; unknown DATA flags are rejected so a newer
 * sender's meaning is never silently dropped. See docs/fabric.md. */
#include "fabric/messages.h"

#include "common/cursor.h"

#define FABRIC_DATA_KNOWN_FLAGS FABRIC_DATA_REPLY

static bool rd_u64be(struct cursor *c, uint64_t *v)
{
	uint32_t hi = 0, lo = 0;

	if (!rd_u32be(c, &hi) || !rd_u32be(c, &lo))
		return false;
	*v = (uint64_t)hi << 32 | lo;
	return true;
}

static bool wr_u8(struct wcursor *w, uint8_t v)
{
	return wr_bytes(w, &v, 1);
}

static bool wr_u16be(struct wcursor *w, uint16_t v)
{
	const uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	return wr_bytes(w, b, 2);
}

static bool wr_u64be(struct wcursor *w, uint64_t v)
{
	return wr_u32be(w, (uint32_t)(v >> 32)) && wr_u32be(w, (uint32_t)v);
}

/* The shortest well-formed message of each type; 0 for an unknown type. */
static size_t type_min_len(uint8_t type)
{
	switch (type) {
	case FABRIC_DATA:
		return FABRIC_DATA_HDR_LEN;
	case FABRIC_PROBE:
		return FABRIC_PROBE_LEN;
	case FABRIC_PROBE_REPLY:
		return FABRIC_REPLY_BASE_LEN;
	default:
		return 0;
	}
}

static bool rd_header(struct cursor *c, enum fabric_type want)
{
	uint8_t magic = 0, type = 0;

	if (!rd_u8(c, &magic) || !rd_u8(c, &type))
		return false;
	return magic == FABRIC_MAGIC && type == want;
}

static bool wr_header(struct wcursor *w, enum fabric_type type)
{
	return wr_u8(w, FABRIC_MAGIC) && wr_u8(w, (uint8_t)type);
}

/* WireGuard pads payloads to 16 bytes, so only the minimum length is
 * checked here; each type's decoder checks the exact length. */
bool fabric_decode_type(const uint8_t *msg, size_t len, enum fabric_type *type)
{
	struct cursor c = cursor_init(msg, len);
	uint8_t magic = 0, t = 0;
	size_t min;

	if (!rd_u8(&c, &magic) || !rd_u8(&c, &t) || magic != FABRIC_MAGIC)
		return false;
	min = type_min_len(t);
	if (!min || len < min)
		return false;
	*type = (enum fabric_type)t;
	return true;
}

bool fabric_decode_data(const uint8_t *msg, size_t len, struct fabric_data *out,
			const uint8_t **inner, size_t *inner_len)
{
	struct cursor c = cursor_init(msg, len);
	struct fabric_data d = { 0 };

	if (!rd_header(&c, FABRIC_DATA))
		return false;
	rd_u16be(&c, &d.flags);
	rd_u32be(&c, &d.class_id);
	rd_u32be(&c, &d.pool_id);
	rd_u32be(&c, &d.user_id);
	if (!c.ok || (d.flags & ~FABRIC_DATA_KNOWN_FLAGS))
		return false;
	*out = d;
	*inner = c.p;
	*inner_len = c.left;
	return true;
}

static void rd_probe_body(struct cursor *c, struct fabric_probe *p)
{
	rd_u16be(c, &p->path);
	rd_u32be(c, &p->seq);
	rd_u64be(c, &p->tx_ns);
	rd_u32be(c, &p->node_id);
}

bool fabric_decode_probe(const uint8_t *msg, size_t len, struct fabric_probe *out)
{
	struct cursor c = cursor_init(msg, len);
	struct fabric_probe p = { 0 };

	if (len != FABRIC_PROBE_LEN || !rd_header(&c, FABRIC_PROBE))
		return false;
	rd_probe_body(&c, &p);
	if (!c.ok || c.left != 0)
		return false;
	*out = p;
	return true;
}

static bool rd_region(struct cursor *c, struct fabric_region_metric *m)
{
	return rd_u32be(c, &m->region_id) && rd_u32be(c, &m->rtt_us) &&
	       rd_u16be(c, &m->loss_permille);
}

/* The count comes from the wire: it is checked against the limit and the
 * exact length before a single region is read. */
bool fabric_decode_probe_reply(const uint8_t *msg, size_t len,
			       struct fabric_probe_reply *out)
{
	struct cursor c = cursor_init(msg, len);
	uint8_t n = 0;

	if (len < FABRIC_REPLY_BASE_LEN || !rd_header(&c, FABRIC_PROBE_REPLY))
		return false;
	memset(out, 0, sizeof(*out));
	rd_probe_body(&c, &out->probe);
	rd_u16be(&c, &out->utilisation_permille);
	if (!rd_u8(&c, &n) || n > FABRIC_MAX_REGIONS ||
	    len != FABRIC_REPLY_BASE_LEN + (size_t)n * FABRIC_REGION_LEN)
		return false;
	for (uint8_t i = 0; i < n; i++)
		rd_region(&c, &out->regions[i]);
	out->n_regions = n;
	return c.ok && c.left == 0;
}

size_t fabric_encode_data_header(uint8_t *out, size_t cap, const struct fabric_data *d)
{
	struct wcursor w = wcursor_init(out, cap);

	wr_header(&w, FABRIC_DATA);
	wr_u16be(&w, d->flags);
	wr_u32be(&w, d->class_id);
	wr_u32be(&w, d->pool_id);
	wr_u32be(&w, d->user_id);
	return w.ok ? FABRIC_DATA_HDR_LEN : 0;
}

static void wr_probe_body(struct wcursor *w, const struct fabric_probe *p)
{
	wr_u16be(w, p->path);
	wr_u32be(w, p->seq);
	wr_u64be(w, p->tx_ns);
	wr_u32be(w, p->node_id);
}

size_t fabric_encode_probe(uint8_t *out, size_t cap, const struct fabric_probe *p)
{
	struct wcursor w = wcursor_init(out, cap);

	wr_header(&w, FABRIC_PROBE);
	wr_probe_body(&w, p);
	return w.ok ? FABRIC_PROBE_LEN : 0;
}

size_t fabric_encode_probe_reply(uint8_t *out, size_t cap,
				 const struct fabric_probe_reply *r)
{
	struct wcursor w = wcursor_init(out, cap);

	if (r->n_regions > FABRIC_MAX_REGIONS)
		return 0;
	wr_header(&w, FABRIC_PROBE_REPLY);
	wr_probe_body(&w, &r->probe);
	wr_u16be(&w, r->utilisation_permille);
	wr_u8(&w, r->n_regions);
	for (uint8_t i = 0; i < r->n_regions; i++) {
		wr_u32be(&w, r->regions[i].region_id);
		wr_u32be(&w, r->regions[i].rtt_us);
		wr_u16be(&w, r->regions[i].loss_permille);
	}
	return w.ok ? FABRIC_REPLY_BASE_LEN + (size_t)r->n_regions * FABRIC_REGION_LEN : 0;
}
