/* fuzz_message: every WireGuard message parser and handshake consumer on
 * arbitrary bytes. The identities are those of the wireguard-go fixture
 * (we as initiator, the wireguard-go side as responder), so the seeds in
 * fuzz/corpus/fuzz_message/ (the captured messages) decrypt and reach the
 * deepest code; state is reset on every input so runs are reproducible. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "crypto/crypto.h"
#include "wg/cookie.h"
#include "wg/endpoint.h"
#include "wg/messages.h"
#include "wg/noise.h"
#include "../tests/fixtures/wireguard_go_handshake.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The wireguard-go side's private key, from tests/tools/wg_capture.sh. */
#define WGGO_PEER_PRIVATE "b0c1d2e3f405162738495a6b7c8d9eafb0c1d2e3f405162738495a6b7c8d9e6f"

static struct {
	struct noise_static_identity us, them;
	struct noise_handshake initiator;	/* ours, having sent the initiation */
	struct noise_handshake responder;	/* theirs, for us as peer */
	struct cookie_checker checker;
	struct cookie cookie;			/* ours, having sent MAC1 */
} tmpl;

static struct noise_handshake initiator, responder;

static void unhex(const char *hex, uint8_t *out, size_t len)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++)
		out[i] = (uint8_t)((strchr(digits, hex[2 * i]) - digits) << 4 |
				   (strchr(digits, hex[2 * i + 1]) - digits));
}

static void setup(void)
{
	uint8_t k[32], psk[32], eph[32], ts[12], init[MESSAGE_INITIATION_LEN];
	struct message_handshake_initiation m;

	crypto_init();
	unhex(WGGO_OUR_PRIVATE, k, 32);
	noise_set_static_identity_private_key(&tmpl.us, k);
	unhex(WGGO_PEER_PRIVATE, k, 32);
	noise_set_static_identity_private_key(&tmpl.them, k);
	unhex(WGGO_PSK, psk, 32);
	unhex(WGGO_OUR_EPHEMERAL, eph, 32);
	unhex(WGGO_TIMESTAMP, ts, 12);
	noise_handshake_init(&tmpl.initiator, &tmpl.us, tmpl.them.static_public, psk, NULL);
	tmpl.initiator.local_index = WGGO_OUR_INDEX;
	noise_handshake_create_initiation(&m, &tmpl.initiator, ts, eph);
	noise_handshake_init(&tmpl.responder, &tmpl.them, tmpl.us.static_public, psk, NULL);
	cookie_checker_init(&tmpl.checker);
	cookie_checker_precompute_device_keys(&tmpl.checker, tmpl.them.static_public);
	cookie_init(&tmpl.cookie);
	cookie_precompute_peer_keys(&tmpl.cookie, tmpl.them.static_public);
	message_encode_initiation(init, sizeof(init), &m);
	cookie_add_mac_to_packet(init, sizeof(init), &tmpl.cookie, SECONDS(1));
}

static struct noise_handshake *lookup_static(void *ctx, const uint8_t pub[32])
{
	(void)ctx;
	return memcmp(pub, tmpl.us.static_public, 32) == 0 ? &responder : NULL;
}

static struct noise_handshake *lookup_index(void *ctx, uint32_t index)
{
	(void)ctx;
	return index == initiator.local_index ? &initiator : NULL;
}

static void fuzz_handshakes(const uint8_t *data, size_t size)
{
	struct message_handshake_initiation init;
	struct message_handshake_response resp;
	struct noise_keypair kp;

	if (message_decode_initiation(data, size, &init) &&
	    noise_handshake_consume_initiation(&init, &tmpl.them, lookup_static, NULL,
					       SECONDS(10)) &&
	    noise_handshake_create_response(&resp, &responder, NULL))
		noise_handshake_begin_session(&responder, &kp, SECONDS(10));
	if (message_decode_response(data, size, &resp) &&
	    noise_handshake_consume_response(&resp, &tmpl.us, lookup_index, NULL) &&
	    noise_handshake_begin_session(&initiator, &kp, SECONDS(10)))
		noise_keypair_wipe(&kp);
}

static void fuzz_cookies(const uint8_t *data, size_t size)
{
	struct message_handshake_cookie ck;
	struct cookie cookie = tmpl.cookie;
	struct cookie_checker checker = tmpl.checker;
	uint8_t src[18] = { 198, 18, 0, 1, 0x9c, 0x41 };

	cookie_validate_packet(&checker, data, size, src, 6, false, SECONDS(10));
	cookie_validate_packet(&checker, data, size, src, 6, true, SECONDS(10));
	if (message_decode_cookie(data, size, &ck))
		cookie_message_consume(&ck, &cookie, SECONDS(10));
}

static void fuzz_endpoint(const uint8_t *data, size_t size)
{
	char text[80];
	union wg_sockaddr a;

	if (size >= sizeof(text))
		return;
	memcpy(text, data, size);
	text[size] = '\0';
	if (wg_sockaddr_parse(text, &a))
		wg_sockaddr_format(&a, text, sizeof(text));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct message_data_header h;
	const uint8_t *payload;
	size_t plen;

	if (!ready) {
		setup();
		ready = 1;
	}
	initiator = tmpl.initiator;
	responder = tmpl.responder;
	message_determine_type(data, size);
	message_decode_data(data, size, &h, &payload, &plen);
	fuzz_handshakes(data, size);
	fuzz_cookies(data, size);
	fuzz_endpoint(data, size);
	return 0;
}
