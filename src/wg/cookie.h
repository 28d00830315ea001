/* cookie: MAC1/MAC2 on handshake messages and cookie replies (WireGuard
 * paper, section 5.4.7), as in the Linux driver's cookie.c. Under load a
 * responder answers an initiation without a valid MAC2 with a cookie reply
 * instead of doing Diffie-Hellman; the cookie binds the sender's address. */
#ifndef EGRESS_WG_COOKIE_H
#define EGRESS_WG_COOKIE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/monotime.h"
#include "wg/messages.h"

/* The device's side: checks MACs on what arrives, makes cookies. */
struct cookie_checker {
	uint8_t secret[NOISE_HASH_LEN];
	uint8_t cookie_encryption_key[NOISE_SYMMETRIC_KEY_LEN];
	uint8_t message_mac1_key[NOISE_SYMMETRIC_KEY_LEN];
	monotime_ns secret_birthdate;
};

/* A peer's side: the cookie it last received and the keys to check and
 * send MACs towards that peer. */
struct cookie {
	monotime_ns birthdate;
	bool is_valid;
	uint8_t cookie[COOKIE_LEN];
	bool have_sent_mac1;
	uint8_t last_mac1_sent[COOKIE_LEN];
	uint8_t cookie_decryption_key[NOISE_SYMMETRIC_KEY_LEN];
	uint8_t message_mac1_key[NOISE_SYMMETRIC_KEY_LEN];
};

enum cookie_mac_state {
	INVALID_MAC,
	VALID_MAC_BUT_NO_COOKIE,
	VALID_MAC_WITH_COOKIE_BUT_RATELIMITED,
	VALID_MAC_WITH_COOKIE,
};

void cookie_checker_init(struct cookie_checker *checker);
/* With the device's static public key (all zero when it has none). */
void cookie_checker_precompute_device_keys(struct cookie_checker *checker,
					   const uint8_t static_public[NOISE_PUBLIC_KEY_LEN]);
void cookie_init(struct cookie *c);
void cookie_precompute_peer_keys(struct cookie *c,
				 const uint8_t peer_public[NOISE_PUBLIC_KEY_LEN]);

/* msg: an encoded handshake message of len bytes, MACs at its end.
 * src: wg_sockaddr_cookie_bytes() of the sender. check_cookie: the device is
 * under load, so MAC2 is checked too. */
enum cookie_mac_state cookie_validate_packet(struct cookie_checker *checker,
					     const uint8_t *msg, size_t len,
					     const uint8_t *src, size_t srclen,
					     bool check_cookie, monotime_ns now);

/* Fills mac1, and mac2 when a fresh cookie from the peer is held. */
void cookie_add_mac_to_packet(uint8_t *msg, size_t len, struct cookie *c, monotime_ns now);

/* A cookie reply to the handshake message msg from src. */
void cookie_message_create(struct message_handshake_cookie *dst,
			   const uint8_t *msg, size_t len, uint32_t receiver_index,
			   struct cookie_checker *checker,
			   const uint8_t *src, size_t srclen, monotime_ns now);
/* Decrypts a cookie reply for the peer it names; false if it does not
 * authenticate against the MAC1 we last sent that peer. */
bool cookie_message_consume(const struct message_handshake_cookie *src,
			    struct cookie *c, monotime_ns now);

#endif
