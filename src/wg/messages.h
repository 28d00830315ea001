/* messages: every WireGuard wire format and protocol constant, named as in
 * the WireGuard paper and the Linux driver's messages.h. Messages are decoded
 * from and encoded to wire bytes through cursors (messages.c); the structs
 * here are host-order views, never cast onto packet memory. */
#ifndef EGRESS_WG_MESSAGES_H
#define EGRESS_WG_MESSAGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/monotime.h"

enum noise_lengths {
	NOISE_PUBLIC_KEY_LEN = 32,
	NOISE_SYMMETRIC_KEY_LEN = 32,
	NOISE_TIMESTAMP_LEN = 12,	/* TAI64N */
	NOISE_AUTHTAG_LEN = 16,
	NOISE_HASH_LEN = 32,
};

#define noise_encrypted_len(plain_len) ((plain_len) + NOISE_AUTHTAG_LEN)

enum cookie_values {
	COOKIE_SECRET_MAX_AGE_S = 2 * 60,
	COOKIE_SECRET_LATENCY_S = 5,
	COOKIE_NONCE_LEN = 24,		/* XChaCha20-Poly1305 */
	COOKIE_LEN = 16,
};

enum counter_values {
	COUNTER_BITS_TOTAL = 8192,
	COUNTER_REDUNDANT_BITS = 64,
	COUNTER_WINDOW_SIZE = COUNTER_BITS_TOTAL - COUNTER_REDUNDANT_BITS,
};

/* Protocol limits (seconds unless named otherwise). */
#define REKEY_AFTER_MESSAGES   (1ULL << 60)
#define REJECT_AFTER_MESSAGES  (UINT64_MAX - COUNTER_WINDOW_SIZE - 1)
#define REKEY_TIMEOUT          5
#define REKEY_TIMEOUT_JITTER_MAX_MS 333
#define REKEY_AFTER_TIME       120
#define REJECT_AFTER_TIME      180
#define INITIATIONS_PER_SECOND 50
#define MAX_PEERS_PER_DEVICE   (1U << 20)
#define KEEPALIVE_TIMEOUT      10
#define MAX_TIMER_HANDSHAKES   (90 / REKEY_TIMEOUT)
#define MAX_QUEUED_INCOMING_HANDSHAKES 4096
#define MAX_STAGED_PACKETS     128
#define MAX_QUEUED_PACKETS     1024

enum message_type {
	MESSAGE_INVALID = 0,
	MESSAGE_HANDSHAKE_INITIATION = 1,
	MESSAGE_HANDSHAKE_RESPONSE = 2,
	MESSAGE_HANDSHAKE_COOKIE = 3,
	MESSAGE_DATA = 4,
};

/* Exact wire sizes; a handshake message of any other length is dropped. */
enum message_sizes {
	MESSAGE_HEADER_LEN = 4,			/* u8 type + 3 reserved zero bytes */
	MESSAGE_MACS_LEN = 2 * COOKIE_LEN,
	MESSAGE_INITIATION_LEN = 4 + 4 + NOISE_PUBLIC_KEY_LEN
		+ NOISE_PUBLIC_KEY_LEN + NOISE_AUTHTAG_LEN
		+ NOISE_TIMESTAMP_LEN + NOISE_AUTHTAG_LEN + MESSAGE_MACS_LEN,	/* 148 */
	MESSAGE_RESPONSE_LEN = 4 + 4 + 4 + NOISE_PUBLIC_KEY_LEN
		+ NOISE_AUTHTAG_LEN + MESSAGE_MACS_LEN,				/* 92 */
	MESSAGE_COOKIE_LEN = 4 + 4 + COOKIE_NONCE_LEN + COOKIE_LEN
		+ NOISE_AUTHTAG_LEN,						/* 64 */
	MESSAGE_DATA_HEADER_LEN = 4 + 4 + 8,					/* 16 */
	MESSAGE_DATA_MIN_LEN = MESSAGE_DATA_HEADER_LEN + NOISE_AUTHTAG_LEN,	/* 32: keepalive */
	MESSAGE_PADDING_MULTIPLE = 16,
};

/* The largest UDP payload egressd accepts: an IP packet of up to 65535 bytes
 * wrapped in a data message. Anything longer is dropped before parsing. */
#define MESSAGE_MAX_LEN (MESSAGE_DATA_MIN_LEN + 65535 + MESSAGE_PADDING_MULTIPLE)

struct message_macs {
	uint8_t mac1[COOKIE_LEN];
	uint8_t mac2[COOKIE_LEN];
};

struct message_handshake_initiation {
	uint32_t sender_index;
	uint8_t unencrypted_ephemeral[NOISE_PUBLIC_KEY_LEN];
	uint8_t encrypted_static[noise_encrypted_len(NOISE_PUBLIC_KEY_LEN)];
	uint8_t encrypted_timestamp[noise_encrypted_len(NOISE_TIMESTAMP_LEN)];
	struct message_macs macs;
};

struct message_handshake_response {
	uint32_t sender_index;
	uint32_t receiver_index;
	uint8_t unencrypted_ephemeral[NOISE_PUBLIC_KEY_LEN];
	uint8_t encrypted_nothing[noise_encrypted_len(0)];
	struct message_macs macs;
};

struct message_handshake_cookie {
	uint32_t receiver_index;
	uint8_t nonce[COOKIE_NONCE_LEN];
	uint8_t encrypted_cookie[noise_encrypted_len(COOKIE_LEN)];
};

/* A data message's header; the ciphertext follows it in the same buffer. */
struct message_data_header {
	uint32_t key_idx;
	uint64_t counter;
};

/* Returns the message type of a UDP payload after checking its header and
 * exact length for the type, or MESSAGE_INVALID. Cheapest check first. */
enum message_type message_determine_type(const uint8_t *buf, size_t len);

bool message_decode_initiation(const uint8_t *buf, size_t len,
			       struct message_handshake_initiation *m);
bool message_decode_response(const uint8_t *buf, size_t len,
			     struct message_handshake_response *m);
bool message_decode_cookie(const uint8_t *buf, size_t len,
			   struct message_handshake_cookie *m);
/* On success *payload points into buf at the ciphertext (tag included). */
bool message_decode_data(const uint8_t *buf, size_t len, struct message_data_header *h,
			 const uint8_t **payload, size_t *payload_len);

/* Encoders write exactly the message's wire length into buf (cap checked)
 * and return it, or 0 when buf is too small. */
size_t message_encode_initiation(uint8_t *buf, size_t cap,
				 const struct message_handshake_initiation *m);
size_t message_encode_response(uint8_t *buf, size_t cap,
			       const struct message_handshake_response *m);
size_t message_encode_cookie(uint8_t *buf, size_t cap,
			     const struct message_handshake_cookie *m);
size_t message_encode_data_header(uint8_t *buf, size_t cap,
				  const struct message_data_header *h);

/* Offsets of mac1 and mac2 inside an encoded handshake message of len bytes. */
static inline size_t message_mac1_offset(size_t len) { return len - MESSAGE_MACS_LEN; }
static inline size_t message_mac2_offset(size_t len) { return len - COOKIE_LEN; }

#endif
