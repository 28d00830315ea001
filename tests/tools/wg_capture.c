/* wg_capture: records a known-answer WireGuard exchange with a real peer
 * (wireguard-go) for tests/fixtures/wireguard_go_handshake.h. It acts as
 * the initiator with fixed keys, a fixed ephemeral and a fixed timestamp,
 * so our initiation is reproducible; it then completes the session,
 * confirms it with a keepalive, and waits for a data packet carrying the
 * expected UDP payload. The whole exchange goes to stdout as a C header.
 * Run by tests/tools/wg_capture.sh, which sets up wireguard-go; not by make. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "crypto/crypto.h"
#include "wg/cookie.h"
#include "wg/endpoint.h"
#include "wg/messages.h"
#include "wg/noise.h"

struct capture_args {
	uint8_t our_private[32], peer_public[32], psk[32], ephemeral[32];
	uint8_t timestamp[NOISE_TIMESTAMP_LEN];
	uint32_t index;
	union wg_sockaddr bind_addr, peer_addr;
	const char *payload;
	int wait_s;
};

struct capture {
	struct noise_static_identity id;
	struct noise_handshake hs;
	struct noise_keypair kp;
	uint8_t initiation[MESSAGE_INITIATION_LEN];
	uint8_t response[MESSAGE_RESPONSE_LEN];
	uint8_t data[MESSAGE_MAX_LEN], plain[MESSAGE_MAX_LEN];
	size_t data_len, plain_len;
	int fd;
};

static void die(const char *what)
{
	fprintf(stderr, "wg_capture: %s\n", what);
	exit(1);
}

static void parse_hex(const char *hex, uint8_t *out, size_t len, const char *name)
{
	if (strlen(hex) != 2 * len)
		die(name);
	for (size_t i = 0; i < len; i++) {
		unsigned v;

		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			die(name);
		out[i] = (uint8_t)v;
	}
}

static void parse_args(int argc, char **argv, struct capture_args *a)
{
	memset(a, 0, sizeof(*a));
	a->wait_s = 20;
	for (int i = 1; i + 1 < argc; i += 2) {
		const char *k = argv[i], *v = argv[i + 1];

		if (!strcmp(k, "--our-private")) parse_hex(v, a->our_private, 32, k);
		else if (!strcmp(k, "--peer-public")) parse_hex(v, a->peer_public, 32, k);
		else if (!strcmp(k, "--psk")) parse_hex(v, a->psk, 32, k);
		else if (!strcmp(k, "--ephemeral")) parse_hex(v, a->ephemeral, 32, k);
		else if (!strcmp(k, "--timestamp")) parse_hex(v, a->timestamp, 12, k);
		else if (!strcmp(k, "--index")) a->index = (uint32_t)strtoul(v, NULL, 0);
		else if (!strcmp(k, "--bind")) { if (!wg_sockaddr_parse(v, &a->bind_addr)) die(k); }
		else if (!strcmp(k, "--peer")) { if (!wg_sockaddr_parse(v, &a->peer_addr)) die(k); }
		else if (!strcmp(k, "--payload")) a->payload = v;
		else if (!strcmp(k, "--wait")) a->wait_s = atoi(v);
		else die("usage: see tests/tools/wg_capture.sh");
	}
	if (!a->payload || !a->peer_addr.sa.sa_family || !a->bind_addr.sa.sa_family)
		die("--payload, --bind and --peer are required");
}

static void open_socket(struct capture *c, const struct capture_args *a)
{
	struct timeval tv = { .tv_sec = 1 };

	c->fd = socket(a->bind_addr.sa.sa_family, SOCK_DGRAM, 0);
	if (c->fd < 0 || bind(c->fd, &a->bind_addr.sa, wg_sockaddr_len(&a->bind_addr)) < 0)
		die("socket/bind");
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

static struct noise_handshake *lookup_index(void *ctx, uint32_t index)
{
	struct capture *c = ctx;

	return index == c->hs.local_index ? &c->hs : NULL;
}

static void send_initiation(struct capture *c, const struct capture_args *a)
{
	struct message_handshake_initiation init;
	struct cookie ck;

	noise_set_static_identity_private_key(&c->id, a->our_private);
	noise_handshake_init(&c->hs, &c->id, a->peer_public, a->psk, NULL);
	c->hs.local_index = a->index;
	if (!noise_handshake_create_initiation(&init, &c->hs, a->timestamp, a->ephemeral))
		die("create initiation");
	message_encode_initiation(c->initiation, sizeof(c->initiation), &init);
	cookie_init(&ck);
	cookie_precompute_peer_keys(&ck, a->peer_public);
	cookie_add_mac_to_packet(c->initiation, sizeof(c->initiation), &ck, monotime_now());
	if (sendto(c->fd, c->initiation, sizeof(c->initiation), 0, &a->peer_addr.sa,
		   wg_sockaddr_len(&a->peer_addr)) < 0)
		die("sendto initiation");
}

/* Waits for the response, ignoring anything else (wireguard-go may send
 * initiations of its own), and begins the session. */
static void receive_response(struct capture *c, int wait_s)
{
	struct message_handshake_response resp;
	uint8_t buf[MESSAGE_MAX_LEN];

	for (time_t end = time(NULL) + wait_s; time(NULL) < end;) {
		ssize_t n = recv(c->fd, buf, sizeof(buf), 0);

		if (n < 0 || message_determine_type(buf, (size_t)n) != MESSAGE_HANDSHAKE_RESPONSE)
			continue;
		memcpy(c->response, buf, sizeof(c->response));
		if (!message_decode_response(buf, (size_t)n, &resp) ||
		    !noise_handshake_consume_response(&resp, &c->id, lookup_index, c))
			die("response does not authenticate");
		if (!noise_handshake_begin_session(&c->hs, &c->kp, monotime_now()))
			die("begin session");
		return;
	}
	die("no response from wireguard-go");
}

/* The responder may only send once the initiator has used the session. */
static void send_keepalive(struct capture *c, const struct capture_args *a)
{
	struct message_data_header h = { .key_idx = c->kp.remote_index, .counter = 0 };
	uint8_t buf[MESSAGE_DATA_MIN_LEN];

	message_encode_data_header(buf, sizeof(buf), &h);
	if (!aead_seal(buf + MESSAGE_DATA_HEADER_LEN, NULL, 0, NULL, 0, 0, c->kp.sending.key) ||
	    sendto(c->fd, buf, sizeof(buf), 0, &a->peer_addr.sa, wg_sockaddr_len(&a->peer_addr)) < 0)
		die("send keepalive");
	c->kp.sending_counter = 1;
}

static bool decrypt_data(struct capture *c, const uint8_t *buf, size_t n)
{
	struct message_data_header h;
	const uint8_t *payload;
	size_t plen;

	if (!message_decode_data(buf, n, &h, &payload, &plen) || h.key_idx != c->kp.local_index)
		return false;
	if (!aead_open(c->plain, payload, plen, NULL, 0, h.counter, c->kp.receiving.key))
		die("data packet does not decrypt");
	c->plain_len = plen - NOISE_AUTHTAG_LEN;
	return true;
}

static bool contains(const uint8_t *hay, size_t hlen, const char *needle)
{
	size_t nlen = strlen(needle);

	for (size_t i = 0; i + nlen <= hlen; i++)
		if (!memcmp(hay + i, needle, nlen))
			return true;
	return false;
}

/* Keepalives (empty plaintext) are skipped: we want the datagram. */
static void receive_data(struct capture *c, const struct capture_args *a)
{
	for (time_t end = time(NULL) + a->wait_s; time(NULL) < end;) {
		ssize_t n = recv(c->fd, c->data, sizeof(c->data), 0);

		if (n < 0 || message_determine_type(c->data, (size_t)n) != MESSAGE_DATA)
			continue;
		if (!decrypt_data(c, c->data, (size_t)n))
			continue;
		c->data_len = (size_t)n;
		if (contains(c->plain, c->plain_len, a->payload))
			return;
	}
	die("no data packet with the payload from wireguard-go");
}

static void print_hex(const char *name, const uint8_t *b, size_t len)
{
	printf("#define %s \\\n\t\"", name);
	for (size_t i = 0; i < len; i++) {
		printf("%02x", b[i]);
		if (i % 32 == 31 && i + 1 < len)
			printf("\" \\\n\t\"");
	}
	printf("\"\n");
}

static void print_header(const struct capture *c, const struct capture_args *a)
{
	printf("/* wireguard_go_handshake.h: a WireGuard exchange captured from a real\n"
	       " * wireguard-go by tests/tools/wg_capture.sh (do not edit; regenerate).\n"
	       " * We were the initiator with fixed keys, ephemeral and timestamp;\n"
	       " * wireguard-go answered and then sent a UDP datagram through the tunnel. */\n"
	       "#ifndef EGRESS_FIXTURE_WIREGUARD_GO_HANDSHAKE_H\n"
	       "#define EGRESS_FIXTURE_WIREGUARD_GO_HANDSHAKE_H\n\n");
	print_hex("WGGO_OUR_PRIVATE", a->our_private, 32);
	print_hex("WGGO_OUR_PUBLIC", c->id.static_public, 32);
	print_hex("WGGO_PEER_PUBLIC", a->peer_public, 32);
	print_hex("WGGO_PSK", a->psk, 32);
	print_hex("WGGO_OUR_EPHEMERAL", a->ephemeral, 32);
	print_hex("WGGO_TIMESTAMP", a->timestamp, 12);
	printf("#define WGGO_OUR_INDEX 0x%08xU\n", c->kp.local_index);
	printf("#define WGGO_PEER_INDEX 0x%08xU\n", c->kp.remote_index);
	print_hex("WGGO_INITIATION", c->initiation, sizeof(c->initiation));
	print_hex("WGGO_RESPONSE", c->response, sizeof(c->response));
	print_hex("WGGO_DATA", c->data, c->data_len);
	print_hex("WGGO_DATA_PLAINTEXT", c->plain, c->plain_len);
	printf("#define WGGO_UDP_PAYLOAD \"%s\"\n\n#endif\n", a->payload);
}

int main(int argc, char **argv)
{
	static struct capture c;
	struct capture_args a;

	if (!crypto_init())
		die("crypto_init");
	parse_args(argc, argv, &a);
	open_socket(&c, &a);
	send_initiation(&c, &a);
	receive_response(&c, a.wait_s);
	send_keepalive(&c, &a);
	fprintf(stderr, "wg_capture: session established\n");
	receive_data(&c, &a);
	print_header(&c, &a);
	noise_keypair_wipe(&c.kp);
	close(c.fd);
	return 0;
}
