/* uapi: framing, parsing and formatting of the configuration protocol.
 * A "set" is parsed line by line into a struct wg_device_conf, every value
 * checked the way wireguard-go checks it, and handed to the device whole;
 * a "get" is formatted from the struct the device fills in. Input is never
 * treated as a C string: lines are (pointer, length) pairs that may hold
 * NUL bytes, and are copied into bounded buffers only for inet_pton. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "wg/uapi.h"

#define OP_GET "get=1\n"
#define OP_SET "set=1\n"
#define OP_LEN 6

/* ---- framing ---- */

ssize_t uapi_request_length(const char *buf, size_t len)
{
	size_t n = len < UAPI_MAX_REQUEST ? len : UAPI_MAX_REQUEST;
	size_t pos;

	/* Not (a prefix of) an operation: complete at the first byte that
	 * says so, so that garbage is refused without waiting for more. */
	for (pos = 0; pos < n && pos < OP_LEN; pos++)
		if (buf[pos] != OP_GET[pos] && buf[pos] != OP_SET[pos])
			return (ssize_t)pos + 1;
	if (pos == OP_LEN && buf[0] == 'g')
		return n > OP_LEN ? OP_LEN + 1 : 0;
	while (pos < n) {
		const char *nl = memchr(buf + pos, '\n', n - pos);
		size_t line;

		if (!nl)
			break;
		line = (size_t)(nl - (buf + pos));
		if (line == 0 || (line == 1 && buf[pos] == '\r'))
			return nl - buf + 1;
		pos += line + 1;
	}
	return len >= UAPI_MAX_REQUEST ? -EMSGSIZE : 0;
}

/* ---- output buffer: grows by copy, wiping the old block (keys) ---- */

struct strbuf {
	char *p;
	size_t len, cap;
	bool ok;
};

static bool sb_reserve(struct strbuf *b, size_t extra)
{
	size_t cap;
	char *p;

	if (!b->ok)
		return false;
	if (extra < b->cap - b->len)
		return true;
	if (extra > SIZE_MAX / 4 - b->len)
		goto fail;
	cap = b->cap ? b->cap : 512;
	while (cap <= b->len + extra)
		cap *= 2;
	p = malloc(cap);
	if (!p)
		goto fail;
	if (b->p) {
		memcpy(p, b->p, b->len);
		OPENSSL_cleanse(b->p, b->cap);
		free(b->p);
	}
	b->p = p;
	b->cap = cap;
	b->p[b->len] = '\0';
	return true;
fail:
	b->ok = false;
	return false;
}

__attribute__((format(printf, 2, 3)))
static void sb_printf(struct strbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->ok = false;
		return;
	}
	if (!sb_reserve(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

static void sb_key(struct strbuf *b, const char *name, const uint8_t key[32])
{
	static const char hex[] = "0123456789abcdef";
	size_t nlen = strlen(name);
	char *o;

	if (!sb_reserve(b, nlen + 1 + 64 + 1))
		return;
	o = b->p + b->len;
	memcpy(o, name, nlen);
	o += nlen;
	*o++ = '=';
	for (int i = 0; i < 32; i++) {
		*o++ = hex[key[i] >> 4];
		*o++ = hex[key[i] & 0xf];
	}
	*o++ = '\n';
	*o = '\0';
	b->len += nlen + 1 + 64 + 1;
}

static void sb_free(struct strbuf *b)
{
	if (b->p) {
		OPENSSL_cleanse(b->p, b->cap);
		free(b->p);
	}
	*b = (struct strbuf){ 0 };
}

void uapi_free_response(char *resp, size_t len)
{
	if (!resp)
		return;
	OPENSSL_cleanse(resp, len);
	free(resp);
}

/* ---- get ---- */

static bool key_is_zero(const uint8_t k[32])
{
	uint8_t acc = 0;

	for (int i = 0; i < 32; i++)
		acc |= k[i];
	return acc == 0;
}

/* IPv6 text as Go's netip writes it (RFC 5952; "::ffff:a.b.c.d" for
 * v4-mapped only), which is what wireguard-go answers. out >= 46 bytes. */
static void format_ip6(const uint8_t a[16], char *out, size_t cap)
{
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };
	int zs = -1, ze = -1;
	size_t o = 0;

	if (memcmp(a, mapped, sizeof(mapped)) == 0) {
		snprintf(out, cap, "::ffff:%u.%u.%u.%u", a[12], a[13], a[14], a[15]);
		return;
	}
	for (int i = 0; i < 8; i++) {
		int j = i;

		while (j < 8 && a[2 * j] == 0 && a[2 * j + 1] == 0)
			j++;
		if (j - i >= 2 && j - i > ze - zs) {
			zs = i;
			ze = j;
		}
	}
	out[0] = '\0';
	for (int i = 0; i < 8 && o < cap; i++) {
		if (i == zs) {
			o += (size_t)snprintf(out + o, cap - o, "::");
			i = ze - 1;
			continue;
		}
		o += (size_t)snprintf(out + o, cap - o, "%s%x",
				      i > 0 && i != ze ? ":" : "",
				      (unsigned)(a[2 * i] << 8 | a[2 * i + 1]));
	}
}

static void sb_allowed_ip(struct strbuf *b, const struct wg_allowed_ip *in)
{
	struct wg_allowed_ip ip = *in;
	char text[64];

	if (ip.family != AF_INET && ip.family != AF_INET6)
		return;
	wg_allowed_ip_canonicalize(&ip);
	if (ip.family == AF_INET) {
		if (ip.cidr > 32)
			ip.cidr = 32;
		snprintf(text, sizeof(text), "%u.%u.%u.%u",
			 ip.addr[0], ip.addr[1], ip.addr[2], ip.addr[3]);
	} else {
		if (ip.cidr > 128)
			ip.cidr = 128;
		format_ip6(ip.addr, text, sizeof(text));
	}
	sb_printf(b, "allowed_ip=%s/%u\n", text, ip.cidr);
}

static void sb_peer(struct strbuf *b, const struct wg_peer_conf *p)
{
	sb_key(b, "public_key", p->public_key);
	sb_key(b, "preshared_key", p->preshared_key);
	sb_printf(b, "protocol_version=1\n");
	if (p->endpoint.sa.sa_family == AF_INET || p->endpoint.sa.sa_family == AF_INET6) {
		char ep[128];

		wg_sockaddr_format(&p->endpoint, ep, sizeof(ep));
		sb_printf(b, "endpoint=%s\n", ep);
	}
	sb_printf(b, "last_handshake_time_sec=%lld\n", (long long)p->last_handshake.tv_sec);
	sb_printf(b, "last_handshake_time_nsec=%ld\n", (long)p->last_handshake.tv_nsec);
	sb_printf(b, "tx_bytes=%" PRIu64 "\n", p->tx_bytes);
	sb_printf(b, "rx_bytes=%" PRIu64 "\n", p->rx_bytes);
	sb_printf(b, "persistent_keepalive_interval=%u\n", p->persistent_keepalive_interval);
	for (size_t i = 0; i < p->n_allowed_ips; i++)
		sb_allowed_ip(b, &p->allowed_ips[i]);
}

static void sb_get(struct strbuf *b, const struct wg_device_conf *c)
{
	if (!key_is_zero(c->private_key))
		sb_key(b, "private_key", c->private_key);
	if (c->listen_port)
		sb_printf(b, "listen_port=%u\n", c->listen_port);
	if (c->fwmark)
		sb_printf(b, "fwmark=%" PRIu32 "\n", c->fwmark);
	for (size_t i = 0; i < c->n_peers; i++)
		sb_peer(b, &c->peers[i]);
}

int uapi_format_get(const struct wg_device_conf *conf, char **out, size_t *outlen)
{
	struct strbuf b = { .ok = true };

	*out = NULL;
	*outlen = 0;
	sb_reserve(&b, 0);
	sb_get(&b, conf);
	if (!b.ok) {
		sb_free(&b);
		return -ENOMEM;
	}
	*out = b.p;
	*outlen = b.len;
	return 0;
}

/* ---- set ---- */

struct set_parser {
	struct wg_device_conf *conf;
	size_t peer;		/* 1 + index of the peer being set; 0: device */
	bool removed;		/* remove=true seen: check, do not record */
	unsigned line;
	char *err;
	size_t errcap;
};

__attribute__((format(printf, 3, 4)))
static int set_error(struct set_parser *s, int code, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!s->err || !s->errcap)
		return code;
	n = snprintf(s->err, s->errcap, "line %u: ", s->line);
	if (n >= 0 && (size_t)n < s->errcap) {
		va_start(ap, fmt);
		vsnprintf(s->err + n, s->errcap - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return code;
}

static bool str_is(const char *s, size_t n, const char *lit)
{
	return n == strlen(lit) && memcmp(s, lit, n) == 0;
}

/* Decimal digits only (no sign, space or prefix), leading zeros allowed,
 * at most max: Go's strconv.ParseUint(s, 10, bits). */
static bool parse_uint(const char *s, size_t n, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned d = (unsigned char)s[i] - '0';

		if (d > 9 || v > (max - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

static int hex_nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Exactly 64 hex digits, either case (Go's hex.DecodeString). */
static bool parse_key(const char *s, size_t n, uint8_t out[32])
{
	uint8_t k[32];
	bool ok = n == 64;

	for (size_t i = 0; ok && i < 32; i++) {
		int hi = hex_nibble(s[2 * i]), lo = hex_nibble(s[2 * i + 1]);

		ok = hi >= 0 && lo >= 0;
		if (ok)
			k[i] = (uint8_t)(hi << 4 | lo);
	}
	if (ok)
		memcpy(out, k, 32);
	OPENSSL_cleanse(k, sizeof(k));
	return ok;
}

/* Copies s into a NUL-terminated buffer; false when it does not fit or
 * holds a NUL itself. */
static bool to_cstr(const char *s, size_t n, char *buf, size_t cap)
{
	if (n >= cap || memchr(s, '\0', n))
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return true;
}

/* "addr/cidr", v6 when addr holds a ':' (as wg(8) decides); host bits are
 * masked off, as wireguard-go's trie does. */
static bool parse_allowed_ip(const char *s, size_t n, struct wg_allowed_ip *out)
{
	const char *slash = memchr(s, '/', n);
	char addr[INET6_ADDRSTRLEN];
	struct wg_allowed_ip ip = { 0 };
	uint64_t cidr;
	size_t alen;

	if (!slash)
		return false;
	alen = (size_t)(slash - s);
	if (!to_cstr(s, alen, addr, sizeof(addr)))
		return false;
	ip.family = memchr(addr, ':', alen) ? AF_INET6 : AF_INET;
	if (inet_pton(ip.family, addr, ip.addr) != 1)
		return false;
	if (!parse_uint(slash + 1, n - alen - 1, ip.family == AF_INET ? 32 : 128, &cidr))
		return false;
	ip.cidr = (uint8_t)cidr;
	wg_allowed_ip_canonicalize(&ip);
	*out = ip;
	return true;
}

static bool parse_endpoint(const char *s, size_t n, union wg_sockaddr *out)
{
	char text[128];

	return to_cstr(s, n, text, sizeof(text)) && wg_sockaddr_parse(text, out);
}

static int set_device_line(struct set_parser *s, const char *k, size_t kn,
			   const char *v, size_t vn)
{
	struct wg_device_conf *c = s->conf;
	uint64_t num;

	if (str_is(k, kn, "private_key")) {
		if (!parse_key(v, vn, c->private_key))
			return set_error(s, UAPI_ERROR_INVALID, "invalid private_key");
		c->has_private_key = true;
	} else if (str_is(k, kn, "listen_port")) {
		if (!parse_uint(v, vn, UINT16_MAX, &num))
			return set_error(s, UAPI_ERROR_INVALID, "invalid listen_port");
		c->listen_port = (uint16_t)num;
		c->has_listen_port = true;
	} else if (str_is(k, kn, "fwmark")) {
		if (!parse_uint(v, vn, UINT32_MAX, &num))
			return set_error(s, UAPI_ERROR_INVALID, "invalid fwmark");
		c->fwmark = (uint32_t)num;
		c->has_fwmark = true;
	} else if (str_is(k, kn, "replace_peers")) {
		if (!str_is(v, vn, "true"))
			return set_error(s, UAPI_ERROR_INVALID, "invalid replace_peers value");
		c->replace_peers = true;
	} else {
		return set_error(s, UAPI_ERROR_INVALID, "invalid device key");
	}
	return 0;
}

/* The peer's fields other than its key, cleared by remove=true. */
static void peer_clear(struct wg_peer_conf *p)
{
	free(p->allowed_ips);
	OPENSSL_cleanse(p->preshared_key, sizeof(p->preshared_key));
	*p = (struct wg_peer_conf){ .public_key = { 0 } };
}

static int set_peer_line(struct set_parser *s, const char *k, size_t kn,
			 const char *v, size_t vn)
{
	struct wg_peer_conf *p = &s->conf->peers[s->peer - 1];
	bool rec = !s->removed;
	uint64_t num;

	if (str_is(k, kn, "update_only")) {
		if (!str_is(v, vn, "true"))
			return set_error(s, UAPI_ERROR_INVALID, "invalid update_only value");
		if (rec)
			p->update_only = true;
	} else if (str_is(k, kn, "remove")) {
		uint8_t pub[32];

		if (!str_is(v, vn, "true"))
			return set_error(s, UAPI_ERROR_INVALID, "invalid remove value");
		if (rec) {
			memcpy(pub, p->public_key, sizeof(pub));
			peer_clear(p);
			memcpy(p->public_key, pub, sizeof(pub));
			p->remove = true;
			s->removed = true;
		}
	} else if (str_is(k, kn, "preshared_key")) {
		uint8_t psk[32];

		if (!parse_key(v, vn, psk))
			return set_error(s, UAPI_ERROR_INVALID, "invalid preshared_key");
		if (rec) {
			memcpy(p->preshared_key, psk, sizeof(psk));
			p->has_preshared_key = true;
		}
		OPENSSL_cleanse(psk, sizeof(psk));
	} else if (str_is(k, kn, "endpoint")) {
		union wg_sockaddr ep;

		if (!parse_endpoint(v, vn, &ep))
			return set_error(s, UAPI_ERROR_INVALID, "invalid endpoint");
		if (rec) {
			p->endpoint = ep;
			p->has_endpoint = true;
		}
	} else if (str_is(k, kn, "persistent_keepalive_interval")) {
		if (!parse_uint(v, vn, UINT16_MAX, &num))
			return set_error(s, UAPI_ERROR_INVALID,
					 "invalid persistent_keepalive_interval");
		if (rec) {
			p->persistent_keepalive_interval = (uint16_t)num;
			p->has_persistent_keepalive = true;
		}
	} else if (str_is(k, kn, "replace_allowed_ips")) {
		if (!str_is(v, vn, "true"))
			return set_error(s, UAPI_ERROR_INVALID, "invalid replace_allowed_ips value");
		if (rec) {
			/* Drops what this request added so far too, as
			 * wireguard-go's line-by-line application does. */
			p->n_allowed_ips = 0;
			p->replace_allowed_ips = true;
		}
	} else if (str_is(k, kn, "allowed_ip")) {
		struct wg_allowed_ip ip;

		if (!parse_allowed_ip(v, vn, &ip))
			return set_error(s, UAPI_ERROR_INVALID, "invalid allowed_ip");
		if (rec && !wg_peer_conf_add_allowed_ip(p, &ip))
			return set_error(s, -ENOMEM, "out of memory");
	} else if (str_is(k, kn, "protocol_version")) {
		if (!str_is(v, vn, "1"))
			return set_error(s, UAPI_ERROR_INVALID, "invalid protocol_version");
	} else {
		return set_error(s, UAPI_ERROR_INVALID, "invalid peer key");
	}
	return 0;
}

static int set_public_key(struct set_parser *s, const char *v, size_t vn)
{
	uint8_t pub[32];
	struct wg_peer_conf *p;

	if (!parse_key(v, vn, pub))
		return set_error(s, UAPI_ERROR_INVALID, "invalid public_key");
	p = wg_device_conf_add_peer(s->conf);
	if (!p)
		return set_error(s, -ENOMEM, "out of memory");
	memcpy(p->public_key, pub, sizeof(pub));
	s->peer = s->conf->n_peers;
	s->removed = false;
	return 0;
}

static int set_line(struct set_parser *s, const char *line, size_t n)
{
	const char *eq = memchr(line, '=', n);
	size_t kn;

	if (!eq)
		return set_error(s, UAPI_ERROR_PROTOCOL, "no '=' in line");
	kn = (size_t)(eq - line);
	if (str_is(line, kn, "public_key"))
		return set_public_key(s, eq + 1, n - kn - 1);
	if (!s->peer)
		return set_device_line(s, line, kn, eq + 1, n - kn - 1);
	return set_peer_line(s, line, kn, eq + 1, n - kn - 1);
}

int uapi_parse_set(const char *body, size_t len, struct wg_device_conf *out,
		   char *err, size_t errcap)
{
	struct set_parser s = { .conf = out, .err = err, .errcap = errcap };
	size_t pos = 0;
	int ret = 0;

	memset(out, 0, sizeof(*out));
	if (err && errcap)
		err[0] = '\0';
	while (pos < len && ret == 0) {
		const char *line = body + pos, *nl = memchr(line, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - line) : len - pos;

		pos += n + 1;
		s.line++;
		if (n > UAPI_MAX_LINE) {
			ret = set_error(&s, UAPI_ERROR_IO, "line longer than %u bytes",
					UAPI_MAX_LINE);
			break;
		}
		if (n && line[n - 1] == '\r')
			n--;
		if (n == 0)
			break;
		ret = set_line(&s, line, n);
	}
	if (ret)
		wg_device_conf_free(out);
	return ret;
}

/* ---- requests ---- */

static int answer_errno(int code, char **resp, size_t *resp_len)
{
	char *r = malloc(32);
	int n;

	if (!r)
		return -ENOMEM;
	n = snprintf(r, 32, "errno=%d\n\n", code);
	*resp = r;
	*resp_len = (size_t)n;
	return 0;
}

/* A device returning a positive errno still gets a negative answer. */
static int neg(int r)
{
	return r > 0 ? -r : r;
}

static int handle_get(const struct uapi_ops *ops, void *ctx, char **resp, size_t *resp_len)
{
	struct wg_device_conf conf = { 0 };
	struct strbuf b = { .ok = true };
	int r = neg(ops->get(ctx, &conf));

	if (r == 0) {
		sb_reserve(&b, 0);
		sb_get(&b, &conf);
		sb_printf(&b, "errno=0\n\n");
	}
	wg_device_conf_free(&conf);
	if (r == 0 && b.ok) {
		*resp = b.p;
		*resp_len = b.len;
		return 0;
	}
	sb_free(&b);
	return answer_errno(r ? r : -ENOMEM, resp, resp_len);
}

static int handle_set(const struct uapi_ops *ops, void *ctx, const char *body,
		      size_t len, char **resp, size_t *resp_len)
{
	struct wg_device_conf conf;
	char err[160];
	int r = uapi_parse_set(body, len, &conf, err, sizeof(err));

	if (r == 0) {
		r = neg(ops->set(ctx, &conf));
		wg_device_conf_free(&conf);
	}
	return answer_errno(r, resp, resp_len);
}

int uapi_handle_request(const struct uapi_ops *ops, void *ctx, const char *req,
			size_t len, char **resp, size_t *resp_len)
{
	*resp = NULL;
	*resp_len = 0;
	if (len > OP_LEN && memcmp(req, OP_GET, OP_LEN) == 0) {
		/* wireguard-go reads one byte after "get=1\n" and answers
		 * -EINVAL unless it ends the request. */
		if (req[OP_LEN] != '\n')
			return answer_errno(UAPI_ERROR_INVALID, resp, resp_len);
		return handle_get(ops, ctx, resp, resp_len);
	}
	if (len >= OP_LEN && memcmp(req, OP_SET, OP_LEN) == 0)
		return handle_set(ops, ctx, req + OP_LEN, len - OP_LEN, resp, resp_len);
	return -EPROTO;
}
