/* test_device: two devices joined by an in-memory wire, driven by an
 * injected clock. Covers the whole protocol path (handshake, data, replay,
 * allowed IPs) and every timer of the protocol without sleeping:
 * rekey at 120 s, reject at 180 s, retry every 5 s, give up after 90 s,
 * keepalive at 10 s, new handshake at 15 s, persistent keepalive, zeroing. */
#include "test.h"

#include <arpa/inet.h>

#include "crypto/crypto.h"
#include "wg/device.h"
#include "wg/peer.h"

#define WIRE_MAX 4096

struct wire_pkt {
	int to;				/* 0 = A, 1 = B */
	size_t len;
	uint8_t data[2048];
};

struct node {
	struct wg_device dev;
	int id;
	size_t delivered;		/* packets written to "TUN" */
	uint8_t last_delivered[2048];
	size_t last_len;
};

static struct wire_pkt wire[WIRE_MAX];
static size_t wire_len;
static bool wire_cut[2];		/* drop everything sent to node i */
static struct node nodes[2];
static monotime_ns clock_now;
static const union wg_sockaddr *addr_of[2];
static union wg_sockaddr addr_a, addr_b;

static struct timespec fake_walltime(void)
{
	return (struct timespec){ .tv_sec = 1700000000 + (time_t)(clock_now / NSEC_PER_SEC),
				  .tv_nsec = (long)(clock_now % NSEC_PER_SEC) };
}

static size_t io_udp_send(void *ctx, struct pkt **pkts, size_t n)
{
	(void)ctx;
	for (size_t i = 0; i < n; i++) {
		int to = wg_sockaddr_equal(&pkts[i]->ep.addr, addr_of[0]) ? 0 : 1;

		if (wire_cut[to] || wire_len == WIRE_MAX || pkts[i]->len > 2048)
			continue;
		wire[wire_len].to = to;
		wire[wire_len].len = pkts[i]->len;
		memcpy(wire[wire_len].data, pkts[i]->data, pkts[i]->len);
		wire_len++;
	}
	return n;
}

static size_t io_tun_write(void *ctx, struct pkt **pkts, size_t n)
{
	struct node *nd = ctx;

	for (size_t i = 0; i < n; i++) {
		nd->delivered++;
		nd->last_len = pkts[i]->len;
		memcpy(nd->last_delivered, pkts[i]->data, pkts[i]->len);
	}
	return n;
}

static int io_set_listen_port(void *ctx, uint16_t port, uint16_t *actual)
{
	(void)ctx;
	*actual = port;
	return 0;
}

static int io_set_fwmark(void *ctx, uint32_t fwmark)
{
	(void)ctx; (void)fwmark;
	return 0;
}

static const struct wg_device_io io = {
	.udp_send = io_udp_send, .tun_write = io_tun_write,
	.set_listen_port = io_set_listen_port, .set_fwmark = io_set_fwmark,
};

/* Delivers everything on the wire (and what that causes) at clock_now. */
static void pump(void)
{
	for (int round = 0; round < 32 && wire_len; round++) {
		static struct wire_pkt batch[WIRE_MAX];
		size_t n = wire_len;

		memcpy(batch, wire, n * sizeof(batch[0]));
		wire_len = 0;
		for (size_t i = 0; i < n; i++) {
			struct node *nd = &nodes[batch[i].to];
			struct pkt *p = pkt_alloc(&nd->dev.pool);

			memcpy(p->data, batch[i].data, batch[i].len);
			p->len = batch[i].len;
			memset(&p->ep, 0, sizeof(p->ep));
			p->ep.addr = *addr_of[1 - batch[i].to];
			wg_device_receive(&nd->dev, &p, 1, clock_now);
			wg_device_process_handshakes(&nd->dev, 64, clock_now);
			wg_device_flush(&nd->dev);
		}
	}
}

/* Advances the clock in steps, firing timers and delivering as it goes. */
static void advance(monotime_ns by)
{
	monotime_ns end = clock_now + by;

	while (clock_now < end) {
		clock_now += MSECONDS(50) < end - clock_now ? MSECONDS(50) : end - clock_now;
		for (int i = 0; i < 2; i++) {
			wg_device_run_timers(&nodes[i].dev, clock_now);
			wg_device_flush(&nodes[i].dev);
		}
		pump();
	}
}

static void ip4(uint8_t out[4], const char *s)
{
	inet_pton(AF_INET, s, out);
}

/* Sends a minimal IPv4/UDP packet from node `from` to dst. */
static void send_ip(int from, const char *src, const char *dst)
{
	struct node *nd = &nodes[from];
	struct pkt *p = pkt_alloc(&nd->dev.pool);
	uint8_t *h = p->data;

	memset(h, 0, 28);
	h[0] = 0x45;
	h[3] = 28;
	h[8] = 64;
	h[9] = 17;
	ip4(h + 12, src);
	ip4(h + 16, dst);
	p->len = 28;
	wg_device_xmit(&nd->dev, &p, 1, clock_now);
	wg_device_flush(&nd->dev);
	pump();
}

static void setup(void)
{
	uint8_t ka[32], kb[32], pa[32], pb[32];
	struct wg_device_conf ca = { 0 }, cb = { 0 };
	struct wg_peer_conf *p;
	struct wg_allowed_ip ip = { .family = AF_INET, .cidr = 32 };

	CHECK(crypto_init());
	wire_len = 0;
	wire_cut[0] = wire_cut[1] = false;
	clock_now = SECONDS(1000);
	wg_sockaddr_parse("198.18.0.1:51820", &addr_a);
	wg_sockaddr_parse("198.18.0.2:51820", &addr_b);
	addr_of[0] = &addr_a;
	addr_of[1] = &addr_b;
	x25519_generate_private(ka);
	x25519_generate_private(kb);
	x25519_public(pa, ka);
	x25519_public(pb, kb);
	for (int i = 0; i < 2; i++) {
		memset(&nodes[i], 0, sizeof(nodes[i]));
		nodes[i].id = i;
		CHECK(wg_device_init(&nodes[i].dev, &io, &nodes[i]) == 0);
		nodes[i].dev.walltime = fake_walltime;
	}
	ca.has_private_key = true;
	memcpy(ca.private_key, ka, 32);
	p = wg_device_conf_add_peer(&ca);
	memcpy(p->public_key, pb, 32);
	p->has_endpoint = true;
	p->endpoint = addr_b;
	ip4(ip.addr, "100.64.0.2");
	wg_peer_conf_add_allowed_ip(p, &ip);
	CHECK(wg_device_set_conf(&nodes[0].dev, &ca, clock_now) == 0);

	cb.has_private_key = true;
	memcpy(cb.private_key, kb, 32);
	p = wg_device_conf_add_peer(&cb);
	memcpy(p->public_key, pa, 32);
	p->has_endpoint = true;
	p->endpoint = addr_a;
	ip4(ip.addr, "100.64.0.1");
	wg_peer_conf_add_allowed_ip(p, &ip);
	CHECK(wg_device_set_conf(&nodes[1].dev, &cb, clock_now) == 0);
	wg_device_conf_free(&ca);
	wg_device_conf_free(&cb);
}

static void teardown(void)
{
	wg_device_destroy(&nodes[0].dev);
	wg_device_destroy(&nodes[1].dev);
}

static uint64_t ctr(int i, enum wg_counter c)
{
	return nodes[i].dev.counters[c];
}

static void test_handshake_and_data(void)
{
	setup();
	send_ip(0, "100.64.0.1", "100.64.0.2");
	CHECK(ctr(0, WG_CTR_handshake_initiation_tx) == 1);
	CHECK(ctr(1, WG_CTR_handshake_response_tx) == 1);
	CHECK(nodes[1].delivered == 1);
	CHECK(nodes[1].last_len == 28);
	send_ip(1, "100.64.0.2", "100.64.0.1");
	CHECK(nodes[0].delivered == 1);
	CHECK(ctr(0, WG_CTR_handshake_initiation_tx) == 1);	/* no second handshake */
	teardown();
}

static void test_allowedips_source_filter(void)
{
	setup();
	send_ip(0, "100.64.0.1", "100.64.0.2");
	CHECK(nodes[1].delivered == 1);
	/* A spoofed inner source is dropped by cryptokey routing. */
	send_ip(0, "100.64.0.99", "100.64.0.2");
	CHECK(ctr(1, WG_CTR_rx_drop_allowedips_mismatch) == 1);
	CHECK(nodes[1].delivered == 1);
	/* A destination no peer covers never leaves. */
	send_ip(0, "100.64.0.1", "100.64.0.77");
	CHECK(ctr(0, WG_CTR_tx_drop_no_peer) == 1);
	teardown();
}

static void test_replay_window_on_wire(void)
{
	struct wire_pkt dup;

	setup();
	send_ip(0, "100.64.0.1", "100.64.0.2");
	/* Hold B's deliveries: send one data packet and copy it. */
	{
		struct node *a = &nodes[0];
		struct pkt *p = pkt_alloc(&a->dev.pool);
		uint8_t *h = p->data;

		memset(h, 0, 28);
		h[0] = 0x45; h[3] = 28; h[9] = 17;
		ip4(h + 12, "100.64.0.1");
		ip4(h + 16, "100.64.0.2");
		p->len = 28;
		wg_device_xmit(&a->dev, &p, 1, clock_now);
		wg_device_flush(&a->dev);
		CHECK(wire_len == 1);
		dup = wire[0];
		wire[wire_len++] = dup;		/* the same datagram twice */
		pump();
	}
	CHECK(nodes[1].delivered == 2);
	CHECK(ctr(1, WG_CTR_rx_drop_replay) == 1);
	teardown();
}

static void test_rekey_after_time(void)
{
	setup();
	send_ip(0, "100.64.0.1", "100.64.0.2");
	send_ip(1, "100.64.0.2", "100.64.0.1");
	advance(SECONDS(REKEY_AFTER_TIME - 1));
	send_ip(0, "100.64.0.1", "100.64.0.2");
	CHECK(ctr(0, WG_CTR_handshake_initiation_tx) == 1);	/* 119 s: not yet */
	advance(SECONDS(2));
	send_ip(0, "100.64.0.1", "100.64.0.2");
	CHECK(ctr(0, WG_CTR_handshake_initiation_tx) == 2);	/* 121 s: rekey */
	CHECK(ctr(1, WG_CTR_handshake_initiation_tx) == 0);	/* responder does not */
	CHECK(nodes[1].delivered >= 3);
	teardown();
}

static void test_reject_after_time(void)
{
	setup();
	send_ip(0, "100.64.0.1", "100.64.0.2");
	/* Nobody can handshake any more; the old session must not be used. */
	wire_cut[0] = wire_cut[1] = true;
	advance(SECONDS(REJECT_AFTER_TIME + 1));
	wire_cut[0] = wire_cut[1] = false;
	{
		struct wg_peer *peer = nodes[0].dev.peers_head;

		CHECK(wg_peer_sending_keypair(peer, clock_now) == NULL);
		/* A data packet sealed with the expired key is refused by B. */
		peer->keypairs.current_keypair->sending.is_valid = true;
		peer->keypairs.current_keypair->sending.birthdate = clock_now;
		uint64_t before = nodes[1].delivered;
		wire_cut[0] = true;		/* keep A from completing a new handshake */
		send_ip(0, "100.64.0.1", "100.64.0.2");
		CHECK(nodes[1].delivered == before);
		CHECK(ctr(1, WG_CTR_rx_drop_key_expired) >= 1);
	}
	teardown();
}

static void test_retry_and_give_up(void)
{
	monotime_ns start, last = 0;
	uint64_t sent = 0;
	bool intervals_ok = true;

	setup();
	wire_cut[1] = true;			/* B is unreachable */
	start = clock_now;
	send_ip(0, "100.64.0.1", "100.64.0.2");
	sent = ctr(0, WG_CTR_handshake_initiation_tx);
	CHECK(sent == 1);
	last = clock_now;
	while (clock_now - start < SECONDS(120)) {
		advance(MSECONDS(50));
		if (ctr(0, WG_CTR_handshake_initiation_tx) != sent) {
			monotime_ns gap = clock_now - last;

			if (gap < SECONDS(REKEY_TIMEOUT) ||
			    gap > SECONDS(REKEY_TIMEOUT) + MSECONDS(REKEY_TIMEOUT_JITTER_MAX_MS + 50))
				intervals_ok = false;
			sent = ctr(0, WG_CTR_handshake_initiation_tx);
			last = clock_now;
		}
	}
	CHECK(intervals_ok);				/* every 5 s (+ jitter) */
	CHECK(sent == 1 + MAX_TIMER_HANDSHAKES + 1);	/* then it gives up */
	CHECK(last - start >= SECONDS(90));
	CHECK(last - start < SECONDS(100) + MSECONDS(20 * REKEY_TIMEOUT_JITTER_MAX_MS));
	CHECK(ctr(0, WG_CTR_tx_drop_handshake_gave_up) == 1);	/* staged packet purged */
	teardown();
}

static void test_passive_keepalive(void)
{
	setup();
	send_ip(0, "100.64.0.1", "100.64.0.2");
	uint64_t k = ctr(1, WG_CTR_keepalive_tx);
	advance(SECONDS(KEEPALIVE_TIMEOUT) - MSECONDS(100));
	CHECK(ctr(1, WG_CTR_keepalive_tx) == k);		/* 9.9 s: not yet */
	advance(MSECONDS(200));
	CHECK(ctr(1, WG_CTR_keepalive_tx) == k + 1);		/* 10 s: B answers */
	advance(SECONDS(30));
	CHECK(ctr(1, WG_CTR_keepalive_tx) == k + 1);		/* and only once */
	teardown();
}

static void test_new_handshake_when_unanswered(void)
{
	setup();
	send_ip(0, "100.64.0.1", "100.64.0.2");
	wire_cut[0] = true;				/* B's answers are lost */
	send_ip(0, "100.64.0.1", "100.64.0.2");
	advance(SECONDS(KEEPALIVE_TIMEOUT + REKEY_TIMEOUT) - MSECONDS(100));
	CHECK(ctr(0, WG_CTR_handshake_initiation_tx) == 1);
	advance(MSECONDS(REKEY_TIMEOUT_JITTER_MAX_MS + 200));
	CHECK(ctr(0, WG_CTR_handshake_initiation_tx) == 2);	/* 15 s: new handshake */
	teardown();
}

static void test_persistent_keepalive(void)
{
	struct wg_device_conf c = { 0 };
	struct wg_peer_conf *p;

	setup();
	p = wg_device_conf_add_peer(&c);
	memcpy(p->public_key, nodes[0].dev.peers_head->public_key, 32);
	p->has_persistent_keepalive = true;
	p->persistent_keepalive_interval = 25;
	CHECK(wg_device_set_conf(&nodes[0].dev, &c, clock_now) == 0);
	wg_device_conf_free(&c);
	pump();
	/* Turning it on sends one at once (after a handshake). */
	CHECK(ctr(0, WG_CTR_keepalive_tx) == 1);
	uint64_t k = ctr(0, WG_CTR_keepalive_tx);
	advance(SECONDS(100) + MSECONDS(100));
	CHECK(ctr(0, WG_CTR_keepalive_tx) == k + 4);		/* every 25 s */
	teardown();
}

static void test_zero_key_material(void)
{
	setup();
	send_ip(0, "100.64.0.1", "100.64.0.2");
	wire_cut[0] = wire_cut[1] = true;
	CHECK(nodes[0].dev.peers_head->keypairs.current_keypair != NULL);
	advance(SECONDS(REJECT_AFTER_TIME * 3) + SECONDS(1));
	CHECK(nodes[0].dev.peers_head->keypairs.current_keypair == NULL);
	CHECK(nodes[1].dev.peers_head->keypairs.current_keypair == NULL);
	CHECK(nodes[0].dev.index.n == 0 || nodes[0].dev.index.n == 1);
	teardown();
}

static void test_both_initiate_at_once(void)
{
	setup();
	/* Both stage a packet before either hears the other. */
	wire_cut[0] = wire_cut[1] = true;
	send_ip(0, "100.64.0.1", "100.64.0.2");
	send_ip(1, "100.64.0.2", "100.64.0.1");
	wire_cut[0] = wire_cut[1] = false;
	/* Simultaneous retries can cross again; jitter separates them. */
	for (int i = 0; i < 40 && !(nodes[0].delivered && nodes[1].delivered); i++)
		advance(SECONDS(1));
	CHECK(nodes[0].delivered >= 1);
	CHECK(nodes[1].delivered >= 1);
	CHECK(ctr(0, WG_CTR_rx_drop_unknown_index) == 0);
	CHECK(ctr(1, WG_CTR_rx_drop_unknown_index) == 0);
	teardown();
}

static void test_set_conf_is_atomic(void)
{
	struct wg_device_conf c = { 0 };
	struct wg_peer_conf *p;
	struct wg_allowed_ip bad = { .family = AF_INET, .cidr = 33 };

	setup();
	p = wg_device_conf_add_peer(&c);
	memset(p->public_key, 7, 32);
	c.replace_peers = true;
	wg_peer_conf_add_allowed_ip(p, &bad);
	CHECK(wg_device_set_conf(&nodes[0].dev, &c, clock_now) < 0);
	CHECK(nodes[0].dev.n_peers == 1);		/* nothing changed */
	wg_device_conf_free(&c);
	teardown();
}

TEST_MAIN("device",
	  TEST(test_handshake_and_data),
	  TEST(test_allowedips_source_filter),
	  TEST(test_replay_window_on_wire),
	  TEST(test_rekey_after_time),
	  TEST(test_reject_after_time),
	  TEST(test_retry_and_give_up),
	  TEST(test_passive_keepalive),
	  TEST(test_new_handshake_when_unanswered),
	  TEST(test_persistent_keepalive),
	  TEST(test_zero_key_material),
	  TEST(test_both_initiate_at_once),
	  TEST(test_set_conf_is_atomic))
