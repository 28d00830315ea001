/* test_uapi: the configuration protocol against a fake device. Expected
 * answers and accepted/refused values were taken from wireguard-go
 * v0.0.20220316 talking to the same requests (see docs/uapi.md). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "wg/config.h"
#include "wg/uapi.h"

#define K11 "1111111111111111111111111111111111111111111111111111111111111111"
#define K22 "2222222222222222222222222222222222222222222222222222222222222222"
#define K33 "3333333333333333333333333333333333333333333333333333333333333333"
#define KB0 "b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b070"
#define KZ  "0000000000000000000000000000000000000000000000000000000000000000"

/* ---- fake device ---- */

struct fake_dev {
	struct wg_device_conf state;	/* what get answers */
	struct wg_device_conf last;	/* deep copy of the last set */
	int get_ret, set_ret;
	int gets, sets;
};

static void conf_copy(struct wg_device_conf *dst, const struct wg_device_conf *src)
{
	*dst = *src;
	dst->peers = NULL;
	dst->n_peers = dst->cap_peers = 0;
	for (size_t i = 0; i < src->n_peers; i++) {
		struct wg_peer_conf *p = wg_device_conf_add_peer(dst);

		*p = src->peers[i];
		p->allowed_ips = NULL;
		p->n_allowed_ips = p->cap_allowed_ips = 0;
		for (size_t j = 0; j < src->peers[i].n_allowed_ips; j++)
			wg_peer_conf_add_allowed_ip(p, &src->peers[i].allowed_ips[j]);
	}
}

static int fake_get(void *ctx, struct wg_device_conf *out)
{
	struct fake_dev *d = ctx;

	d->gets++;
	if (d->get_ret)
		return d->get_ret;
	conf_copy(out, &d->state);
	return 0;
}

static int fake_set(void *ctx, const struct wg_device_conf *conf)
{
	struct fake_dev *d = ctx;

	d->sets++;
	wg_device_conf_free(&d->last);
	conf_copy(&d->last, conf);
	return d->set_ret;
}

static const struct uapi_ops fake_ops = { .get = fake_get, .set = fake_set };

static void fake_free(struct fake_dev *d)
{
	wg_device_conf_free(&d->state);
	wg_device_conf_free(&d->last);
}

/* Sends req (a C string) and checks the whole answer. */
static bool exchange(struct fake_dev *d, const char *req, const char *want)
{
	char *resp = NULL;
	size_t resp_len = 0;
	int r = uapi_handle_request(&fake_ops, d, req, strlen(req), &resp, &resp_len);
	bool ok = r == 0 && resp && resp_len == strlen(want) &&
		  memcmp(resp, want, resp_len) == 0;

	if (!ok)
		fprintf(stderr, "request %.60s...\n  got  (%d) %.*s\n  want %s\n", req, r,
			resp ? (int)resp_len : 0, resp ? resp : "", want);
	uapi_free_response(resp, resp_len);
	return ok;
}

/* A set request that must be refused with errno code, nothing applied. */
static void check_refused(const char *body, int code)
{
	struct fake_dev d = { 0 };
	char req[70000 + 256], want[32];

	snprintf(req, sizeof(req), "set=1\n%s\n", body);
	snprintf(want, sizeof(want), "errno=%d\n\n", code);
	if (!exchange(&d, req, want))
		fprintf(stderr, "  (body %.80s)\n", body);
	CHECK(d.sets == 0);
	fake_free(&d);
}

/* A set request that must be accepted; d.last holds what was parsed. */
static void set_ok(struct fake_dev *d, const char *body)
{
	char req[4096];

	snprintf(req, sizeof(req), "set=1\n%s\n", body);
	CHECK(exchange(d, req, "errno=0\n\n"));
}

static void hexkey(const char *hex, uint8_t out[32])
{
	CHECK(test_hex(hex, out, 32) == 32);
}

static struct wg_allowed_ip ip_of(const char *addr, uint8_t cidr)
{
	struct wg_allowed_ip ip = { .cidr = cidr };

	ip.family = strchr(addr, ':') ? AF_INET6 : AF_INET;
	CHECK(inet_pton(ip.family, addr, ip.addr) == 1);
	return ip;
}

static bool ip_is(const struct wg_allowed_ip *ip, const char *addr, uint8_t cidr)
{
	struct wg_allowed_ip want = ip_of(addr, cidr);

	return ip->family == want.family && ip->cidr == cidr &&
	       memcmp(ip->addr, want.addr, 16) == 0;
}

/* ---- get ---- */

static void test_get_format_exact(void)
{
	struct fake_dev d = { 0 };
	struct wg_peer_conf *p;
	struct wg_allowed_ip ip;

	hexkey(KB0, d.state.private_key);
	d.state.listen_port = 51820;
	p = wg_device_conf_add_peer(&d.state);
	hexkey(K11, p->public_key);
	hexkey(K33, p->preshared_key);
	p->endpoint.in.sin_family = AF_INET;
	p->endpoint.in.sin_port = htons(51820);
	inet_pton(AF_INET, "198.18.0.1", &p->endpoint.in.sin_addr);
	p->last_handshake = (struct timespec){ .tv_sec = 1700000000, .tv_nsec = 123456789 };
	p->tx_bytes = 18446744073709551615u;
	p->rx_bytes = 4242;
	p->persistent_keepalive_interval = 25;
	ip = ip_of("198.18.0.5", 24);	/* host bits: answered masked */
	wg_peer_conf_add_allowed_ip(p, &ip);
	ip = ip_of("2001:db8::1", 64);
	wg_peer_conf_add_allowed_ip(p, &ip);
	p = wg_device_conf_add_peer(&d.state);
	hexkey(K22, p->public_key);
	p->endpoint.in6.sin6_family = AF_INET6;
	p->endpoint.in6.sin6_port = htons(7);
	inet_pton(AF_INET6, "2001:db8::1", &p->endpoint.in6.sin6_addr);

	CHECK(exchange(&d, "get=1\n\n",
		"private_key=" KB0 "\n"
		"listen_port=51820\n"
		"public_key=" K11 "\n"
		"preshared_key=" K33 "\n"
		"protocol_version=1\n"
		"endpoint=198.18.0.1:51820\n"
		"last_handshake_time_sec=1700000000\n"
		"last_handshake_time_nsec=123456789\n"
		"tx_bytes=18446744073709551615\n"
		"rx_bytes=4242\n"
		"persistent_keepalive_interval=25\n"
		"allowed_ip=198.18.0.0/24\n"
		"allowed_ip=2001:db8::/64\n"
		"public_key=" K22 "\n"
		"preshared_key=" KZ "\n"
		"protocol_version=1\n"
		"endpoint=[2001:db8::1]:7\n"
		"last_handshake_time_sec=0\n"
		"last_handshake_time_nsec=0\n"
		"tx_bytes=0\n"
		"rx_bytes=0\n"
		"persistent_keepalive_interval=0\n"
		"errno=0\n\n"));
	CHECK(d.gets == 1 && d.sets == 0);

	/* fwmark only when nonzero, peers without endpoint: no endpoint line */
	d.state.fwmark = 4294967295u;
	memset(d.state.private_key, 0, 32);
	d.state.listen_port = 0;
	d.state.n_peers = 0;	/* state still owns the arrays: free below */
	CHECK(exchange(&d, "get=1\n\n", "fwmark=4294967295\nerrno=0\n\n"));
	d.state.n_peers = 2;
	fake_free(&d);
}

static void test_get_empty_and_errors(void)
{
	struct fake_dev d = { 0 };

	CHECK(exchange(&d, "get=1\n\n", "errno=0\n\n"));
	d.get_ret = -EIO;
	CHECK(exchange(&d, "get=1\n\n", "errno=-5\n\n"));
	d.get_ret = ENOMEM;	/* a positive errno is still answered negative */
	CHECK(exchange(&d, "get=1\n\n", "errno=-12\n\n"));
	/* wireguard-go reads one byte after "get=1\n": not '\n' is -EINVAL */
	d.gets = 0;
	d.get_ret = 0;
	CHECK(exchange(&d, "get=1\nx", "errno=-22\n\n"));
	CHECK(d.gets == 0);
	fake_free(&d);
}

/* Allowed IPs are answered as Go's netip prints them (wireguard-go). */
static void test_get_ipv6_text(void)
{
	static const struct { const char *in; uint8_t cidr; const char *out; } v[] = {
		{ "::ffff:198.18.0.1", 128, "::ffff:198.18.0.1/128" },
		{ "::1.2.3.4", 128, "::102:304/128" },
		{ "::", 0, "::/0" },
		{ "::1", 128, "::1/128" },
		{ "2001:db8::", 32, "2001:db8::/32" },
		{ "2001:db8:0:1:0:0:0:1", 128, "2001:db8:0:1::1/128" },
		{ "2001:0:0:1:0:0:0:1", 128, "2001:0:0:1::1/128" },
		{ "2001:db8:0:0:1:0:0:1", 128, "2001:db8::1:0:0:1/128" },
		{ "2001:db8:0:1:2:3:4:5", 128, "2001:db8:0:1:2:3:4:5/128" },
		{ "2001:db8:1:2:3:4:5:0", 128, "2001:db8:1:2:3:4:5:0/128" },
		{ "2001:db8:1:2:3:4:0:0", 128, "2001:db8:1:2:3:4::/128" },
		{ "0.0.0.0", 0, "0.0.0.0/0" },
		{ "100.64.1.2", 10, "100.64.0.0/10" },
	};

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct wg_device_conf c = { 0 };
		struct wg_peer_conf *p = wg_device_conf_add_peer(&c);
		struct wg_allowed_ip ip = ip_of(v[i].in, v[i].cidr);
		char *out, want[256];
		size_t n;

		wg_peer_conf_add_allowed_ip(p, &ip);
		CHECK(uapi_format_get(&c, &out, &n) == 0);
		snprintf(want, sizeof(want), "allowed_ip=%s\n", v[i].out);
		CHECK(n >= strlen(want) && memcmp(out + n - strlen(want), want, strlen(want)) == 0);
		if (n < strlen(want) || memcmp(out + n - strlen(want), want, strlen(want)))
			fprintf(stderr, "  %s: got %.*s", v[i].in, (int)n, out);
		uapi_free_response(out, n);
		wg_device_conf_free(&c);
	}
}

/* ---- set ---- */

static void test_set_every_key(void)
{
	struct fake_dev d = { 0 };
	const struct wg_peer_conf *p;
	uint8_t k[32];

	set_ok(&d,
	       "private_key=" KB0 "\n"
	       "listen_port=51820\n"
	       "fwmark=4294967295\n"
	       "replace_peers=true\n"
	       "public_key=" K11 "\n"
	       "protocol_version=1\n"
	       "preshared_key=" K33 "\n"
	       "endpoint=198.18.0.1:51820\n"
	       "persistent_keepalive_interval=65535\n"
	       "replace_allowed_ips=true\n"
	       "allowed_ip=198.18.0.5/24\n"
	       "allowed_ip=2001:db8::1/64\n"
	       "allowed_ip=::ffff:198.18.0.1/120\n"
	       "public_key=" K22 "\n"
	       "update_only=true\n"
	       "endpoint=[2001:db8::2]:7\n");
	CHECK(d.sets == 1);
	CHECK(d.last.has_private_key && d.last.has_listen_port && d.last.has_fwmark);
	hexkey(KB0, k);
	CHECK_MEM(d.last.private_key, k, 32);
	CHECK(d.last.listen_port == 51820);
	CHECK(d.last.fwmark == 4294967295u);
	CHECK(d.last.replace_peers);
	CHECK(d.last.n_peers == 2);
	if (d.last.n_peers != 2)
		goto out;
	p = &d.last.peers[0];
	hexkey(K11, k);
	CHECK_MEM(p->public_key, k, 32);
	CHECK(!p->remove && !p->update_only && p->replace_allowed_ips);
	hexkey(K33, k);
	CHECK(p->has_preshared_key);
	CHECK_MEM(p->preshared_key, k, 32);
	CHECK(p->has_endpoint && p->endpoint.sa.sa_family == AF_INET);
	CHECK(p->endpoint.in.sin_port == htons(51820));
	CHECK(p->endpoint.in.sin_addr.s_addr == inet_addr("198.18.0.1"));
	CHECK(p->has_persistent_keepalive && p->persistent_keepalive_interval == 65535);
	CHECK(p->n_allowed_ips == 3);
	if (p->n_allowed_ips == 3) {
		CHECK(ip_is(&p->allowed_ips[0], "198.18.0.0", 24));	/* masked */
		CHECK(ip_is(&p->allowed_ips[1], "2001:db8::", 64));
		CHECK(ip_is(&p->allowed_ips[2], "::ffff:198.18.0.0", 120));
	}
	p = &d.last.peers[1];
	hexkey(K22, k);
	CHECK_MEM(p->public_key, k, 32);
	CHECK(p->update_only && !p->remove && !p->replace_allowed_ips);
	CHECK(!p->has_preshared_key && !p->has_persistent_keepalive && p->n_allowed_ips == 0);
	CHECK(p->has_endpoint && p->endpoint.sa.sa_family == AF_INET6);
	CHECK(p->endpoint.in6.sin6_port == htons(7));
out:
	fake_free(&d);
}

static void test_set_partial(void)
{
	struct fake_dev d = { 0 };

	set_ok(&d, "listen_port=0051820\n");	/* leading zeros: ParseUint */
	CHECK(d.last.has_listen_port && d.last.listen_port == 51820);
	CHECK(!d.last.has_private_key && !d.last.has_fwmark && !d.last.replace_peers);
	CHECK(d.last.n_peers == 0);

	set_ok(&d, "fwmark=0\n");
	CHECK(d.last.has_fwmark && d.last.fwmark == 0 && !d.last.has_listen_port);

	/* an all-zero private key removes it */
	set_ok(&d, "private_key=" KZ "\n");
	CHECK(d.last.has_private_key && d.last.private_key[0] == 0);

	/* upper-case hex is accepted (Go's hex.DecodeString) */
	set_ok(&d, "public_key=ABABABABABABABABABABABABABABABABABABABABABABABABABABABABABABABAB\n");
	CHECK(d.last.n_peers == 1 && d.last.peers[0].public_key[31] == 0xab);

	set_ok(&d, "public_key=" K11 "\npersistent_keepalive_interval=0\n");
	CHECK(d.last.n_peers == 1);
	if (d.last.n_peers == 1) {
		const struct wg_peer_conf *p = &d.last.peers[0];

		CHECK(p->has_persistent_keepalive && p->persistent_keepalive_interval == 0);
		CHECK(!p->has_endpoint && !p->has_preshared_key && !p->replace_allowed_ips);
		CHECK(!p->remove && !p->update_only && p->n_allowed_ips == 0);
	}

	/* a public key alone (also all-zero: wireguard-go creates that peer) */
	set_ok(&d, "public_key=" KZ "\n");
	CHECK(d.last.n_peers == 1 && !d.last.peers[0].has_endpoint);

	/* an empty set is valid and still reaches the device */
	d.sets = 0;
	CHECK(exchange(&d, "set=1\n\n", "errno=0\n\n"));
	CHECK(d.sets == 1 && d.last.n_peers == 0 && !d.last.has_listen_port);

	/* CR before LF is stripped; "\r\n" ends the request */
	CHECK(exchange(&d, "set=1\nlisten_port=2\r\n\r\n", "errno=0\n\n"));
	CHECK(d.last.listen_port == 2);
	/* prefix length with leading zero, as Go 1.18's netip */
	set_ok(&d, "public_key=" K11 "\nallowed_ip=198.18.0.1/08\n");
	CHECK(d.last.peers[0].n_allowed_ips == 1 &&
	      ip_is(&d.last.peers[0].allowed_ips[0], "198.0.0.0", 8));
	fake_free(&d);
}

static void test_set_flags(void)
{
	struct fake_dev d = { 0 };
	const struct wg_peer_conf *p;

	/* remove: the entry keeps only key and flag; later lines are
	 * checked but not recorded */
	set_ok(&d, "public_key=" K11 "\n"
		   "endpoint=198.18.0.1:5\n"
		   "allowed_ip=198.18.1.0/24\n"
		   "remove=true\n"
		   "allowed_ip=198.18.2.0/24\n"
		   "persistent_keepalive_interval=5\n"
		   "public_key=" K11 "\n"
		   "allowed_ip=198.18.9.0/24\n");
	CHECK(d.last.n_peers == 2);
	if (d.last.n_peers == 2) {
		p = &d.last.peers[0];
		CHECK(p->remove && p->public_key[0] == 0x11);
		CHECK(!p->has_endpoint && !p->has_persistent_keepalive && p->n_allowed_ips == 0);
		p = &d.last.peers[1];	/* added again afterwards */
		CHECK(!p->remove && p->n_allowed_ips == 1);
	}
	check_refused("public_key=" K11 "\nremove=true\nallowed_ip=bad\n", -22);
	check_refused("public_key=" K11 "\nremove=true\nbogus=1\n", -22);
	check_refused("public_key=" K11 "\nremove=true\nlisten_port=1\n", -22);

	/* update_only anywhere in the entry */
	set_ok(&d, "public_key=" K22 "\nallowed_ip=198.18.3.0/24\nupdate_only=true\n");
	CHECK(d.last.n_peers == 1 && d.last.peers[0].update_only &&
	      d.last.peers[0].n_allowed_ips == 1);

	/* replace_allowed_ips drops what came before it in the entry */
	set_ok(&d, "public_key=" K11 "\n"
		   "allowed_ip=198.18.1.0/24\n"
		   "replace_allowed_ips=true\n"
		   "allowed_ip=198.18.2.0/24\n");
	CHECK(d.last.n_peers == 1);
	p = &d.last.peers[0];
	CHECK(p->replace_allowed_ips && p->n_allowed_ips == 1 &&
	      ip_is(&p->allowed_ips[0], "198.18.2.0", 24));

	set_ok(&d, "replace_peers=true\n");
	CHECK(d.last.replace_peers && d.last.n_peers == 0);
	fake_free(&d);
}

static void test_set_refused(void)
{
	static const struct { const char *body; int code; } v[] = {
		/* keys */
		{ "private_key=b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0\n", -22 },
		{ "private_key=" KB0 "00\n", -22 },
		{ "private_key=" KB0 "0\n", -22 },
		{ "private_key=g0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b070\n", -22 },
		{ "private_key=\n", -22 },
		{ "private_key= " KB0 "\n", -22 },
		{ "public_key=" K11 "1\n", -22 },
		{ "public_key=111111111111111111111111111111111111111111111111111111111111111\n", -22 },
		{ "public_key=" K11 "\npreshared_key=" KZ "0\n", -22 },
		{ "public_key=" K11 "\npreshared_key=xyz\n", -22 },
		/* numbers */
		{ "listen_port=65536\n", -22 },
		{ "listen_port=-1\n", -22 },
		{ "listen_port=12a\n", -22 },
		{ "listen_port=+5\n", -22 },
		{ "listen_port=\n", -22 },
		{ "listen_port= 5\n", -22 },
		{ "listen_port=5 \n", -22 },
		{ "listen_port=5_1\n", -22 },
		{ "listen_port=0x10\n", -22 },
		{ "listen_port=99999999999999999999999\n", -22 },
		{ "fwmark=4294967296\n", -22 },
		{ "fwmark=18446744073709551617\n", -22 },
		{ "fwmark=0x10\n", -22 },
		{ "public_key=" K11 "\npersistent_keepalive_interval=65536\n", -22 },
		{ "public_key=" K11 "\npersistent_keepalive_interval=-1\n", -22 },
		/* allowed IPs */
		{ "public_key=" K11 "\nallowed_ip=198.18.0.1/33\n", -22 },
		{ "public_key=" K11 "\nallowed_ip=2001:db8::1/129\n", -22 },
		{ "public_key=" K11 "\nallowed_ip=198.18.0.1/-1\n", -22 },
		{ "public_key=" K11 "\nallowed_ip=198.18.0.1/+8\n", -22 },
		{ "public_key=" K11 "\nallowed_ip=198.18.0.1/\n", -22 },
		{ "public_key=" K11 "\nallowed_ip=198.18.0.1\n", -22 },
		{ "public_key=" K11 "\nallowed_ip=198.18.0.1/8x\n", -22 },
		{ "public_key=" K11 "\nallowed_ip=198.18.0.1/32/1\n", -22 },
		{ "public_key=" K11 "\nallowed_ip=198.18.0.1/ 8\n", -22 },
		{ "public_key=" K11 "\nallowed_ip= 198.18.0.1/32\n", -22 },
		{ "public_key=" K11 "\nallowed_ip=198.18.00.1/8\n", -22 },
		{ "public_key=" K11 "\nallowed_ip=198.18.1/24\n", -22 },
		{ "public_key=" K11 "\nallowed_ip=fe80::1%lo/64\n", -22 },
		{ "public_key=" K11 "\nallowed_ip=2001:db8:::1/64\n", -22 },
		{ "public_key=" K11 "\nallowed_ip=/8\n", -22 },
		/* endpoints */
		{ "public_key=" K11 "\nendpoint=198.18.0.1\n", -22 },
		{ "public_key=" K11 "\nendpoint=198.18.0.1:65536\n", -22 },
		{ "public_key=" K11 "\nendpoint=198.18.0.1:\n", -22 },
		{ "public_key=" K11 "\nendpoint=198.18.0.1:http\n", -22 },
		{ "public_key=" K11 "\nendpoint=198.18.0.1:-1\n", -22 },
		{ "public_key=" K11 "\nendpoint=host.example:5\n", -22 },
		{ "public_key=" K11 "\nendpoint=2001:db8::1:5\n", -22 },
		{ "public_key=" K11 "\nendpoint=[2001:db8::1]\n", -22 },
		{ "public_key=" K11 "\nendpoint=:5\n", -22 },
		{ "public_key=" K11 "\nendpoint=\n", -22 },
		/* flags take "true" only */
		{ "replace_peers=false\n", -22 },
		{ "replace_peers=TRUE\n", -22 },
		{ "public_key=" K11 "\nremove=false\n", -22 },
		{ "public_key=" K11 "\nupdate_only=1\n", -22 },
		{ "public_key=" K11 "\nreplace_allowed_ips=\n", -22 },
		{ "public_key=" K11 "\nprotocol_version=2\n", -22 },
		{ "public_key=" K11 "\nprotocol_version=01\n", -22 },
		{ "public_key=" K11 "\nprotocol_version=\n", -22 },
		/* keys in the wrong place, unknown keys, no '=' */
		{ "bogus=5\n", -22 },
		{ "=5\n", -22 },
		{ "endpoint=198.18.0.1:1\n", -22 },
		{ "allowed_ip=198.18.0.0/24\n", -22 },
		{ "preshared_key=" K33 "\n", -22 },
		{ "protocol_version=1\n", -22 },
		{ "public_key=" K11 "\nlisten_port=3\n", -22 },
		{ "public_key=" K11 "\nreplace_peers=true\n", -22 },
		{ "public_key=" K11 "\nprivate_key=" KZ "\n", -22 },
		{ "public_key=" K11 "\nlast_handshake_time_sec=0\n", -22 },
		{ "Listen_port=1\n", -22 },
		{ "noequals\n", -71 },
		{ "listen_port=1\nnoequals\n", -71 },
		/* the first error wins */
		{ "listen_port=x\nnoequals\n", -22 },
		{ "noequals\nlisten_port=x\n", -71 },
	};

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		check_refused(v[i].body, v[i].code);
}

/* Values holding NUL bytes and over-long lines. */
static void test_set_binary_and_long(void)
{
	struct fake_dev d = { 0 };
	static char req[UAPI_MAX_LINE + 64];
	char *resp;
	size_t n, resp_len;
	static const char nul[] = "set=1\nlisten_port=7\0\n\n";
	static const char nulkey[] = "set=1\nlisten_port\0=7\n\n";

	CHECK(uapi_handle_request(&fake_ops, &d, nul, sizeof(nul) - 1, &resp, &resp_len) == 0);
	CHECK(resp_len == 11 && memcmp(resp, "errno=-22\n\n", 11) == 0);
	uapi_free_response(resp, resp_len);
	CHECK(uapi_handle_request(&fake_ops, &d, nulkey, sizeof(nulkey) - 1, &resp, &resp_len) == 0);
	CHECK(resp_len == 11 && memcmp(resp, "errno=-22\n\n", 11) == 0);
	uapi_free_response(resp, resp_len);

	/* a line of UAPI_MAX_LINE bytes is fine, one more is -EIO */
	for (int extra = 0; extra <= 1; extra++) {
		size_t line = UAPI_MAX_LINE + (size_t)extra;

		memcpy(req, "set=1\nlisten_port=", 18);
		n = 6 + line;
		memset(req + 18, '0', n - 18);
		req[n - 1] = '7';
		memcpy(req + n, "\n\n", 3);
		CHECK(exchange(&d, req, extra ? "errno=-5\n\n" : "errno=0\n\n"));
	}
	CHECK(d.sets == 1 && d.last.listen_port == 7);
	fake_free(&d);
}

/* Nothing is applied when any line fails, not even the lines before it. */
static void test_set_atomic(void)
{
	struct fake_dev d = { 0 };

	CHECK(exchange(&d, "set=1\nlisten_port=9\npublic_key=" K11
			   "\nendpoint=198.18.0.1:5\nendpoint=bad\n\n", "errno=-22\n\n"));
	CHECK(d.sets == 0);
	d.set_ret = -EADDRINUSE;	/* the device's own answer is passed on */
	CHECK(exchange(&d, "set=1\nlisten_port=9\n\n", "errno=-98\n\n"));
	CHECK(d.sets == 1);
	fake_free(&d);
}

static void test_parse_set_direct(void)
{
	struct wg_device_conf c;
	char err[128];
	static const char body[] = "listen_port=1\nbogus=2\n";

	CHECK(uapi_parse_set(body, strlen(body), &c, err, sizeof(err)) == UAPI_ERROR_INVALID);
	CHECK(strstr(err, "line 2") != NULL);
	CHECK(c.n_peers == 0 && c.peers == NULL);
	/* no terminating newline, no terminating empty line: fine */
	CHECK(uapi_parse_set("listen_port=3", 13, &c, NULL, 0) == 0);
	CHECK(c.listen_port == 3);
	wg_device_conf_free(&c);
	/* lines after the empty line are not looked at */
	CHECK(uapi_parse_set("listen_port=4\n\nbogus\n", 21, &c, err, sizeof(err)) == 0);
	CHECK(c.listen_port == 4);
	wg_device_conf_free(&c);
	CHECK(uapi_parse_set("", 0, &c, err, 1) == 0);
	wg_device_conf_free(&c);
}

/* ---- framing ---- */

static void test_framing(void)
{
	static const char two[] = "get=1\n\nset=1\nlisten_port=1\n\nget";
	struct fake_dev d = { 0 };
	char *resp;
	size_t resp_len;
	ssize_t n;

	/* partial */
	CHECK(uapi_request_length("", 0) == 0);
	CHECK(uapi_request_length("g", 1) == 0);
	CHECK(uapi_request_length("get=1", 5) == 0);
	CHECK(uapi_request_length("get=1\n", 6) == 0);
	CHECK(uapi_request_length("set=1\n", 6) == 0);
	CHECK(uapi_request_length("set=1\nlisten_port=1\n", 20) == 0);
	CHECK(uapi_request_length("set=1\nlisten_port=1", 19) == 0);
	/* complete */
	CHECK(uapi_request_length("get=1\n\n", 7) == 7);
	CHECK(uapi_request_length("get=1\nx", 7) == 7);
	CHECK(uapi_request_length("set=1\n\n", 7) == 7);
	CHECK(uapi_request_length("set=1\n\r\n", 8) == 8);
	CHECK(uapi_request_length("set=1\na=\r\n\r\nxx", 14) == 12);
	/* two pipelined requests, and the start of a third */
	n = uapi_request_length(two, sizeof(two) - 1);
	CHECK(n == 7);
	CHECK(uapi_handle_request(&fake_ops, &d, two, (size_t)n, &resp, &resp_len) == 0);
	CHECK(resp_len == 9 && memcmp(resp, "errno=0\n\n", 9) == 0);
	uapi_free_response(resp, resp_len);
	CHECK(uapi_request_length(two + 7, sizeof(two) - 1 - 7) == 21);
	CHECK(uapi_handle_request(&fake_ops, &d, two + 7, 21, &resp, &resp_len) == 0);
	CHECK(resp_len == 9 && memcmp(resp, "errno=0\n\n", 9) == 0);
	uapi_free_response(resp, resp_len);
	CHECK(d.gets == 1 && d.sets == 1 && d.last.listen_port == 1);
	CHECK(uapi_request_length(two + 28, 3) == 0);

	/* not an operation: complete at once, connection to be closed */
	CHECK(uapi_request_length("\n", 1) == 1);
	CHECK(uapi_request_length("foo=1\n\n", 7) == 1);
	CHECK(uapi_request_length("get=2\n\n", 7) == 5);
	CHECK(uapi_request_length("set=1\r\n\r\n", 9) == 6);
	CHECK(uapi_handle_request(&fake_ops, &d, "\n", 1, &resp, &resp_len) == -EPROTO);
	CHECK(resp == NULL);
	CHECK(uapi_handle_request(&fake_ops, &d, "get=2", 5, &resp, &resp_len) == -EPROTO);
	CHECK(uapi_handle_request(&fake_ops, &d, "set=1\r", 6, &resp, &resp_len) == -EPROTO);
	CHECK(resp == NULL);
	fake_free(&d);
}

static void test_oversized(void)
{
	size_t max = UAPI_MAX_REQUEST;
	char *buf = malloc(max + 16);

	if (!buf) {
		CHECK(!"malloc");
		return;
	}
	/* no terminator within the limit: refused */
	memcpy(buf, "set=1\n", 6);
	for (size_t i = 6; i < max + 16; i++)
		buf[i] = (i % 64 == 63) ? '\n' : 'a';
	CHECK(uapi_request_length(buf, max - 1) == 0);
	CHECK(uapi_request_length(buf, max) == -EMSGSIZE);
	CHECK(uapi_request_length(buf, max + 16) == -EMSGSIZE);
	/* a request of exactly the limit is accepted */
	buf[max - 2] = '\n';
	buf[max - 1] = '\n';
	CHECK(uapi_request_length(buf, max + 16) == (ssize_t)max);
	/* garbage is refused at its first byte that is no operation */
	memset(buf, 'g', 8);
	CHECK(uapi_request_length(buf, max + 16) == 2);
	free(buf);
}

/* ---- config helpers ---- */

static void test_config_helpers(void)
{
	struct wg_device_conf c = { 0 };
	struct wg_allowed_ip ip;
	bool ok = true;

	ip = ip_of("198.18.255.255", 15);
	wg_allowed_ip_canonicalize(&ip);
	CHECK(ip_is(&ip, "198.18.0.0", 15));
	ip = ip_of("198.19.1.2", 0);
	wg_allowed_ip_canonicalize(&ip);
	CHECK(ip_is(&ip, "0.0.0.0", 0));
	ip = ip_of("100.64.1.2", 32);
	wg_allowed_ip_canonicalize(&ip);
	CHECK(ip_is(&ip, "100.64.1.2", 32));
	ip = ip_of("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", 65);
	wg_allowed_ip_canonicalize(&ip);
	CHECK(ip_is(&ip, "2001:db8:ffff:ffff:8000::", 65));
	ip = ip_of("2001:db8::1", 128);
	wg_allowed_ip_canonicalize(&ip);
	CHECK(ip_is(&ip, "2001:db8::1", 128));

	/* growth: pointers move, contents stay */
	for (int i = 0; i < 300; i++) {
		struct wg_peer_conf *p = wg_device_conf_add_peer(&c);

		if (!p) {
			ok = false;
			break;
		}
		p->public_key[0] = (uint8_t)i;
		for (int j = 0; j < i % 40; j++) {
			ip = ip_of("198.18.0.0", (uint8_t)(j % 33));
			ok &= wg_peer_conf_add_allowed_ip(p, &ip);
		}
	}
	CHECK(ok && c.n_peers == 300);
	for (size_t i = 0; i < c.n_peers; i++)
		ok &= c.peers[i].public_key[0] == (uint8_t)i &&
		      c.peers[i].n_allowed_ips == i % 40;
	CHECK(ok);
	wg_device_conf_free(&c);
	CHECK(c.peers == NULL && c.n_peers == 0);
	wg_device_conf_free(&c);	/* twice is harmless */
}

TEST_MAIN("uapi",
	  TEST(test_get_format_exact),
	  TEST(test_get_empty_and_errors),
	  TEST(test_get_ipv6_text),
	  TEST(test_set_every_key),
	  TEST(test_set_partial),
	  TEST(test_set_flags),
	  TEST(test_set_refused),
	  TEST(test_set_binary_and_long),
	  TEST(test_set_atomic),
	  TEST(test_parse_set_direct),
	  TEST(test_framing),
	  TEST(test_oversized),
	  TEST(test_config_helpers))
