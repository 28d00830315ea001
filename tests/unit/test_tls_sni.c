/* test_tls_sni: a real ClientHello captured from `openssl s_client
 * -servername www.example.com` (tests/fixtures/tls_clienthello_openssl.bin,
 * read relative to the repository root where the tests run), cut at every
 * byte; hand-built ClientHellos for each rule; random corruption. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "dataplane/tls_sni.h"
#include "test.h"

#define FIXTURE "tests/fixtures/tls_clienthello_openssl.bin"

static size_t load_fixture(uint8_t *buf, size_t cap)
{
	FILE *f = fopen(FIXTURE, "rb");
	size_t n;

	if (!f) {
		fprintf(stderr, "cannot open %s (run from the repository root)\n", FIXTURE);
		return 0;
	}
	n = fread(buf, 1, cap, f);
	fclose(f);
	return n;
}

/* Offset just past the server_name extension in the fixture. */
static size_t fixture_sni_end(const uint8_t *b, size_t n)
{
	size_t i = 5 + 4 + 2 + 32;

	i += 1 + b[i];
	i += 2 + (size_t)(b[i] << 8 | b[i + 1]);
	i += 1 + b[i];
	i += 2;
	while (i + 4 <= n) {
		size_t len = (size_t)(b[i + 2] << 8 | b[i + 3]);

		if (b[i] == 0 && b[i + 1] == 0)
			return i + 4 + len;
		i += 4 + len;
	}
	return 0;
}

static void test_openssl_fixture(void)
{
	uint8_t b[1024];
	size_t n = load_fixture(b, sizeof(b)), end = fixture_sni_end(b, n);
	char out[256];

	CHECK(n > 200 && end > 0);
	CHECK(tls_sni_parse(b, n, out, sizeof(out)) == TLS_SNI_OK);
	CHECK(!strcmp(out, "www.example.com"));
	/* cut at every byte: TRUNCATED until the SNI is whole, then the name */
	for (size_t cut = 0; cut < n; cut++) {
		enum tls_sni_result r;

		memset(out, 'Z', sizeof(out));
		r = tls_sni_parse(b, cut, out, sizeof(out));
		if (cut < end)
			CHECK(r == TLS_SNI_TRUNCATED);
		else
			CHECK(r == TLS_SNI_OK && !strcmp(out, "www.example.com"));
	}
	CHECK(!strcmp(tls_sni_result_names[TLS_SNI_TRUNCATED], "truncated"));
}

/* ---- a ClientHello builder -------------------------------------------- */

struct buf {
	uint8_t b[4096];
	size_t n;
};

static void put(struct buf *b, const void *p, size_t n)
{
	memcpy(b->b + b->n, p, n);
	b->n += n;
}

static void put8(struct buf *b, unsigned v)
{
	b->b[b->n++] = (uint8_t)v;
}

static void put16(struct buf *b, unsigned v)
{
	put8(b, v >> 8);
	put8(b, v & 0xff);
}

static void put24(struct buf *b, unsigned v)
{
	put8(b, v >> 16);
	put16(b, v & 0xffff);
}

static void ext_sni(struct buf *e, unsigned type, const char *name)
{
	size_t n = strlen(name);

	put16(e, 0);			/* server_name */
	put16(e, (unsigned)(n + 5));
	put16(e, (unsigned)(n + 3));	/* ServerNameList */
	put8(e, type);
	put16(e, (unsigned)n);
	put(e, name, n);
}

static void ext_other(struct buf *e, unsigned type, size_t len)
{
	put16(e, type);
	put16(e, (unsigned)len);
	for (size_t i = 0; i < len; i++)
		put8(e, (unsigned)i);
}

struct hello_opts {
	unsigned session_id_len, cipher_bytes, compression_len;
	bool no_extensions;
	int record_len_delta;	/* added to the true record length */
};

/* Wraps extensions in a ClientHello, a handshake header and a record. */
static void build(struct buf *out, const struct buf *ext, const struct hello_opts *o)
{
	struct buf h = { .n = 0 };

	put16(&h, 0x0303);
	for (int i = 0; i < 32; i++)
		put8(&h, (unsigned)i);
	put8(&h, o->session_id_len);
	for (unsigned i = 0; i < o->session_id_len; i++)
		put8(&h, 0xaa);
	put16(&h, o->cipher_bytes);
	for (unsigned i = 0; i < o->cipher_bytes; i++)
		put8(&h, 0x13);
	put8(&h, o->compression_len);
	for (unsigned i = 0; i < o->compression_len; i++)
		put8(&h, 0);
	if (!o->no_extensions) {
		put16(&h, (unsigned)ext->n);
		put(&h, ext->b, ext->n);
	}
	out->n = 0;
	put8(out, 22);
	put16(out, 0x0301);
	put16(out, (unsigned)((int)h.n + 4 + o->record_len_delta));
	put8(out, 1);
	put24(out, (unsigned)h.n);
	put(out, h.b, h.n);
}

static const struct hello_opts std_opts = { 32, 6, 1, false, 0 };

static enum tls_sni_result parse_ext(const struct buf *ext, char *out)
{
	struct buf rec;

	build(&rec, ext, &std_opts);
	return tls_sni_parse(rec.b, rec.n, out, 256);
}

static void test_built_ok_and_case(void)
{
	struct buf e = { .n = 0 };
	char out[256];

	ext_other(&e, 10, 8);
	ext_sni(&e, 0, "Mail.Example.ORG");
	ext_other(&e, 43, 3);
	CHECK(parse_ext(&e, out) == TLS_SNI_OK && !strcmp(out, "mail.example.org"));
	e.n = 0;
	ext_sni(&e, 0, "under_score-1.example");
	CHECK(parse_ext(&e, out) == TLS_SNI_OK && !strcmp(out, "under_score-1.example"));
}

static void test_no_sni(void)
{
	struct hello_opts o = std_opts;
	struct buf e = { .n = 0 }, rec;
	char out[256];

	ext_other(&e, 10, 8);
	ext_other(&e, 13, 20);
	CHECK(parse_ext(&e, out) == TLS_SNI_NO_SNI);
	o.no_extensions = true;
	build(&rec, &e, &o);
	CHECK(tls_sni_parse(rec.b, rec.n, out, sizeof(out)) == TLS_SNI_NO_SNI);
	e.n = 0;	/* a server_name list with no host_name entry */
	put16(&e, 0);
	put16(&e, 9);
	put16(&e, 7);
	put8(&e, 1);
	put16(&e, 4);
	put(&e, "abcd", 4);
	CHECK(parse_ext(&e, out) == TLS_SNI_NO_SNI);
}

static void test_skips_other_name_types(void)
{
	struct buf e = { .n = 0 };
	char out[256];

	put16(&e, 0);
	put16(&e, 2 + 3 + 4 + 3 + 11);
	put16(&e, 3 + 4 + 3 + 11);
	put8(&e, 7);
	put16(&e, 4);
	put(&e, "\x01\x02\x03\x04", 4);
	put8(&e, 0);
	put16(&e, 11);
	put(&e, "example.net", 11);
	CHECK(parse_ext(&e, out) == TLS_SNI_OK && !strcmp(out, "example.net"));
}

static void test_not_tls(void)
{
	const char *http = "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n";
	struct buf e = { .n = 0 }, rec;
	char out[256];

	CHECK(tls_sni_parse((const uint8_t *)http, strlen(http), out, 256) == TLS_SNI_NOT_TLS);
	ext_sni(&e, 0, "example.com");
	build(&rec, &e, &std_opts);
	rec.b[5] = 2;		/* ServerHello */
	CHECK(tls_sni_parse(rec.b, rec.n, out, 256) == TLS_SNI_NOT_TLS);
	rec.b[5] = 1;
	rec.b[1] = 2;		/* not TLS 1.x */
	CHECK(tls_sni_parse(rec.b, rec.n, out, 256) == TLS_SNI_NOT_TLS);
	CHECK(tls_sni_parse(rec.b, 2, out, 256) == TLS_SNI_NOT_TLS);
	rec.b[1] = 3;
	rec.b[0] = 23;		/* application data */
	CHECK(tls_sni_parse(rec.b, rec.n, out, 256) == TLS_SNI_NOT_TLS);
	CHECK(tls_sni_parse(rec.b, 0, out, 256) == TLS_SNI_TRUNCATED);
}

static void test_bad_names(void)
{
	const char *bad[] = { "exa mple.com", "a..b", ".a.b", "a.b.", "x/y", "caf\xc3\xa9.fr",
			      "a\x01\x62", "." };
	struct buf e;
	char out[256], big[300];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		e.n = 0;
		ext_sni(&e, 0, bad[i]);
		CHECK(parse_ext(&e, out) == TLS_SNI_MALFORMED);
	}
	e.n = 0;
	put16(&e, 0);		/* empty host name */
	put16(&e, 5);
	put16(&e, 3);
	put8(&e, 0);
	put16(&e, 0);
	CHECK(parse_ext(&e, out) == TLS_SNI_MALFORMED);
	memset(big, 'a', sizeof(big));
	big[253] = '\0';
	e.n = 0;
	ext_sni(&e, 0, big);
	CHECK(parse_ext(&e, out) == TLS_SNI_OK && strlen(out) == 253);
	big[253] = 'a';
	big[254] = '\0';
	e.n = 0;
	ext_sni(&e, 0, big);
	CHECK(parse_ext(&e, out) == TLS_SNI_MALFORMED);
	/* a name that would not fit the caller's buffer */
	e.n = 0;
	ext_sni(&e, 0, "www.example.com");
	{
		struct buf rec;

		build(&rec, &e, &std_opts);
		CHECK(tls_sni_parse(rec.b, rec.n, out, 15) == TLS_SNI_MALFORMED);
		CHECK(tls_sni_parse(rec.b, rec.n, out, 16) == TLS_SNI_OK);
	}
}

static void test_bad_lengths(void)
{
	struct hello_opts o = std_opts;
	struct buf e = { .n = 0 }, rec;
	char out[256];

	ext_sni(&e, 0, "example.com");
	o.session_id_len = 33;
	build(&rec, &e, &o);
	CHECK(tls_sni_parse(rec.b, rec.n, out, 256) == TLS_SNI_MALFORMED);
	o = std_opts;
	o.cipher_bytes = 5;
	build(&rec, &e, &o);
	CHECK(tls_sni_parse(rec.b, rec.n, out, 256) == TLS_SNI_MALFORMED);
	o = std_opts;
	o.compression_len = 0;
	build(&rec, &e, &o);
	CHECK(tls_sni_parse(rec.b, rec.n, out, 256) == TLS_SNI_MALFORMED);
	/* the name list claims more than its extension holds */
	build(&rec, &e, &std_opts);
	rec.b[rec.n - 11 - 5 + 1] += 1;
	CHECK(tls_sni_parse(rec.b, rec.n, out, 256) == TLS_SNI_MALFORMED);
	/* the extensions block claims more than the handshake holds */
	build(&rec, &e, &std_opts);
	rec.b[rec.n - e.n - 1] += 1;
	CHECK(tls_sni_parse(rec.b, rec.n, out, 256) == TLS_SNI_MALFORMED);
	/* a record of length 0, and one over 2^14 */
	build(&rec, &e, &std_opts);
	rec.b[3] = rec.b[4] = 0;
	CHECK(tls_sni_parse(rec.b, rec.n, out, 256) == TLS_SNI_MALFORMED);
	rec.b[3] = 0x40;
	rec.b[4] = 0x01;
	CHECK(tls_sni_parse(rec.b, rec.n, out, 256) == TLS_SNI_MALFORMED);
}

/* A record longer than the segment: the SNI is found if it is whole. */
static void test_long_record(void)
{
	struct hello_opts o = std_opts;
	struct buf e = { .n = 0 }, rec;
	char out[256];

	ext_sni(&e, 0, "early.example");
	ext_other(&e, 21, 1500);	/* padding: the rest is in later segments */
	build(&rec, &e, &o);
	CHECK(tls_sni_parse(rec.b, 200, out, 256) == TLS_SNI_OK && !strcmp(out, "early.example"));
	e.n = 0;
	ext_other(&e, 21, 1500);
	ext_sni(&e, 0, "late.example");
	build(&rec, &e, &o);
	CHECK(tls_sni_parse(rec.b, 1400, out, 256) == TLS_SNI_TRUNCATED);
	CHECK(tls_sni_parse(rec.b, rec.n, out, 256) == TLS_SNI_OK && !strcmp(out, "late.example"));
	/* the handshake continues in a second record: what is here is read */
	o.record_len_delta = -1000;
	e.n = 0;
	ext_sni(&e, 0, "first.example");
	ext_other(&e, 21, 1500);
	build(&rec, &e, &o);
	CHECK(tls_sni_parse(rec.b, rec.n, out, 256) == TLS_SNI_OK && !strcmp(out, "first.example"));
}

static void test_built_truncation(void)
{
	struct buf e = { .n = 0 }, rec;
	char out[256];

	ext_other(&e, 10, 30);
	ext_sni(&e, 0, "cut.example");
	ext_other(&e, 13, 30);
	build(&rec, &e, &std_opts);
	for (size_t cut = 0; cut < rec.n; cut++) {
		enum tls_sni_result r = tls_sni_parse(rec.b, cut, out, sizeof(out));

		CHECK(r == TLS_SNI_TRUNCATED || (r == TLS_SNI_OK && !strcmp(out, "cut.example")));
		CHECK(r == TLS_SNI_TRUNCATED || cut >= rec.n - 34);
	}
}

static bool name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 253)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyz0123456789-_.", s[i]))
			return false;
	return true;
}

static void test_random_corruption(void)
{
	uint8_t orig[1024], b[1024];
	size_t n = load_fixture(orig, sizeof(orig));
	uint64_t s = 42;
	char out[256];

	for (int i = 0; i < 100000 && n; i++) {
		size_t len = n;

		memcpy(b, orig, n);
		for (int k = 0; k < 3; k++) {
			s = s * 6364136223846793005ULL + 1442695040888963407ULL;
			b[(s >> 33) % n] ^= (uint8_t)(1u << (s >> 29 & 7));
		}
		if (i & 1)
			len = (size_t)(s >> 40) % (n + 1);
		if (tls_sni_parse(b, len, out, sizeof(out)) == TLS_SNI_OK)
			CHECK(name_ok(out));
	}
}

TEST_MAIN("tls_sni",
	  TEST(test_openssl_fixture),
	  TEST(test_built_ok_and_case),
	  TEST(test_no_sni),
	  TEST(test_skips_other_name_types),
	  TEST(test_not_tls),
	  TEST(test_bad_names),
	  TEST(test_bad_lengths),
	  TEST(test_long_record),
	  TEST(test_built_truncation),
	  TEST(test_random_corruption))
