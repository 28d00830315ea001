/* wg_inject: sends hostile WireGuard datagrams to a UDP endpoint and counts
 * what comes back, for tests/netns/test_malformed.sh and test_cookie.sh.
 *
 *   wg_inject [--case NAME] [--count N] [--wait-ms MS] [--seed S]
 *             [--peer-key FILE] HOST PORT PUBKEY
 *   wg_inject --flood [--rate PPS] [--seconds S] [--burst N] HOST PORT PUBKEY
 *   wg_inject --uapi SOCKET       (sends stdin to a UAPI socket, prints reply)
 *   wg_inject --list
 *
 * PUBKEY is the responder's static public key (base64, as `wg pubkey`): it
 * keys MAC1, so handshake messages get past the cheapest check and reach the
 * one a case aims at. With --peer-key (a private key the responder knows as
 * a peer) the tool also completes a real handshake and sends data messages
 * that authenticate only partly. One line per case on stdout:
 *   case NAME sent=N replies=R [other fields]
 * Every loop is bounded: at most MAX_COUNT datagrams per case, a flood
 * stops after --seconds (<= 30) and at most FLOOD_MAX datagrams. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/monotime.h"
#include "crypto/crypto.h"
#include "wg/cookie.h"
#include "wg/messages.h"
#include "wg/noise.h"

#define MAX_COUNT 10000
#define FLOOD_MAX 300000
#define MAX_DGRAM 65507		/* largest UDP payload over IPv4 */

struct inject {
	int fd;
	uint8_t responder_pub[NOISE_PUBLIC_KEY_LEN];
	struct cookie mac;		/* keys MAC1 towards the responder */
	unsigned count;
	int wait_ms;
	uint64_t rng;
	unsigned sent, replies, reply_types[5];
	/* --peer-key: a session with the responder, once handshake ran */
	bool have_identity, have_session;
	struct noise_static_identity identity;
	struct noise_handshake hs;
	struct noise_keypair kp;
};

static uint8_t buf[MAX_DGRAM];

/* ------------------------------------------------------------ helpers */

static uint64_t rnd(struct inject *in)
{
	/* xorshift64*: reproducible with --seed, good enough for garbage */
	in->rng ^= in->rng >> 12;
	in->rng ^= in->rng << 25;
	in->rng ^= in->rng >> 27;
	return in->rng * 2685821657736338717ULL;
}

static size_t rnd_range(struct inject *in, size_t lo, size_t hi)
{
	return lo + (size_t)(rnd(in) % (hi - lo + 1));
}

static void rnd_fill(struct inject *in, uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(rnd(in) >> 32);
}

static void put_header(uint8_t *p, uint8_t type)
{
	p[0] = type;
	p[1] = p[2] = p[3] = 0;
}

static bool base64_key(const char *s, uint8_t out[32])
{
	static const char tab[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	uint32_t acc = 0;
	int bits = 0;
	size_t n = 0;

	if (strlen(s) != 44 || s[43] != '=')
		return false;
	for (size_t i = 0; i < 43; i++) {
		const char *c = memchr(tab, s[i], 64);
		if (!c || !s[i])
			return false;
		acc = (acc << 6) | (uint32_t)(c - tab);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n < 32)
				out[n++] = (uint8_t)(acc >> bits);
		}
	}
	return n == 32;
}

static bool read_key_file(const char *path, uint8_t out[32])
{
	char line[128] = { 0 };
	FILE *f = fopen(path, "r");
	bool ok;

	if (!f)
		return false;
	ok = fgets(line, sizeof(line), f) != NULL;
	fclose(f);
	line[strcspn(line, "\r\n")] = 0;
	return ok && base64_key(line, out);
}

static int open_udp(const char *host, const char *port)
{
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM }, *res, *ai;
	int fd = -1, err;

	err = getaddrinfo(host, port, &hints, &res);
	if (err) {
		fprintf(stderr, "wg_inject: %s: %s\n", host, gai_strerror(err));
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK, 0);
		if (fd < 0)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		perror("wg_inject: socket/connect");
	else {
		int sz = 4 << 20;
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	}
	return fd;
}

/* Reads every reply waiting, or waiting up to timeout_ms for the first. */
static void on_reply(struct inject *in, const uint8_t *p, size_t len);

static void drain(struct inject *in, int timeout_ms)
{
	static uint8_t rbuf[2048];
	struct pollfd pfd = { .fd = in->fd, .events = POLLIN };
	monotime_ns end = monotime_now() + MSECONDS(timeout_ms);

	for (;;) {
		ssize_t n = recv(in->fd, rbuf, sizeof(rbuf), MSG_DONTWAIT);
		if (n >= 0) {
			on_reply(in, rbuf, (size_t)n);
			continue;
		}
		monotime_ns now = monotime_now();
		if (now >= end)
			return;
		if (poll(&pfd, 1, (int)((end - now) / NSEC_PER_MSEC) + 1) <= 0)
			return;
	}
}

static void send_dgram(struct inject *in, const uint8_t *p, size_t len)
{
	/* ECONNREFUSED (an ICMP from an earlier datagram) or a full buffer:
	 * count the datagram as sent anyway only when the kernel took it. */
	for (int tries = 0; tries < 50; tries++) {
		if (send(in->fd, p, len, 0) >= 0) {
			in->sent++;
			return;
		}
		if (errno == ECONNREFUSED)
			continue;
		if (errno != EAGAIN && errno != ENOBUFS)
			return;
		drain(in, 1);
	}
}

/* ------------------------------------------------------------ replies */

static struct {
	bool on;
	uint8_t (*mac1)[COOKIE_LEN];	/* by sender_index */
	unsigned cookies, cookies_valid, other;
} flood_replies;

static void on_reply(struct inject *in, const uint8_t *p, size_t len)
{
	enum message_type t = message_determine_type(p, len);

	in->replies++;
	in->reply_types[t]++;
	if (!flood_replies.on)
		return;
	struct message_handshake_cookie ck;
	if (t != MESSAGE_HANDSHAKE_COOKIE || !message_decode_cookie(p, len, &ck)) {
		flood_replies.other++;
		return;
	}
	flood_replies.cookies++;
	if (ck.receiver_index >= FLOOD_MAX)
		return;
	/* The cookie authenticates against the MAC1 of the initiation it
	 * answers: prove it came from a responder that saw our message. */
	struct cookie c;
	cookie_init(&c);
	cookie_precompute_peer_keys(&c, in->responder_pub);
	memcpy(c.last_mac1_sent, flood_replies.mac1[ck.receiver_index], COOKIE_LEN);
	c.have_sent_mac1 = true;
	if (cookie_message_consume(&ck, &c, monotime_now()))
		flood_replies.cookies_valid++;
}

/* ------------------------------------------------------------ messages */

/* A handshake message of its exact length, random inside, valid MAC1. */
static size_t initiation_garbage(struct inject *in, uint8_t *p, uint32_t sender)
{
	rnd_fill(in, p, MESSAGE_INITIATION_LEN);
	put_header(p, MESSAGE_HANDSHAKE_INITIATION);
	p[4] = (uint8_t)sender;
	p[5] = (uint8_t)(sender >> 8);
	p[6] = (uint8_t)(sender >> 16);
	p[7] = (uint8_t)(sender >> 24);
	memset(p + message_mac1_offset(MESSAGE_INITIATION_LEN), 0, MESSAGE_MACS_LEN);
	cookie_add_mac_to_packet(p, MESSAGE_INITIATION_LEN, &in->mac, monotime_now());
	return MESSAGE_INITIATION_LEN;
}

static size_t response_garbage(struct inject *in, uint8_t *p)
{
	rnd_fill(in, p, MESSAGE_RESPONSE_LEN);
	put_header(p, MESSAGE_HANDSHAKE_RESPONSE);
	memset(p + message_mac1_offset(MESSAGE_RESPONSE_LEN), 0, MESSAGE_MACS_LEN);
	cookie_add_mac_to_packet(p, MESSAGE_RESPONSE_LEN, &in->mac, monotime_now());
	return MESSAGE_RESPONSE_LEN;
}

/* Random bytes behind a type byte, with zero reserved bytes. */
static size_t typed_garbage(struct inject *in, uint8_t *p, uint8_t type, size_t len)
{
	rnd_fill(in, p, len);
	if (len >= MESSAGE_HEADER_LEN)
		put_header(p, type);
	else if (len > 0)
		p[0] = type;
	return len;
}

/* ------------------------------------------------------------ cases */

static void case_empty(struct inject *in)
{
	for (unsigned i = 0; i < in->count; i++)
		send_dgram(in, buf, 0);
}

static void case_short_header(struct inject *in)
{
	for (unsigned i = 0; i < in->count; i++)
		send_dgram(in, buf, typed_garbage(in, buf, (uint8_t)rnd_range(in, 1, 4),
						  rnd_range(in, 1, 3)));
}

static void case_short_data(struct inject *in)
{
	for (unsigned i = 0; i < in->count; i++)
		send_dgram(in, buf, typed_garbage(in, buf, MESSAGE_DATA,
				rnd_range(in, MESSAGE_HEADER_LEN, MESSAGE_DATA_MIN_LEN - 1)));
}

static const size_t exact_len[] = {
	[MESSAGE_HANDSHAKE_INITIATION] = MESSAGE_INITIATION_LEN,
	[MESSAGE_HANDSHAKE_RESPONSE] = MESSAGE_RESPONSE_LEN,
	[MESSAGE_HANDSHAKE_COOKIE] = MESSAGE_COOKIE_LEN,
};

static void truncated(struct inject *in, uint8_t type)
{
	for (unsigned i = 0; i < in->count; i++)
		send_dgram(in, buf, typed_garbage(in, buf, type,
				rnd_range(in, MESSAGE_HEADER_LEN, exact_len[type] - 1)));
}

static void oversized(struct inject *in, uint8_t type)
{
	for (unsigned i = 0; i < in->count; i++) {
		/* mostly just over, sometimes far over */
		size_t len = i % 4 == 3 ? rnd_range(in, 1500, MAX_DGRAM)
					: rnd_range(in, exact_len[type] + 1, exact_len[type] + 64);
		send_dgram(in, buf, typed_garbage(in, buf, type, len));
	}
}

static void case_trunc_initiation(struct inject *in) { truncated(in, MESSAGE_HANDSHAKE_INITIATION); }
static void case_trunc_response(struct inject *in) { truncated(in, MESSAGE_HANDSHAKE_RESPONSE); }
static void case_trunc_cookie(struct inject *in) { truncated(in, MESSAGE_HANDSHAKE_COOKIE); }
static void case_long_initiation(struct inject *in) { oversized(in, MESSAGE_HANDSHAKE_INITIATION); }
static void case_long_response(struct inject *in) { oversized(in, MESSAGE_HANDSHAKE_RESPONSE); }
static void case_long_cookie(struct inject *in) { oversized(in, MESSAGE_HANDSHAKE_COOKIE); }

/* Right type and length, a reserved byte not zero. */
static void case_reserved(struct inject *in)
{
	for (unsigned i = 0; i < in->count; i++) {
		uint8_t type = (uint8_t)(i % 4 + 1);
		size_t len = type == MESSAGE_DATA ? rnd_range(in, MESSAGE_DATA_MIN_LEN, 200)
						  : exact_len[type];
		if (type == MESSAGE_HANDSHAKE_INITIATION)
			initiation_garbage(in, buf, (uint32_t)rnd(in));
		else
			typed_garbage(in, buf, type, len);
		buf[1 + rnd_range(in, 0, 2)] = (uint8_t)rnd_range(in, 1, 255);
		send_dgram(in, buf, len);
	}
}

static void case_bad_type(struct inject *in)
{
	for (unsigned i = 0; i < in->count; i++) {
		uint8_t type = i % 3 == 0 ? 0 : (uint8_t)rnd_range(in, 5, 255);
		send_dgram(in, buf, typed_garbage(in, buf, type,
				i % 2 ? MESSAGE_INITIATION_LEN
				      : rnd_range(in, MESSAGE_DATA_MIN_LEN, 300)));
	}
}

static void case_bad_mac1_initiation(struct inject *in)
{
	for (unsigned i = 0; i < in->count; i++)
		send_dgram(in, buf, typed_garbage(in, buf, MESSAGE_HANDSHAKE_INITIATION,
						  MESSAGE_INITIATION_LEN));
}

static void case_bad_mac1_response(struct inject *in)
{
	for (unsigned i = 0; i < in->count; i++)
		send_dgram(in, buf, typed_garbage(in, buf, MESSAGE_HANDSHAKE_RESPONSE,
						  MESSAGE_RESPONSE_LEN));
}

/* Valid MAC1, but neither ephemeral, static nor timestamp decrypt. */
static void case_init_garbage(struct inject *in)
{
	for (unsigned i = 0; i < in->count; i++)
		send_dgram(in, buf, initiation_garbage(in, buf, (uint32_t)rnd(in)));
}

/* Valid MAC1, answering an initiation nobody sent. */
static void case_resp_garbage(struct inject *in)
{
	for (unsigned i = 0; i < in->count; i++)
		send_dgram(in, buf, response_garbage(in, buf));
}

static void case_cookie_unknown(struct inject *in)
{
	for (unsigned i = 0; i < in->count; i++)
		send_dgram(in, buf, typed_garbage(in, buf, MESSAGE_HANDSHAKE_COOKIE,
						  MESSAGE_COOKIE_LEN));
}

static void case_data_unknown_index(struct inject *in)
{
	for (unsigned i = 0; i < in->count; i++)
		send_dgram(in, buf, typed_garbage(in, buf, MESSAGE_DATA,
				rnd_range(in, MESSAGE_DATA_MIN_LEN, 1400)));
}

/* Anything at all: random bytes of random sizes, a few huge. */
static void case_random(struct inject *in)
{
	for (unsigned i = 0; i < in->count; i++) {
		size_t len = i % 16 == 15 ? rnd_range(in, 0, MAX_DGRAM) : rnd_range(in, 0, 1600);
		rnd_fill(in, buf, len);
		send_dgram(in, buf, len);
	}
}

/* ------------------------------------------------------------ a real peer */

static struct noise_handshake *lookup_hs(void *ctx, uint32_t index)
{
	struct inject *in = ctx;
	return index == in->hs.local_index ? &in->hs : NULL;
}

/* A full handshake as a peer the responder knows: the one case where a
 * reply is expected, and the door to the data cases below. */
static void case_handshake(struct inject *in)
{
	struct message_handshake_initiation init;
	uint8_t ts[NOISE_TIMESTAMP_LEN];
	size_t len;

	if (!in->have_identity) {
		fprintf(stderr, "wg_inject: case handshake needs --peer-key\n");
		exit(2);
	}
	static const uint8_t no_psk[NOISE_SYMMETRIC_KEY_LEN];

	noise_handshake_init(&in->hs, &in->identity, in->responder_pub, no_psk, in);
	in->hs.local_index = (uint32_t)rnd(in);
	noise_tai64n(ts, walltime_now());
	if (!noise_handshake_create_initiation(&init, &in->hs, ts, NULL)) {
		fprintf(stderr, "wg_inject: cannot create initiation\n");
		exit(2);
	}
	len = message_encode_initiation(buf, sizeof(buf), &init);
	cookie_add_mac_to_packet(buf, len, &in->mac, monotime_now());
	send_dgram(in, buf, len);

	/* wait for the response, at most wait_ms + 2 s */
	monotime_ns end = monotime_now() + MSECONDS(in->wait_ms + 2000);
	struct pollfd pfd = { .fd = in->fd, .events = POLLIN };
	while (!in->have_session && monotime_now() < end) {
		struct message_handshake_response resp;
		ssize_t n;

		if (poll(&pfd, 1, 100) <= 0)
			continue;
		n = recv(in->fd, buf, sizeof(buf), 0);
		if (n < 0)
			continue;
		on_reply(in, buf, (size_t)n);
		if (message_determine_type(buf, (size_t)n) != MESSAGE_HANDSHAKE_RESPONSE ||
		    !message_decode_response(buf, (size_t)n, &resp))
			continue;
		if (!noise_handshake_consume_response(&resp, &in->identity, lookup_hs, in))
			continue;
		in->have_session = noise_handshake_begin_session(&in->hs, &in->kp, monotime_now());
	}
}

/* A data message under the session: counter, then plain (padded) sealed
 * with the sending key; tamper flips a tag bit. */
static size_t data_message(struct inject *in, uint64_t counter, const uint8_t *plain,
			   size_t plain_len, bool tamper)
{
	struct message_data_header h = { .key_idx = in->kp.remote_index, .counter = counter };
	uint8_t padded[2048] = { 0 };
	size_t padded_len = (plain_len + MESSAGE_PADDING_MULTIPLE - 1) /
			    MESSAGE_PADDING_MULTIPLE * MESSAGE_PADDING_MULTIPLE;
	size_t hl = message_encode_data_header(buf, sizeof(buf), &h);

	if (plain_len)
		memcpy(padded, plain, plain_len);
	aead_seal(buf + hl, padded, padded_len, NULL, 0, counter, in->kp.sending.key);
	if (tamper)
		buf[hl + padded_len + NOISE_AUTHTAG_LEN - 1] ^= 1;
	return hl + padded_len + NOISE_AUTHTAG_LEN;
}

static void need_session(struct inject *in, const char *name)
{
	if (in->have_session)
		return;
	case_handshake(in);
	drain(in, 50);
	in->sent = in->replies = 0;
	memset(in->reply_types, 0, sizeof(in->reply_types));
	if (!in->have_session) {
		fprintf(stderr, "wg_inject: case %s: no session (handshake failed)\n", name);
		exit(2);
	}
}

/* Confirms the session (a keepalive), then data whose tag does not verify. */
static void case_data_bad_tag(struct inject *in)
{
	need_session(in, "data_bad_tag");
	send(in->fd, buf, data_message(in, in->kp.sending_counter++, NULL, 0, false), 0);
	for (unsigned i = 0; i < in->count; i++) {
		uint8_t plain[64];
		rnd_fill(in, plain, sizeof(plain));
		send_dgram(in, buf, data_message(in, in->kp.sending_counter++, plain,
						 sizeof(plain), true));
	}
}

/* One valid keepalive, then the very same message again and again. */
static void case_data_replay(struct inject *in)
{
	need_session(in, "data_replay");
	size_t len = data_message(in, in->kp.sending_counter++, NULL, 0, false);
	send(in->fd, buf, len, 0);
	for (unsigned i = 0; i < in->count; i++)
		send_dgram(in, buf, len);
}

/* Authentic data messages carrying something that is no IP packet. */
static void case_data_bad_inner(struct inject *in)
{
	need_session(in, "data_bad_inner");
	for (unsigned i = 0; i < in->count; i++) {
		uint8_t plain[40];
		rnd_fill(in, plain, sizeof(plain));
		plain[0] = (uint8_t)(0x70 | (plain[0] & 0x0f));	/* IP version 7 */
		send_dgram(in, buf, data_message(in, in->kp.sending_counter++, plain,
						 sizeof(plain), false));
	}
}

/* ------------------------------------------------------------ table */

static const struct inject_case {
	const char *name;
	void (*run)(struct inject *in);
	const char *what;
} cases[] = {
	{ "empty", case_empty, "zero-length datagrams" },
	{ "short_header", case_short_header, "1-3 bytes, shorter than a header" },
	{ "short_data", case_short_data, "data type, shorter than a keepalive" },
	{ "trunc_initiation", case_trunc_initiation, "initiation type, truncated" },
	{ "trunc_response", case_trunc_response, "response type, truncated" },
	{ "trunc_cookie", case_trunc_cookie, "cookie type, truncated" },
	{ "long_initiation", case_long_initiation, "initiation type, oversized" },
	{ "long_response", case_long_response, "response type, oversized" },
	{ "long_cookie", case_long_cookie, "cookie type, oversized" },
	{ "reserved", case_reserved, "right length, reserved bytes not zero" },
	{ "bad_type", case_bad_type, "type 0 or 5..255" },
	{ "bad_mac1_initiation", case_bad_mac1_initiation, "initiation, MAC1 wrong" },
	{ "bad_mac1_response", case_bad_mac1_response, "response, MAC1 wrong" },
	{ "init_garbage", case_init_garbage, "initiation, valid MAC1, garbage inside" },
	{ "resp_garbage", case_resp_garbage, "response, valid MAC1, garbage inside" },
	{ "cookie_unknown", case_cookie_unknown, "cookie reply nobody asked for" },
	{ "data_unknown_index", case_data_unknown_index, "data, unknown receiver index" },
	{ "random", case_random, "random bytes, random sizes up to 65507" },
	{ "handshake", case_handshake, "(--peer-key) real handshake: one reply" },
	{ "data_bad_tag", case_data_bad_tag, "(--peer-key) known index, bad tag" },
	{ "data_replay", case_data_replay, "(--peer-key) one keepalive, replayed" },
	{ "data_bad_inner", case_data_bad_inner, "(--peer-key) authentic, not IP inside" },
};
#define N_CASES (sizeof(cases) / sizeof(cases[0]))

static void run_case(struct inject *in, const struct inject_case *c)
{
	in->sent = in->replies = 0;
	memset(in->reply_types, 0, sizeof(in->reply_types));
	c->run(in);
	drain(in, in->wait_ms);
	printf("case %s sent=%u replies=%u response=%u cookie=%u", c->name, in->sent,
	       in->replies, in->reply_types[MESSAGE_HANDSHAKE_RESPONSE],
	       in->reply_types[MESSAGE_HANDSHAKE_COOKIE]);
	if (c->run == case_handshake)
		printf(" session=%s", in->have_session ? "yes" : "no");
	printf("\n");
	fflush(stdout);
}

/* ------------------------------------------------------------ flood */

/* Initiations with valid MAC1 from no known static key, in bursts every
 * 10 ms at the asked rate; counts cookie replies and checks each one
 * against the MAC1 of the initiation it names. */
static void flood(struct inject *in, unsigned rate, unsigned seconds, unsigned burst)
{
	monotime_ns start = monotime_now(), end = start + SECONDS(seconds), tick = start;
	unsigned per_tick = rate / 100 ? rate / 100 : 1;
	uint32_t idx = 0;

	if (burst)
		per_tick = burst;
	flood_replies.on = true;
	flood_replies.mac1 = calloc(FLOOD_MAX, COOKIE_LEN);
	if (!flood_replies.mac1)
		exit(2);
	while (monotime_now() < end && idx < FLOOD_MAX) {
		for (unsigned i = 0; i < per_tick && idx < FLOOD_MAX; i++, idx++) {
			initiation_garbage(in, buf, idx);
			memcpy(flood_replies.mac1[idx],
			       buf + message_mac1_offset(MESSAGE_INITIATION_LEN), COOKIE_LEN);
			send_dgram(in, buf, MESSAGE_INITIATION_LEN);
		}
		tick += burst ? MSECONDS(1000) * burst / (rate ? rate : 1) : MSECONDS(10);
		monotime_ns now = monotime_now();
		drain(in, tick > now ? (int)((tick - now) / NSEC_PER_MSEC) : 0);
	}
	drain(in, in->wait_ms);
	printf("flood sent=%u replies=%u cookie_replies=%u cookies_valid=%u other=%u seconds=%.1f\n",
	       in->sent, in->replies, flood_replies.cookies, flood_replies.cookies_valid,
	       flood_replies.other, (double)(monotime_now() - start) / 1e9);
}

/* ------------------------------------------------------------ uapi */

/* Sends stdin (up to 64 KiB) to a UAPI socket, prints the reply. */
static int uapi(const char *path)
{
	static char req[65536], rep[65536];
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	size_t len = fread(req, 1, sizeof(req), stdin), got = 0;
	struct pollfd pfd;
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path))
		return 2;
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		perror("wg_inject: uapi connect");
		return 2;
	}
	if (write(fd, req, len) != (ssize_t)len)
		perror("wg_inject: uapi write");
	pfd = (struct pollfd){ .fd = fd, .events = POLLIN };
	while (got < sizeof(rep) - 1 && poll(&pfd, 1, 3000) > 0) {
		ssize_t n = read(fd, rep + got, sizeof(rep) - 1 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
		rep[got] = 0;
		if (strstr(rep, "\n\n"))
			break;
	}
	close(fd);
	fwrite(rep, 1, got, stdout);
	return got ? 0 : 1;
}

/* ------------------------------------------------------------ main */

static void usage(void)
{
	fprintf(stderr,
		"usage: wg_inject [--case NAME] [--count N] [--wait-ms MS] [--seed S]\n"
		"                 [--peer-key FILE] HOST PORT PUBKEY\n"
		"       wg_inject --flood [--rate PPS] [--seconds S] [--burst N] HOST PORT PUBKEY\n"
		"       wg_inject --uapi SOCKET < request\n"
		"       wg_inject --list\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "case", required_argument, NULL, 'c' },
		{ "count", required_argument, NULL, 'n' },
		{ "wait-ms", required_argument, NULL, 'w' },
		{ "seed", required_argument, NULL, 's' },
		{ "peer-key", required_argument, NULL, 'k' },
		{ "flood", no_argument, NULL, 'F' },
		{ "rate", required_argument, NULL, 'r' },
		{ "seconds", required_argument, NULL, 't' },
		{ "burst", required_argument, NULL, 'b' },
		{ "uapi", required_argument, NULL, 'u' },
		{ "list", no_argument, NULL, 'l' },
		{ 0 }
	};
	static struct inject in = { .count = 20, .wait_ms = 300, .rng = 0x9e3779b97f4a7c15ULL };
	const char *only = NULL, *keyfile = NULL;
	bool do_flood = false;
	unsigned rate = 5000, seconds = 3, burst = 0;
	int o;

	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'c': only = optarg; break;
		case 'n': in.count = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'w': in.wait_ms = atoi(optarg); break;
		case 's': in.rng = strtoull(optarg, NULL, 0) | 1; break;
		case 'k': keyfile = optarg; break;
		case 'F': do_flood = true; break;
		case 'r': rate = (unsigned)strtoul(optarg, NULL, 0); break;
		case 't': seconds = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'b': burst = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'u': return uapi(optarg);
		case 'l':
			for (size_t i = 0; i < N_CASES; i++)
				printf("%-20s %s\n", cases[i].name, cases[i].what);
			return 0;
		default: usage();
		}
	}
	if (argc - optind != 3)
		usage();
	if (in.count > MAX_COUNT)
		in.count = MAX_COUNT;
	if (seconds > 30)
		seconds = 30;
	if (in.wait_ms < 0 || in.wait_ms > 10000)
		in.wait_ms = 300;
	if (!crypto_init()) {
		fprintf(stderr, "wg_inject: crypto_init failed\n");
		return 2;
	}
	if (!base64_key(argv[optind + 2], in.responder_pub)) {
		fprintf(stderr, "wg_inject: bad public key '%s'\n", argv[optind + 2]);
		return 2;
	}
	if (keyfile) {
		uint8_t priv[NOISE_PUBLIC_KEY_LEN];
		if (!read_key_file(keyfile, priv)) {
			fprintf(stderr, "wg_inject: cannot read a key from %s\n", keyfile);
			return 2;
		}
		noise_set_static_identity_private_key(&in.identity, priv);
		crypto_wipe(priv, sizeof(priv));
		in.have_identity = in.identity.has_identity;
	}
	cookie_init(&in.mac);
	cookie_precompute_peer_keys(&in.mac, in.responder_pub);
	in.fd = open_udp(argv[optind], argv[optind + 1]);
	if (in.fd < 0)
		return 2;

	if (do_flood) {
		flood(&in, rate, seconds, burst);
		return 0;
	}
	for (size_t i = 0; i < N_CASES; i++) {
		bool needs_key = cases[i].what[0] == '(';
		if (only ? strcmp(only, cases[i].name) != 0 : needs_key && !in.have_identity)
			continue;
		run_case(&in, &cases[i]);
		if (only)
			return 0;
	}
	if (only) {
		fprintf(stderr, "wg_inject: no case '%s' (--list)\n", only);
		return 2;
	}
	return 0;
}
