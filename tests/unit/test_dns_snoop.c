/* test_dns_snoop: hand-built responses: plain answers, compression,
 * CNAME chains (the addresses come out under the question name),
 * truncation at every byte, pointer loops, forward pointers, overlong
 * labels and names, queries and error responses. */
#include <stdbool.h>
#include <stdint.h>

#include "dataplane/dns_snoop.h"
#include "test.h"

struct mb {
	uint8_t b[2048];
	size_t n;
};

static void mb_u8(struct mb *m, unsigned v)
{
	m->b[m->n++] = (uint8_t)v;
}

static void mb_u16(struct mb *m, unsigned v)
{
	mb_u8(m, v >> 8);
	mb_u8(m, v & 0xff);
}

static void mb_u32(struct mb *m, uint32_t v)
{
	mb_u16(m, v >> 16);
	mb_u16(m, v & 0xffff);
}

/* Labels of a dotted name; ends with the root label unless ptr != 0,
 * in which case a compression pointer to ptr ends it. */
static void mb_name(struct mb *m, const char *dotted, unsigned ptr)
{
	while (*dotted) {
		const char *dot = strchr(dotted, '.');
		size_t n = dot ? (size_t)(dot - dotted) : strlen(dotted);

		mb_u8(m, (unsigned)n);
		memcpy(m->b + m->n, dotted, n);
		m->n += n;
		dotted += n + (dot != NULL);
	}
	if (ptr)
		mb_u16(m, 0xc000 | ptr);
	else
		mb_u8(m, 0);
}

static void mb_header(struct mb *m, unsigned flags, unsigned qd, unsigned an)
{
	m->n = 0;
	mb_u16(m, 0x1234);
	mb_u16(m, flags);
	mb_u16(m, qd);
	mb_u16(m, an);
	mb_u16(m, 0);
	mb_u16(m, 0);
}

static void mb_question(struct mb *m, const char *name, unsigned type)
{
	mb_name(m, name, 0);
	mb_u16(m, type);
	mb_u16(m, 1);
}

/* A record header after its owner name. */
static void mb_rr(struct mb *m, unsigned type, unsigned class, uint32_t ttl, unsigned rdlen)
{
	mb_u16(m, type);
	mb_u16(m, class);
	mb_u32(m, ttl);
	mb_u16(m, rdlen);
}

static void mb_a(struct mb *m, unsigned owner_ptr, uint32_t ttl, const uint8_t ip[4])
{
	mb_u16(m, 0xc000 | owner_ptr);
	mb_rr(m, 1, 1, ttl, 4);
	memcpy(m->b + m->n, ip, 4);
	m->n += 4;
}

struct seen {
	int n;
	char qname[8][256];
	struct ip_addr addr[8];
	uint32_t ttl[8];
};

static void on_answer(void *ctx, const char *qname, const struct ip_addr *addr, uint32_t ttl)
{
	struct seen *s = ctx;

	if (s->n < 8) {
		snprintf(s->qname[s->n], sizeof(s->qname[0]), "%s", qname);
		s->addr[s->n] = *addr;
		s->ttl[s->n] = ttl;
	}
	s->n++;
}

static bool addr_is(const struct ip_addr *a, const char *text)
{
	struct ip_addr b;

	return ip_addr_parse(text, &b) && ip_addr_equal(a, &b);
}

static const uint8_t ip1[4] = { 93, 184, 216, 34 }, ip2[4] = { 192, 0, 2, 7 };

/* www.Example.COM A, answer owner compressed to the question. */
static void build_simple(struct mb *m)
{
	mb_header(m, 0x8180, 1, 2);
	mb_question(m, "www.Example.COM", 1);
	mb_a(m, 12, 300, ip1);
	mb_a(m, 12, 200, ip2);
}

static void test_simple_answers(void)
{
	struct seen s = { 0 };
	struct mb m;

	build_simple(&m);
	CHECK(dns_snoop_response(m.b, m.n, on_answer, &s) == DNS_SNOOP_OK);
	CHECK(s.n == 2);
	CHECK(!strcmp(s.qname[0], "www.example.com") && !strcmp(s.qname[1], "www.example.com"));
	CHECK(addr_is(&s.addr[0], "93.184.216.34") && s.ttl[0] == 300);
	CHECK(addr_is(&s.addr[1], "192.0.2.7") && s.ttl[1] == 200);
	CHECK(!strcmp(dns_snoop_result_names[DNS_SNOOP_MALFORMED], "malformed"));
}

/* A record whose RDATA is a name; returns the RDATA offset. */
static size_t mb_rr_name(struct mb *m, unsigned type, uint32_t ttl, const char *name,
			 unsigned ptr)
{
	size_t rdata;

	mb_rr(m, type, 1, ttl, 0);
	rdata = m->n;
	mb_name(m, name, ptr);
	m->b[rdata - 2] = (uint8_t)((m->n - rdata) >> 8);
	m->b[rdata - 1] = (uint8_t)(m->n - rdata);
	return rdata;
}

/* www.example.com CNAME cdn.example.net CNAME edge.example.net (the
 * suffix compressed into the first target); an A and an AAAA for the
 * last name, an unrelated A first, and an MX that is skipped. */
static size_t build_chain(struct mb *m, uint32_t ttl1, uint32_t ttl2)
{
	const uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	size_t cdn, edge;

	mb_header(m, 0x8180, 1, 6);
	mb_question(m, "www.example.com", 28);
	mb_name(m, "other.test", 0);
	mb_rr(m, 1, 1, 50, 4);
	memcpy(m->b + m->n, ip2, 4);
	m->n += 4;
	mb_u16(m, 0xc00c);
	cdn = mb_rr_name(m, 5, ttl1, "cdn.example.net", 0);
	mb_u16(m, 0xc000 | (unsigned)cdn);
	edge = mb_rr_name(m, 5, ttl2, "EDGE", (unsigned)cdn + 4);
	mb_a(m, (unsigned)edge, 900, ip1);
	mb_u16(m, 0xc000 | (unsigned)edge);
	mb_rr(m, 28, 1, 20, 16);
	memcpy(m->b + m->n, v6, 16);
	m->n += 16;
	mb_u16(m, 0xc000 | (unsigned)edge);
	mb_rr(m, 15, 1, 20, 4);		/* MX 10 edge...: skipped */
	mb_u16(m, 10);
	mb_u16(m, 0xc000 | (unsigned)edge);
	return m->n;
}

static void test_cname_chain(void)
{
	struct seen s = { 0 };
	struct mb m;

	build_chain(&m, 600, 60);
	CHECK(dns_snoop_response(m.b, m.n, on_answer, &s) == DNS_SNOOP_OK);
	CHECK(s.n == 2);
	CHECK(!strcmp(s.qname[0], "www.example.com") && !strcmp(s.qname[1], "www.example.com"));
	CHECK(addr_is(&s.addr[0], "93.184.216.34") && s.ttl[0] == 60);	/* chain minimum */
	CHECK(addr_is(&s.addr[1], "2001:db8::1") && s.ttl[1] == 20);
}

static void test_truncated_everywhere(void)
{
	struct mb m;
	size_t full = build_chain(&m, 600, 60);

	for (size_t cut = 0; cut < full; cut++) {
		struct seen s = { 0 };

		CHECK(dns_snoop_response(m.b, cut, on_answer, &s) == DNS_SNOOP_MALFORMED);
		CHECK(s.n == 0);
	}
	build_simple(&m);
	for (size_t cut = 0; cut < m.n; cut++) {
		struct seen s = { 0 };

		CHECK(dns_snoop_response(m.b, cut, on_answer, &s) == DNS_SNOOP_MALFORMED);
		CHECK(s.n == 0);
	}
}

static void test_not_response(void)
{
	struct seen s = { 0 };
	struct mb m;

	build_simple(&m);
	m.b[2] = 0x01;	/* QR = 0: a query */
	CHECK(dns_snoop_response(m.b, m.n, on_answer, &s) == DNS_SNOOP_NOT_RESPONSE);
	m.b[2] = 0x81;
	m.b[3] = 0x83;	/* NXDOMAIN */
	CHECK(dns_snoop_response(m.b, m.n, on_answer, &s) == DNS_SNOOP_NOT_RESPONSE);
	CHECK(s.n == 0);
}

static enum dns_snoop_result run(struct mb *m, int *n)
{
	struct seen s = { 0 };
	enum dns_snoop_result r = dns_snoop_response(m->b, m->n, on_answer, &s);

	*n = s.n;
	return r;
}

static void test_pointer_rules(void)
{
	struct mb m;
	int n;

	/* question name that is a pointer to itself */
	mb_header(&m, 0x8180, 1, 0);
	mb_u16(&m, 0xc00c);
	mb_u32(&m, 0x00010001);
	CHECK(run(&m, &n) == DNS_SNOOP_MALFORMED);
	/* a label then a pointer back to that label: a loop */
	mb_header(&m, 0x8180, 1, 0);
	mb_u8(&m, 1);
	mb_u8(&m, 'a');
	mb_u16(&m, 0xc00c);
	mb_u32(&m, 0x00010001);
	CHECK(run(&m, &n) == DNS_SNOOP_MALFORMED);
	/* answer owner pointing forward */
	build_simple(&m);
	m.b[34] = 0x40;		/* first answer's pointer -> 64, past itself */
	CHECK(run(&m, &n) == DNS_SNOOP_MALFORMED);
	/* two answers pointing at each other: the forward one is refused */
	mb_header(&m, 0x8180, 1, 2);
	mb_question(&m, "a.test", 1);
	mb_u16(&m, 0xc000 | 40);	/* -> the next owner */
	mb_rr(&m, 1, 1, 1, 4);
	mb_u32(&m, 0);
	mb_u16(&m, 0xc000 | 24);	/* -> the previous owner */
	mb_rr(&m, 1, 1, 1, 4);
	mb_u32(&m, 0);
	CHECK(run(&m, &n) == DNS_SNOOP_MALFORMED);
	/* pointers into the header */
	mb_header(&m, 0x8180, 1, 1);
	mb_question(&m, "a.test", 1);
	mb_u16(&m, 0xc000 | 2);
	mb_rr(&m, 1, 1, 1, 4);
	mb_u32(&m, 0);
	CHECK(run(&m, &n) == DNS_SNOOP_MALFORMED || n == 0);
}

static void test_name_limits(void)
{
	char name[400];
	struct mb m;
	int n;

	/* 63-byte labels are fine, 64 is not */
	memset(name, 'x', 63);
	strcpy(name + 63, ".test");
	mb_header(&m, 0x8180, 1, 1);
	mb_question(&m, name, 1);
	mb_a(&m, 12, 5, ip1);
	CHECK(run(&m, &n) == DNS_SNOOP_OK && n == 1);
	m.b[12] = 0x40;
	CHECK(run(&m, &n) == DNS_SNOOP_MALFORMED);
	m.b[12] = 0x80;
	CHECK(run(&m, &n) == DNS_SNOOP_MALFORMED);
	/* 255 wire bytes: 3 x 63 + 61 + root = 4 * 1 + 250 + 1 = 255 */
	memset(name, 'y', sizeof(name));
	name[63] = name[127] = name[191] = '.';
	name[191 + 62] = '\0';
	mb_header(&m, 0x8180, 1, 1);
	mb_question(&m, name, 1);
	mb_a(&m, 12, 5, ip1);
	CHECK(run(&m, &n) == DNS_SNOOP_OK && n == 1);
	name[191 + 62] = 'y';
	name[191 + 63] = '\0';	/* 256 */
	mb_header(&m, 0x8180, 1, 1);
	mb_question(&m, name, 1);
	mb_a(&m, 12, 5, ip1);
	CHECK(run(&m, &n) == DNS_SNOOP_MALFORMED);
	/* a dot inside a label would read back as another name */
	mb_header(&m, 0x8180, 1, 1);
	mb_question(&m, "bank", 1);
	m.b[13] = '.';
	CHECK(run(&m, &n) == DNS_SNOOP_MALFORMED);
}

static void test_bad_rdata(void)
{
	struct mb m;
	int n;

	build_simple(&m);
	m.b[m.n - 5] = 5;	/* second A: rdlength 5 */
	m.b[m.n++] = 0;
	CHECK(run(&m, &n) == DNS_SNOOP_MALFORMED);
	/* CNAME whose target spills out of its RDATA */
	mb_header(&m, 0x8180, 1, 1);
	mb_question(&m, "a.test", 1);
	mb_u16(&m, 0xc00c);
	mb_rr(&m, 5, 1, 1, 3);
	mb_name(&m, "bb", 0);	/* 4 bytes */
	CHECK(run(&m, &n) == DNS_SNOOP_MALFORMED);
	/* class CH A and other types are skipped, not reported */
	mb_header(&m, 0x8180, 1, 2);
	mb_question(&m, "a.test", 1);
	mb_u16(&m, 0xc00c);
	mb_rr(&m, 1, 3, 1, 5);
	mb_u32(&m, 0);
	mb_u8(&m, 0);
	mb_u16(&m, 0xc00c);
	mb_rr(&m, 16, 1, 1, 3);
	mb_u8(&m, 2);
	mb_u16(&m, 0x6869);
	CHECK(run(&m, &n) == DNS_SNOOP_OK && n == 0);
}

static void test_cname_loop_and_ttl(void)
{
	struct seen s = { 0 };
	struct mb m;
	size_t b;

	/* a.test CNAME b.test, b.test CNAME a.test, a.test A */
	mb_header(&m, 0x8180, 1, 3);
	mb_question(&m, "a.test", 1);
	mb_u16(&m, 0xc00c);
	mb_rr(&m, 5, 1, 100, 4);
	b = m.n;
	mb_name(&m, "b", 14);		/* "b" + pointer to "test" */
	mb_u16(&m, 0xc000 | (unsigned)b);
	mb_rr(&m, 5, 1, 100, 2);
	mb_u16(&m, 0xc00c);
	mb_u16(&m, 0xc00c);
	mb_rr(&m, 1, 1, 0x80000000u, 4);	/* TTL with the top bit: zero */
	memcpy(m.b + m.n, ip2, 4);
	m.n += 4;
	CHECK(dns_snoop_response(m.b, m.n, on_answer, &s) == DNS_SNOOP_OK);
	CHECK(s.n == 1 && s.ttl[0] == 0 && !strcmp(s.qname[0], "a.test"));
}

static void test_no_question_and_multi(void)
{
	struct seen s = { 0 };
	struct mb m;

	mb_header(&m, 0x8180, 0, 1);
	mb_name(&m, "x.test", 0);
	mb_rr(&m, 1, 1, 5, 4);
	mb_u32(&m, 0x01020304);
	CHECK(dns_snoop_response(m.b, m.n, on_answer, &s) == DNS_SNOOP_OK && s.n == 0);
	/* two questions: the first one names the answers */
	mb_header(&m, 0x8180, 2, 1);
	mb_question(&m, "first.test", 1);
	mb_question(&m, "second.test", 1);
	mb_a(&m, 12, 7, ip1);
	CHECK(dns_snoop_response(m.b, m.n, on_answer, &s) == DNS_SNOOP_OK);
	CHECK(s.n == 1 && !strcmp(s.qname[0], "first.test"));
	CHECK(dns_snoop_response(m.b, 11, on_answer, &s) == DNS_SNOOP_MALFORMED);
}

TEST_MAIN("dns_snoop",
	  TEST(test_simple_answers),
	  TEST(test_cname_chain),
	  TEST(test_truncated_everywhere),
	  TEST(test_not_response),
	  TEST(test_pointer_rules),
	  TEST(test_name_limits),
	  TEST(test_bad_rdata),
	  TEST(test_cname_loop_and_ttl),
	  TEST(test_no_question_and_multi))
