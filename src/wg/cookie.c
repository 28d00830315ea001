/* cookie: MAC1 and MAC2 on handshake messages, and cookie replies (paper
 * section 5.4.7), as in the Linux driver's cookie.c. MAC1 proves a sender
 * knows our public key; MAC2 proves it can receive at its source address,
 * which is what a responder under load asks for before doing any DH. Rate
 * limiting is the caller's: cookie_validate_packet only checks MACs. */
#include "wg/cookie.h"

#include <string.h>

#include "common/cursor.h"
#include "crypto/crypto.h"

#define COOKIE_KEY_LABEL_LEN 8
static const uint8_t mac1_key_label[COOKIE_KEY_LABEL_LEN] = "mac1----";
static const uint8_t cookie_key_label[COOKIE_KEY_LABEL_LEN] = "cookie--";

/* HASH(label || public key). */
static void precompute_key(uint8_t key[NOISE_SYMMETRIC_KEY_LEN],
			   const uint8_t pubkey[NOISE_PUBLIC_KEY_LEN],
			   const uint8_t label[COOKIE_KEY_LABEL_LEN])
{
	blake2s_hash(key, label, COOKIE_KEY_LABEL_LEN, pubkey, NOISE_PUBLIC_KEY_LEN);
}

/* The MACs of a handshake message cover everything before them: mac1 the
 * bytes up to mac1, mac2 the bytes up to mac2 (mac1 included). Callers
 * have checked len >= MESSAGE_MACS_LEN. */
static void compute_mac1(uint8_t mac1[COOKIE_LEN], const uint8_t *msg, size_t len,
			 const uint8_t key[NOISE_SYMMETRIC_KEY_LEN])
{
	blake2s_keyed(mac1, COOKIE_LEN, key, NOISE_SYMMETRIC_KEY_LEN, msg,
		      message_mac1_offset(len));
}

static void compute_mac2(uint8_t mac2[COOKIE_LEN], const uint8_t *msg, size_t len,
			 const uint8_t cookie[COOKIE_LEN])
{
	blake2s_keyed(mac2, COOKIE_LEN, cookie, COOKIE_LEN, msg, message_mac2_offset(len));
}

/* Cookie = MAC(secret, source address || port); the secret is replaced
 * every COOKIE_SECRET_MAX_AGE_S so old cookies stop working. */
static void make_cookie(uint8_t cookie[COOKIE_LEN], struct cookie_checker *checker,
			const uint8_t *src, size_t srclen, monotime_ns now)
{
	if (monotime_expired(checker->secret_birthdate, SECONDS(COOKIE_SECRET_MAX_AGE_S), now)) {
		crypto_random(checker->secret, NOISE_HASH_LEN);
		checker->secret_birthdate = now;
	}
	blake2s_keyed(cookie, COOKIE_LEN, checker->secret, NOISE_HASH_LEN, src, srclen);
}

void cookie_checker_init(struct cookie_checker *checker)
{
	memset(checker, 0, sizeof(*checker));
}

void cookie_checker_precompute_device_keys(struct cookie_checker *checker,
					   const uint8_t static_public[NOISE_PUBLIC_KEY_LEN])
{
	if (static_public && !crypto_is_zero(static_public, NOISE_PUBLIC_KEY_LEN)) {
		precompute_key(checker->cookie_encryption_key, static_public, cookie_key_label);
		precompute_key(checker->message_mac1_key, static_public, mac1_key_label);
	} else {
		crypto_wipe(checker->cookie_encryption_key, NOISE_SYMMETRIC_KEY_LEN);
		crypto_wipe(checker->message_mac1_key, NOISE_SYMMETRIC_KEY_LEN);
	}
}

void cookie_init(struct cookie *c)
{
	memset(c, 0, sizeof(*c));
}

void cookie_precompute_peer_keys(struct cookie *c,
				 const uint8_t peer_public[NOISE_PUBLIC_KEY_LEN])
{
	precompute_key(c->cookie_decryption_key, peer_public, cookie_key_label);
	precompute_key(c->message_mac1_key, peer_public, mac1_key_label);
}

/* Splits a handshake message into body and MACs through a cursor. */
static bool read_macs(const uint8_t *msg, size_t len, struct message_macs *macs)
{
	struct cursor c = cursor_init(msg, len);

	if (len < MESSAGE_MACS_LEN)
		return false;
	rd_skip(&c, message_mac1_offset(len));
	rd_bytes(&c, macs->mac1, COOKIE_LEN);
	rd_bytes(&c, macs->mac2, COOKIE_LEN);
	return c.ok && c.left == 0;
}

enum cookie_mac_state cookie_validate_packet(struct cookie_checker *checker,
					     const uint8_t *msg, size_t len,
					     const uint8_t *src, size_t srclen,
					     bool check_cookie, monotime_ns now)
{
	enum cookie_mac_state ret = INVALID_MAC;
	struct message_macs macs;
	uint8_t computed[COOKIE_LEN], cookie[COOKIE_LEN];

	if (!read_macs(msg, len, &macs))
		return INVALID_MAC;
	compute_mac1(computed, msg, len, checker->message_mac1_key);
	if (!crypto_equal(computed, macs.mac1, COOKIE_LEN))
		goto out;
	ret = VALID_MAC_BUT_NO_COOKIE;
	if (!check_cookie)
		goto out;
	make_cookie(cookie, checker, src, srclen, now);
	compute_mac2(computed, msg, len, cookie);
	if (!crypto_equal(computed, macs.mac2, COOKIE_LEN))
		goto out;
	/* The caller's rate limiter may still demote this to RATELIMITED. */
	ret = VALID_MAC_WITH_COOKIE;
out:
	crypto_wipe(cookie, sizeof(cookie));
	return ret;
}

void cookie_add_mac_to_packet(uint8_t *msg, size_t len, struct cookie *c, monotime_ns now)
{
	uint8_t *mac1, *mac2;

	if (len < MESSAGE_MACS_LEN)
		return;
	mac1 = msg + message_mac1_offset(len);
	mac2 = msg + message_mac2_offset(len);
	compute_mac1(mac1, msg, len, c->message_mac1_key);
	memcpy(c->last_mac1_sent, mac1, COOKIE_LEN);
	c->have_sent_mac1 = true;
	/* Stop using a cookie a little before the responder's secret
	 * changes, so a MAC2 in flight is not made with a stale one. */
	if (c->is_valid &&
	    !monotime_expired(c->birthdate,
			      SECONDS(COOKIE_SECRET_MAX_AGE_S - COOKIE_SECRET_LATENCY_S), now))
		compute_mac2(mac2, msg, len, c->cookie);
	else
		memset(mac2, 0, COOKIE_LEN);
}

void cookie_message_create(struct message_handshake_cookie *dst,
			   const uint8_t *msg, size_t len, uint32_t receiver_index,
			   struct cookie_checker *checker,
			   const uint8_t *src, size_t srclen, monotime_ns now)
{
	struct message_macs macs;
	uint8_t cookie[COOKIE_LEN];

	memset(dst, 0, sizeof(*dst));
	dst->receiver_index = receiver_index;
	if (!read_macs(msg, len, &macs))
		return;
	crypto_random(dst->nonce, COOKIE_NONCE_LEN);
	make_cookie(cookie, checker, src, srclen, now);
	/* AD = the message's MAC1 ties the reply to the message it answers. */
	xaead_seal(dst->encrypted_cookie, cookie, COOKIE_LEN, macs.mac1, COOKIE_LEN,
		   dst->nonce, checker->cookie_encryption_key);
	crypto_wipe(cookie, sizeof(cookie));
}

bool cookie_message_consume(const struct message_handshake_cookie *src,
			    struct cookie *c, monotime_ns now)
{
	uint8_t cookie[COOKIE_LEN];
	bool ok;

	if (!c->have_sent_mac1)
		return false;
	ok = xaead_open(cookie, src->encrypted_cookie, sizeof(src->encrypted_cookie),
			c->last_mac1_sent, COOKIE_LEN, src->nonce, c->cookie_decryption_key);
	if (ok) {
		memcpy(c->cookie, cookie, COOKIE_LEN);
		c->birthdate = now;
		c->is_valid = true;
		/* One cookie per MAC1 sent: a replayed reply finds nothing. */
		c->have_sent_mac1 = false;
	}
	crypto_wipe(cookie, sizeof(cookie));
	return ok;
}
