/* egressctl's pieces that need no daemon: argument parsing (against a
 * naive reference with random addresses, ports and protocols), request
 * building, unit formatting, tables and the JSON sanitizer. egressctl is
 * a program, not in lib.a, so its files are included here, as
 * wireguard-tools' fuzzers include the parser they test. */
#include "egressctl/args.c"
#include "egressctl/control_client.c"
#include "egressctl/render.c"

#include <errno.h>

#include "test.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 16);
}

static void test_uint(void)
{
	unsigned long v = 7;

	CHECK(args_parse_uint("0", 5, &v) && v == 0);
	CHECK(args_parse_uint("65535", 65535, &v) && v == 65535);
	CHECK(!args_parse_uint("65536", 65535, &v));
	CHECK(!args_parse_uint("", 10, &v));
	CHECK(!args_parse_uint("-1", 10, &v));
	CHECK(!args_parse_uint("+1", 10, &v));
	CHECK(!args_parse_uint(" 1", 10, &v));
	CHECK(!args_parse_uint("1x", 10, &v));
	CHECK(!args_parse_uint("99999999999", ~0UL, &v));
	CHECK(args_parse_uint("4294967295", 4294967295UL, &v) && v == 4294967295UL);
}

static void test_proto(void)
{
	char buf[8];
	uint8_t p = 0;

	CHECK(!args_parse_proto("tcp", &p) && p == 6);
	CHECK(!args_parse_proto("UDP", &p) && p == 17);
	CHECK(!args_parse_proto("icmp6", &p) && p == 58);
	CHECK(!args_parse_proto("255", &p) && p == 255);
	CHECK(args_parse_proto("256", &p));
	CHECK(args_parse_proto("dns", &p));
	CHECK(!strcmp(args_proto_wire(1, AF_INET, buf, sizeof(buf)), "icmp"));
	CHECK(!strcmp(args_proto_wire(1, AF_INET6, buf, sizeof(buf)), "58"));
	CHECK(!strcmp(args_proto_wire(47, AF_INET, buf, sizeof(buf)), "47"));
	CHECK(!strcmp(args_proto_wire(17, AF_INET6, buf, sizeof(buf)), "udp"));
}

/* The reference: a random address, written the way a user might. */
static void random_addr(int *family, unsigned char *bin, char *canon, size_t cap)
{
	*family = rng() & 1 ? AF_INET6 : AF_INET;
	for (int i = 0; i < 16; i++)
		bin[i] = rng() % 4 ? (unsigned char)rng() : 0;	/* zero runs for "::" */
	inet_ntop(*family, bin, canon, (socklen_t)cap);
}

static void test_endpoint_random(void)
{
	for (int n = 0; n < 20000; n++) {
		unsigned char bin[16];
		char canon[INET6_ADDRSTRLEN], text[128];
		int family, with_port = rng() & 1, with_proto = rng() & 1;
		unsigned port = rng() % 65536, proto = rng() % 256;
		struct cli_endpoint ep;
		const char *err;

		random_addr(&family, bin, canon, sizeof(canon));
		if (with_port)
			snprintf(text, sizeof(text), family == AF_INET6 ? "[%s]:%u" : "%s:%u",
				 canon, port);
		else
			snprintf(text, sizeof(text), family == AF_INET6 && rng() & 1 ? "[%s]" : "%s",
				 canon);
		if (with_proto)
			snprintf(text + strlen(text), sizeof(text) - strlen(text), "/%u", proto);
		err = args_parse_endpoint(text, true, &ep);
		CHECK(!err);
		if (err)
			continue;
		CHECK(ep.addr.family == family && !strcmp(ep.addr.text, canon));
		CHECK(ep.has_port == with_port && (!with_port || ep.port == port));
		CHECK(ep.has_proto == with_proto);
		if (with_proto)
			CHECK(ep.proto == (proto == 1 && family == AF_INET6 ? 58 : proto));
	}
}

static void test_endpoint_known(void)
{
	struct cli_endpoint ep;

	CHECK(!args_parse_endpoint("203.0.113.10:5000/udp", true, &ep));
	CHECK(!strcmp(ep.addr.text, "203.0.113.10") && ep.port == 5000 && ep.proto == 17);
	CHECK(!args_parse_endpoint("[2001:0DB8::0001]:443/tcp", true, &ep));
	CHECK(!strcmp(ep.addr.text, "2001:db8::1") && ep.port == 443 && ep.proto == 6);
	CHECK(!args_parse_endpoint("2001:db8::1/icmp", true, &ep));
	CHECK(ep.addr.family == AF_INET6 && !ep.has_port && ep.proto == 58);
	CHECK(!args_parse_endpoint("::ffff:192.0.2.1", false, &ep) && ep.addr.family == AF_INET6);
	CHECK(args_parse_endpoint("192.0.2.1/tcp", false, &ep));	/* no protocol here */
	CHECK(args_parse_endpoint("192.0.2.1:65536", false, &ep));
	CHECK(args_parse_endpoint("192.0.2.1:", false, &ep));
	CHECK(args_parse_endpoint("192.0.2.1:80:1", false, &ep));
	CHECK(args_parse_endpoint("[192.0.2.1]:80", false, &ep));
	CHECK(args_parse_endpoint("[2001:db8::1", false, &ep));
	CHECK(args_parse_endpoint("[2001:db8::1]80", false, &ep));
	CHECK(args_parse_endpoint("[2001:db8::1]:", false, &ep));
	CHECK(args_parse_endpoint("", false, &ep));
	CHECK(args_parse_endpoint("example.com:80", false, &ep));
	CHECK(args_parse_endpoint("1.2.3", false, &ep));
}

static void test_flow(void)
{
	struct cli_endpoint s, d;

	CHECK(!args_parse_flow("100.64.1.2:40000-203.0.113.10:5000/udp", &s, &d));
	CHECK(!strcmp(s.addr.text, "100.64.1.2") && s.port == 40000);
	CHECK(!strcmp(d.addr.text, "203.0.113.10") && d.port == 5000 && d.proto == 17);
	CHECK(!args_parse_flow("[fd00::2]:7-[2001:db8::9]:7/icmp", &s, &d) && d.proto == 58);
	CHECK(args_parse_flow("100.64.1.2-203.0.113.10:5000/udp", &s, &d));
	CHECK(args_parse_flow("100.64.1.2:1-203.0.113.10:5000", &s, &d));
	CHECK(args_parse_flow("100.64.1.2:1-[2001:db8::1]:5/tcp", &s, &d));
	CHECK(args_parse_flow("1.1.1.1:1-2.2.2.2:2-3.3.3.3:3/tcp", &s, &d));
	CHECK(args_parse_flow("1.1.1.1:1/tcp-2.2.2.2:2/tcp", &s, &d));
}

static void test_prefix_and_names(void)
{
	char out[64];

	CHECK(!args_parse_prefix("10.1.0.0/16", out, sizeof(out)) && !strcmp(out, "10.1.0.0/16"));
	CHECK(!args_parse_prefix("2001:0db8::/32", out, sizeof(out)) && !strcmp(out, "2001:db8::/32"));
	CHECK(!args_parse_prefix("192.0.2.7", out, sizeof(out)) && !strcmp(out, "192.0.2.7"));
	CHECK(args_parse_prefix("10.0.0.0/33", out, sizeof(out)));
	CHECK(args_parse_prefix("10.0.0.0/", out, sizeof(out)));
	CHECK(args_parse_prefix("::/129", out, sizeof(out)));
	CHECK(args_valid_name("alice-laptop_2.b"));
	CHECK(!args_valid_name("") && !args_valid_name("a b") && !args_valid_name("a=b"));
	CHECK(args_valid_name("0123456789012345678901234567890123456789012345678901234567890123") == false);
	CHECK(args_valid_domain("*.zoom.us") && !args_valid_domain("a..b\n"));
	CHECK(args_valid_ifname("wg0") && !args_valid_ifname("0123456789abcdef"));
	CHECK(!args_valid_ifname("a/b") && !args_valid_ifname("..") && !args_valid_ifname(""));
}

static void test_request(void)
{
	struct control_request req;
	char big[3000];

	control_request_init(&req, "flows");
	CHECK(!control_request_add(&req, "user", "alice"));
	CHECK(!control_request_add(&req, "dst", "2001:db8::/32"));
	CHECK(!strcmp(req.text, "flows user=alice dst=2001:db8::/32"));
	CHECK(control_request_add(&req, "user", "a b") == -EINVAL);
	CHECK(control_request_add(&req, "user", "a=b") == -EINVAL);
	CHECK(control_request_add(&req, "user", "a\tb") == -EINVAL);
	CHECK(control_request_add(&req, "user", "a\nb") == -EINVAL);
	CHECK(control_request_add(&req, "user", "") == -EINVAL);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	CHECK(!control_request_add(&req, "domain", big));
	CHECK(control_request_add(&req, "domain", big) == -E2BIG);
	CHECK(req.len == strlen(req.text) && req.len + 2 <= CONTROL_CLIENT_MAX_REQUEST);
}

static void test_trim(void)
{
	char text[] = "{\"a\":1}\n\n{\"b\":2}\n\n";
	struct control_answer ans = { text, sizeof(text) - 1 };

	control_answer_trim(&ans);
	CHECK(ans.len == 8 && !strcmp(ans.buf, "{\"a\":1}\n"));
}

static void test_units(void)
{
	CHECK(!strcmp(format_ms(1.21).s, "1.2ms"));
	CHECK(!strcmp(format_ms(0.043).s, "0.04ms"));
	CHECK(!strcmp(format_ms(162.4).s, "162ms"));
	CHECK(!strcmp(format_ms(-1).s, "-") && !strcmp(format_ms(NAN).s, "-"));
	CHECK(!strcmp(format_secs(3.24).s, "3.2s"));
	CHECK(!strcmp(format_secs(12.3).s, "12s"));
	CHECK(!strcmp(format_secs(185.6).s, "3m05s"));
	CHECK(!strcmp(format_secs(7265).s, "2h01m"));
	CHECK(!strcmp(format_secs(90061).s, "1d01h"));
	CHECK(!strcmp(format_secs(INFINITY).s, "-"));
	CHECK(!strcmp(format_bytes(0).s, "0B") && !strcmp(format_bytes(1023).s, "1023B"));
	CHECK(!strcmp(format_bytes(1536).s, "1.5K"));
	CHECK(!strcmp(format_bytes(36700160).s, "35M"));
	CHECK(!strcmp(format_bytes(~0ULL).s, "16E"));
}

static void test_accessors(void)
{
	json_t *o = json_pack("{s:s, s:i, s:f, s:n, s:b, s:i, s:s}", "name", "fra1", "port", 443,
			      "rtt_ms", 1.5, "nothing", "best", 1, "neg", -3, "v6", "2001:db8::1");
	double d;
	unsigned long long u;

	CHECK(o != NULL);
	CHECK(!strcmp(js_str(o, "name"), "fra1") && !js_str(o, "port") && !js_str(o, "missing"));
	CHECK(js_num(o, "port", &d) && d == 443 && js_num(o, "rtt_ms", &d) && d == 1.5);
	CHECK(!js_num(o, "nothing", &d) && !js_num(o, "name", &d));
	CHECK(js_count(o, "port", &u) && u == 443 && !js_count(o, "neg", &u));
	CHECK(!js_count(o, "rtt_ms", &u) && js_true(o, "best") && !js_true(o, "name"));
	CHECK(!strcmp(render_ms(o, "nothing").s, "-") && !strcmp(render_str(o, "port").s, "-"));
	CHECK(!strcmp(render_addr_port(js_str(o, "v6"), o, "port", true).s, "[2001:db8::1]:443"));
	CHECK(!strcmp(render_addr_port(js_str(o, "v6"), o, "port", false).s, "2001:db8::1"));
	CHECK(!strcmp(render_addr_port("192.0.2.1", o, "neg", true).s, "192.0.2.1"));
	CHECK(!js_array(o, "name") && !js_object(NULL, "name"));
	json_decref(o);
}

static void test_sanitize(void)
{
	json_t *o = json_pack("{s:s, s:[s]}", "domain", "evil\x1b[2J.com", "list", "caf\xc3\xa9");

	render_sanitize(o);
	CHECK(!strcmp(js_str(o, "domain"), "evil?[2J.com"));
	CHECK(!strcmp(json_string_value(json_array_get(js_array(o, "list"), 0)), "caf??"));
	json_decref(o);
}

static void test_table(void)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	struct table *t = table_new("lrl");

	table_add_strs(t, "A", "NUM", "LAST", NULL);
	table_add_strs(t, "long-one", "7", "", NULL);
	table_add_strs(t, "b", "12345", "x", NULL);
	table_print(t, f, "> ");
	table_free(t);
	fclose(f);
	CHECK(!strcmp(text, "> A           NUM  LAST\n"
			    "> long-one      7\n"
			    "> b         12345  x\n"));
	free(text);
}

TEST_MAIN("egressctl_render",
	  TEST(test_uint), TEST(test_proto), TEST(test_endpoint_random),
	  TEST(test_endpoint_known), TEST(test_flow), TEST(test_prefix_and_names),
	  TEST(test_request), TEST(test_trim), TEST(test_units), TEST(test_accessors),
	  TEST(test_sanitize), TEST(test_table))
