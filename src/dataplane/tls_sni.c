/* tls_sni: the host name in the server_name extension of a TLS
 * ClientHello, read from the first TCP segment only.
 *
 * Every length in a ClientHello nests inside another (record, handshake,
 * extensions block, one extension, name list, name). Each level is read
 * through its own struct tls_rd: a cursor over the bytes this segment
 * holds, plus how many bytes the enclosing lengths promise beyond them.
 * A read that runs out of bytes is then TRUNCATED when the missing bytes
 * would cover it and MALFORMED when even the declared lengths do not, so
 * a ClientHello cut anywhere never yields garbage, and one whose SNI lies
 * wholly in the bytes we have is answered even if the rest is missing. */
#include "dataplane/tls_sni.h"

#include <stdbool.h>
#include <string.h>

#include "common/cursor.h"

#define TLS_CONTENT_HANDSHAKE 22
#define TLS_MAJOR 3
#define TLS_RECORD_MAX 16384		/* RFC 8446 5.1: plaintext records */
#define TLS_HANDSHAKE_CLIENT_HELLO 1
#define TLS_RANDOM_LEN 32
#define TLS_SESSION_ID_MAX 32
#define TLS_EXT_SERVER_NAME 0
#define TLS_NAME_TYPE_HOST 0
#define TLS_HOST_NAME_MAX 253

const char *const tls_sni_result_names[TLS_SNI__MAX] = {
	[TLS_SNI_OK] = "ok",
	[TLS_SNI_NOT_TLS] = "not_tls",
	[TLS_SNI_NO_SNI] = "no_sni",
	[TLS_SNI_TRUNCATED] = "truncated",
	[TLS_SNI_MALFORMED] = "malformed",
};

struct tls_rd {
	struct cursor c;
	size_t missing;		/* declared bytes not in this segment */
};

/* TLS_SNI_OK when n bytes can be read, else why not. */
static enum tls_sni_result tls_need(const struct tls_rd *rd, size_t n)
{
	if (rd->c.left >= n)
		return TLS_SNI_OK;
	return rd->c.left + rd->missing >= n ? TLS_SNI_TRUNCATED : TLS_SNI_MALFORMED;
}

static bool tls_done(const struct tls_rd *rd)
{
	return rd->c.left == 0 && rd->missing == 0;
}

static enum tls_sni_result tls_u8(struct tls_rd *rd, uint8_t *v)
{
	enum tls_sni_result r = tls_need(rd, 1);

	if (r == TLS_SNI_OK)
		rd_u8(&rd->c, v);
	return r;
}

static enum tls_sni_result tls_u16(struct tls_rd *rd, uint16_t *v)
{
	enum tls_sni_result r = tls_need(rd, 2);

	if (r == TLS_SNI_OK)
		rd_u16be(&rd->c, v);
	return r;
}

static enum tls_sni_result tls_skip(struct tls_rd *rd, size_t n)
{
	enum tls_sni_result r = tls_need(rd, n);

	if (r == TLS_SNI_OK)
		rd_skip(&rd->c, n);
	return r;
}

/* Carves the next len bytes of parent out as sub. With lenient, len may
 * exceed what the parent declares (a handshake message continued in the
 * next record): the excess simply counts as missing. */
static enum tls_sni_result tls_sub(struct tls_rd *parent, size_t len, bool lenient,
				   struct tls_rd *sub)
{
	size_t have = len < parent->c.left ? len : parent->c.left;

	if (!lenient && len > parent->c.left + parent->missing)
		return TLS_SNI_MALFORMED;
	sub->c = cursor_init(rd_ptr(&parent->c, have), have);
	sub->missing = len - have;
	if (parent->c.left == 0)
		parent->missing = sub->missing > parent->missing ? 0 :
				  parent->missing - sub->missing;
	return TLS_SNI_OK;
}

/* A length-prefixed block (prefix of 1 or 2 bytes) as a sub-reader. */
static enum tls_sni_result tls_block(struct tls_rd *parent, int prefix, struct tls_rd *sub)
{
	enum tls_sni_result r;
	uint16_t len16 = 0;
	uint8_t len8 = 0;

	r = prefix == 1 ? tls_u8(parent, &len8) : tls_u16(parent, &len16);
	if (r != TLS_SNI_OK)
		return r;
	return tls_sub(parent, prefix == 1 ? len8 : len16, false, sub);
}

/* Lower-cases into out and checks for a plausible host name: letters,
 * digits, '-', '_' and dots between non-empty labels. */
static enum tls_sni_result tls_host_name(const uint8_t *p, size_t n, char *out, size_t cap)
{
	if (n == 0 || n > TLS_HOST_NAME_MAX || n >= cap || p[0] == '.' || p[n - 1] == '.')
		return TLS_SNI_MALFORMED;
	for (size_t i = 0; i < n; i++) {
		uint8_t ch = p[i];

		if (ch >= 'A' && ch <= 'Z')
			ch = (uint8_t)(ch + ('a' - 'A'));
		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' ||
		      ch == '_' || ch == '.') || (ch == '.' && p[i - 1] == '.'))
			return TLS_SNI_MALFORMED;
		out[i] = (char)ch;
	}
	out[n] = '\0';
	return TLS_SNI_OK;
}

/* RFC 6066 3: ServerNameList, the first host_name entry. */
static enum tls_sni_result tls_server_name(struct tls_rd *ext, char *out, size_t cap)
{
	struct tls_rd list, name;
	enum tls_sni_result r;
	uint8_t type;

	r = tls_block(ext, 2, &list);
	while (r == TLS_SNI_OK && !tls_done(&list)) {
		r = tls_u8(&list, &type);
		if (r == TLS_SNI_OK)
			r = tls_block(&list, 2, &name);
		if (r != TLS_SNI_OK || type != TLS_NAME_TYPE_HOST)
			continue;
		if (name.missing)
			return TLS_SNI_TRUNCATED;
		return tls_host_name(name.c.p, name.c.left, out, cap);
	}
	return r == TLS_SNI_OK ? TLS_SNI_NO_SNI : r;
}

static enum tls_sni_result tls_extensions(struct tls_rd *hello, char *out, size_t cap)
{
	struct tls_rd exts, ext;
	enum tls_sni_result r;
	uint16_t type;

	if (tls_done(hello))
		return TLS_SNI_NO_SNI;	/* a ClientHello may end before them */
	r = tls_block(hello, 2, &exts);
	while (r == TLS_SNI_OK && !tls_done(&exts)) {
		r = tls_u16(&exts, &type);
		if (r == TLS_SNI_OK)
			r = tls_block(&exts, 2, &ext);
		if (r == TLS_SNI_OK && type == TLS_EXT_SERVER_NAME)
			return tls_server_name(&ext, out, cap);
	}
	return r == TLS_SNI_OK ? TLS_SNI_NO_SNI : r;
}

/* RFC 8446 4.1.2, up to the extensions. */
static enum tls_sni_result tls_client_hello(struct tls_rd *hello, char *out, size_t cap)
{
	struct tls_rd skip;
	enum tls_sni_result r;

	r = tls_skip(hello, 2 + TLS_RANDOM_LEN);	/* legacy_version, random */
	if (r == TLS_SNI_OK)
		r = tls_block(hello, 1, &skip);		/* legacy_session_id */
	if (r == TLS_SNI_OK && skip.c.left + skip.missing > TLS_SESSION_ID_MAX)
		r = TLS_SNI_MALFORMED;
	if (r == TLS_SNI_OK)
		r = tls_block(hello, 2, &skip);		/* cipher_suites */
	if (r == TLS_SNI_OK && (skip.c.left + skip.missing < 2 ||
				(skip.c.left + skip.missing) % 2))
		r = TLS_SNI_MALFORMED;
	if (r == TLS_SNI_OK)
		r = tls_block(hello, 1, &skip);		/* legacy_compression_methods */
	if (r == TLS_SNI_OK && skip.c.left + skip.missing < 1)
		r = TLS_SNI_MALFORMED;
	if (r != TLS_SNI_OK)
		return r;
	return tls_extensions(hello, out, cap);
}

enum tls_sni_result tls_sni_parse(const uint8_t *payload, size_t len, char *out, size_t cap)
{
	struct tls_rd seg = { cursor_init(payload, len), 0 }, rec, hello;
	uint8_t type = 0, major = 0, minor, hs_type = 0;
	uint16_t rec_len = 0;
	enum tls_sni_result r;
	uint32_t hs_len;
	const uint8_t *p;

	/* Each header byte is judged as it arrives, so a segment holding
	 * only the start of a record still says NOT_TLS or TRUNCATED. */
	if (!rd_u8(&seg.c, &type) || type != TLS_CONTENT_HANDSHAKE)
		return len ? TLS_SNI_NOT_TLS : TLS_SNI_TRUNCATED;
	if (!rd_u8(&seg.c, &major) || major != TLS_MAJOR)
		return len > 1 ? TLS_SNI_NOT_TLS : TLS_SNI_TRUNCATED;
	if (!rd_u8(&seg.c, &minor) || !rd_u16be(&seg.c, &rec_len))	/* any 3.x */
		return TLS_SNI_TRUNCATED;
	if (rec_len == 0 || rec_len > TLS_RECORD_MAX)
		return TLS_SNI_MALFORMED;
	tls_sub(&seg, rec_len, true, &rec);
	r = tls_u8(&rec, &hs_type);
	if (r != TLS_SNI_OK)
		return r;
	if (hs_type != TLS_HANDSHAKE_CLIENT_HELLO)
		return TLS_SNI_NOT_TLS;
	r = tls_need(&rec, 3);
	if (r != TLS_SNI_OK)
		return r;
	p = rd_ptr(&rec.c, 3);
	hs_len = (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
	tls_sub(&rec, hs_len, true, &hello);
	return tls_client_hello(&hello, out, cap);
}
