/* dns_snoop: the A and AAAA answers of a DNS response (RFC 1035 4.1),
 * reported under the name the client asked for.
 *
 * The whole message is checked before anything is reported: the header,
 * every question, and every answer record with its name. Names are walked
 * by one label iterator that enforces the limits of RFC 1035 3.1 (labels
 * up to 63 bytes, names up to 255) and follows compression pointers only
 * backwards: each pointer must land before the start of the run of labels
 * it was found in, so positions strictly fall and no loop can form; a hop
 * limit bounds the work on top. Answers are kept as offsets into the
 * message and names compared in wire form, so nothing is decompressed
 * except the question name that is reported. CNAMEs are followed from the
 * question name, so an address for the alias target is reported under the
 * original name with the smallest TTL along the chain. */
#include "dataplane/dns_snoop.h"

#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>

#include "common/cursor.h"

#define DNS_HDR_LEN 12
#define DNS_FLAG_QR 0x8000
#define DNS_RCODE_MASK 0x000f
#define DNS_LABEL_MAX 63
#define DNS_NAME_MAX 255	/* wire bytes, root label included */
#define DNS_PTR_HOPS 32
#define DNS_PTR_MASK 0xc0
#define DNS_TYPE_A 1
#define DNS_TYPE_CNAME 5
#define DNS_TYPE_AAAA 28
#define DNS_CLASS_IN 1
#define DNS_RECORDS_MAX 64	/* answers kept; more are checked, not used */
#define DNS_CHAIN_MAX 8		/* CNAME hops followed from the question */

const char *const dns_snoop_result_names[DNS_SNOOP__MAX] = {
	[DNS_SNOOP_OK] = "ok",
	[DNS_SNOOP_NOT_RESPONSE] = "not_response",
	[DNS_SNOOP_MALFORMED] = "malformed",
};

struct dns_msg {
	const uint8_t *p;
	size_t len;
};

struct dns_rr {
	size_t owner, rdata;	/* offsets into the message */
	uint16_t type, rdlen;
	uint32_t ttl;
};

/* ---- names -------------------------------------------------------------- */

struct dns_name_iter {
	const struct dns_msg *m;
	struct cursor c;
	size_t limit;		/* a pointer must land before this offset */
	size_t end;		/* offset after the name's in-place bytes, 0 until known */
	size_t wire;		/* bytes of name so far */
	unsigned hops;
};

static size_t dns_pos(const struct dns_msg *m, const struct cursor *c)
{
	return m->len - c->left;
}

static struct cursor dns_cursor_at(const struct dns_msg *m, size_t off)
{
	struct cursor c = cursor_init(m->p, m->len);

	rd_skip(&c, off);
	return c;
}

static void dns_name_iter_init(struct dns_name_iter *it, const struct dns_msg *m,
			       size_t off)
{
	memset(it, 0, sizeof(*it));
	it->m = m;
	it->c = dns_cursor_at(m, off);
	it->limit = off;
}

/* The next label (length 0 at the end of the name); false when the name
 * breaks a rule or runs off the message. */
static bool dns_label_next(struct dns_name_iter *it, const uint8_t **label, uint8_t *n)
{
	uint8_t b, lo;

	for (;;) {
		if (!rd_u8(&it->c, &b))
			return false;
		if ((b & DNS_PTR_MASK) != DNS_PTR_MASK)
			break;
		if (!rd_u8(&it->c, &lo))
			return false;
		if (!it->end)
			it->end = dns_pos(it->m, &it->c);
		if (((size_t)(b & 0x3f) << 8 | lo) >= it->limit || ++it->hops > DNS_PTR_HOPS)
			return false;
		it->limit = (size_t)(b & 0x3f) << 8 | lo;
		it->c = dns_cursor_at(it->m, it->limit);
	}
	if (b > DNS_LABEL_MAX)		/* 0x40 and 0x80: no such label types */
		return false;
	it->wire += (size_t)b + 1;
	*n = b;
	*label = rd_ptr(&it->c, b);
	if (!*label || it->wire > DNS_NAME_MAX)
		return false;
	if (b == 0 && !it->end)
		it->end = dns_pos(it->m, &it->c);
	return true;
}

static bool dns_text_byte_ok(uint8_t ch)
{
	return ch > ' ' && ch < 0x7f && ch != '.';
}

static char dns_lower(uint8_t ch)
{
	return (char)(ch >= 'A' && ch <= 'Z' ? ch + ('a' - 'A') : ch);
}

/* Checks the name at off and returns the offset after its in-place
 * bytes, or 0. With text (room for DNS_NAME_MAX bytes) it also writes the
 * name lower-cased without the trailing dot, and refuses bytes that would
 * not read back as the same name. */
static size_t dns_name_walk(const struct dns_msg *m, size_t off, char *text)
{
	struct dns_name_iter it;
	const uint8_t *label;
	size_t out = 0;
	uint8_t n;

	dns_name_iter_init(&it, m, off);
	do {
		if (!dns_label_next(&it, &label, &n))
			return 0;
		for (size_t i = 0; text && i < n; i++) {
			if (!dns_text_byte_ok(label[i]))
				return 0;
			if (i == 0 && out)
				text[out++] = '.';
			text[out++] = dns_lower(label[i]);
		}
	} while (n);
	if (text)
		text[out] = '\0';
	return it.end;
}

static bool dns_label_equal(const uint8_t *a, const uint8_t *b, uint8_t n)
{
	for (uint8_t i = 0; i < n; i++)
		if (dns_lower(a[i]) != dns_lower(b[i]))
			return false;
	return true;
}

/* Both names were checked by dns_name_walk; compared case-insensitively. */
static bool dns_name_equal(const struct dns_msg *m, size_t x, size_t y)
{
	struct dns_name_iter a, b;
	const uint8_t *la, *lb;
	uint8_t na, nb;

	if (x == y)
		return true;
	dns_name_iter_init(&a, m, x);
	dns_name_iter_init(&b, m, y);
	do {
		if (!dns_label_next(&a, &la, &na) || !dns_label_next(&b, &lb, &nb))
			return false;
		if (na != nb || !dns_label_equal(la, lb, na))
			return false;
	} while (na);
	return true;
}

/* ---- sections ----------------------------------------------------------- */

static bool dns_skip_question(const struct dns_msg *m, struct cursor *c, char *text)
{
	size_t end = dns_name_walk(m, dns_pos(m, c), text);

	if (!end)
		return false;
	*c = dns_cursor_at(m, end);
	return rd_skip(c, 4);	/* QTYPE, QCLASS */
}

/* Reads one resource record; *keep says whether it is one we use. */
static bool dns_read_rr(const struct dns_msg *m, struct cursor *c, struct dns_rr *rr,
			bool *keep)
{
	uint16_t class;
	size_t end;

	rr->owner = dns_pos(m, c);
	end = dns_name_walk(m, rr->owner, NULL);
	if (!end)
		return false;
	*c = dns_cursor_at(m, end);
	if (!rd_u16be(c, &rr->type) || !rd_u16be(c, &class) || !rd_u32be(c, &rr->ttl) ||
	    !rd_u16be(c, &rr->rdlen))
		return false;
	rr->rdata = dns_pos(m, c);
	if (!rd_skip(c, rr->rdlen))
		return false;
	if (rr->ttl > INT32_MAX)
		rr->ttl = 0;	/* RFC 2181 8 */
	*keep = class == DNS_CLASS_IN;
	switch (rr->type) {
	case DNS_TYPE_A:
		return !*keep || rr->rdlen == 4;
	case DNS_TYPE_AAAA:
		return !*keep || rr->rdlen == 16;
	case DNS_TYPE_CNAME:	/* the target must fill the RDATA exactly */
		return !*keep || dns_name_walk(m, rr->rdata, NULL) == rr->rdata + rr->rdlen;
	default:
		*keep = false;
		return true;
	}
}

/* ---- reporting ---------------------------------------------------------- */

struct dns_chain {
	size_t name[DNS_CHAIN_MAX + 1];	/* [0] is the question name */
	uint32_t ttl[DNS_CHAIN_MAX + 1];	/* smallest CNAME TTL up to here */
	unsigned n;
};

static const struct dns_rr *dns_find_cname(const struct dns_msg *m, const struct dns_rr *rr,
					   unsigned nrr, size_t owner)
{
	for (unsigned i = 0; i < nrr; i++)
		if (rr[i].type == DNS_TYPE_CNAME && dns_name_equal(m, rr[i].owner, owner))
			return &rr[i];
	return NULL;
}

static void dns_build_chain(const struct dns_msg *m, const struct dns_rr *rr, unsigned nrr,
			    size_t qname, struct dns_chain *ch)
{
	const struct dns_rr *cn;

	ch->name[0] = qname;
	ch->ttl[0] = UINT32_MAX;
	ch->n = 1;
	while (ch->n <= DNS_CHAIN_MAX &&
	       (cn = dns_find_cname(m, rr, nrr, ch->name[ch->n - 1]))) {
		ch->name[ch->n] = cn->rdata;
		ch->ttl[ch->n] = cn->ttl < ch->ttl[ch->n - 1] ? cn->ttl : ch->ttl[ch->n - 1];
		ch->n++;
	}
}

static void dns_report(const struct dns_msg *m, const struct dns_rr *rr, unsigned nrr,
		       const struct dns_chain *ch, const char *qname,
		       dns_answer_fn fn, void *ctx)
{
	for (unsigned i = 0; i < nrr; i++) {
		struct ip_addr addr;

		if (rr[i].type != DNS_TYPE_A && rr[i].type != DNS_TYPE_AAAA)
			continue;
		for (unsigned j = 0; j < ch->n; j++) {
			if (!dns_name_equal(m, rr[i].owner, ch->name[j]))
				continue;
			ip_addr_set(&addr, rr[i].type == DNS_TYPE_A ? AF_INET : AF_INET6,
				    m->p + rr[i].rdata);
			fn(ctx, qname, &addr, rr[i].ttl < ch->ttl[j] ? rr[i].ttl : ch->ttl[j]);
			break;
		}
	}
}

enum dns_snoop_result dns_snoop_response(const uint8_t *msg, size_t len,
					 dns_answer_fn fn, void *ctx)
{
	struct dns_msg m = { msg, len };
	struct cursor c = cursor_init(msg, len);
	uint16_t flags, qd, an;
	struct dns_rr rr[DNS_RECORDS_MAX];
	char qname[DNS_NAME_MAX + 1];
	struct dns_chain chain;
	unsigned nrr = 0;

	/* ID, flags, QDCOUNT, ANCOUNT; NSCOUNT and ARCOUNT are not used */
	if (!rd_skip(&c, 2) || !rd_u16be(&c, &flags) || !rd_u16be(&c, &qd) ||
	    !rd_u16be(&c, &an) || !rd_skip(&c, 4))
		return DNS_SNOOP_MALFORMED;
	if (!(flags & DNS_FLAG_QR) || (flags & DNS_RCODE_MASK))
		return DNS_SNOOP_NOT_RESPONSE;
	for (unsigned i = 0; i < qd; i++)
		if (!dns_skip_question(&m, &c, i == 0 ? qname : NULL))
			return DNS_SNOOP_MALFORMED;
	for (unsigned i = 0; i < an; i++) {
		struct dns_rr one;
		bool keep;

		if (!dns_read_rr(&m, &c, &one, &keep))
			return DNS_SNOOP_MALFORMED;
		if (keep && nrr < DNS_RECORDS_MAX)
			rr[nrr++] = one;
	}
	if (qd == 0 || !fn)
		return DNS_SNOOP_OK;	/* nothing asked, nothing to name */
	dns_build_chain(&m, rr, nrr, DNS_HDR_LEN, &chain);
	dns_report(&m, rr, nrr, &chain, qname, fn, ctx);
	return DNS_SNOOP_OK;
}
