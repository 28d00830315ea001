/* noise: the Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s handshake and the
 * session keys it derives, as specified in the WireGuard paper (section 5)
 * and built like the Linux driver's noise.c. The handshake state of a peer
 * is only ever written once every check on a message passed. */
#ifndef EGRESS_WG_NOISE_H
#define EGRESS_WG_NOISE_H

#include <stdbool.h>
#include <stdint.h>

#include "common/monotime.h"
#include "wg/messages.h"
#include "wg/replay.h"

struct noise_static_identity {
	uint8_t static_public[NOISE_PUBLIC_KEY_LEN];
	uint8_t static_private[NOISE_PUBLIC_KEY_LEN];
	bool has_identity;
};

enum noise_handshake_state {
	HANDSHAKE_ZEROED,
	HANDSHAKE_CREATED_INITIATION,
	HANDSHAKE_CONSUMED_INITIATION,
	HANDSHAKE_CREATED_RESPONSE,
	HANDSHAKE_CONSUMED_RESPONSE,
};

struct noise_handshake {
	enum noise_handshake_state state;
	monotime_ns last_initiation_consumption;

	const struct noise_static_identity *static_identity;
	uint8_t ephemeral_private[NOISE_PUBLIC_KEY_LEN];
	uint8_t remote_static[NOISE_PUBLIC_KEY_LEN];
	uint8_t remote_ephemeral[NOISE_PUBLIC_KEY_LEN];
	uint8_t precomputed_static_static[NOISE_PUBLIC_KEY_LEN];
	uint8_t preshared_key[NOISE_SYMMETRIC_KEY_LEN];

	uint8_t hash[NOISE_HASH_LEN];
	uint8_t chaining_key[NOISE_HASH_LEN];
	uint8_t latest_timestamp[NOISE_TIMESTAMP_LEN];

	uint32_t local_index;		/* chosen by the caller, unique per device */
	uint32_t remote_index;
	void *owner;			/* the peer this handshake belongs to */
};

struct noise_symmetric_key {
	uint8_t key[NOISE_SYMMETRIC_KEY_LEN];
	monotime_ns birthdate;
	bool is_valid;
};

struct noise_keypair {
	struct noise_symmetric_key sending;
	uint64_t sending_counter;
	struct noise_symmetric_key receiving;
	struct replay_counter receiving_counter;
	uint32_t local_index;
	uint32_t remote_index;
	bool i_am_the_initiator;
	void *owner;
};

/* A peer's sessions: the one in use, the one before it (kept so packets in
 * flight during a rekey still decrypt), and a responder's next one, which
 * becomes current on the first data packet the initiator sends with it. */
struct noise_keypairs {
	struct noise_keypair *current_keypair;
	struct noise_keypair *previous_keypair;
	struct noise_keypair *next_keypair;
};

/* Precomputes what does not change per handshake. A zero or unusable
 * identity leaves the handshake unable to run (created messages fail). */
void noise_handshake_init(struct noise_handshake *hs,
			  const struct noise_static_identity *identity,
			  const uint8_t peer_public[NOISE_PUBLIC_KEY_LEN],
			  const uint8_t preshared_key[NOISE_SYMMETRIC_KEY_LEN],
			  void *owner);
/* After the device's private key changes: recomputes static-static. */
void noise_handshake_precompute_static_static(struct noise_handshake *hs);
void noise_handshake_clear(struct noise_handshake *hs);
void noise_set_static_identity_private_key(struct noise_static_identity *id,
					   const uint8_t priv[NOISE_PUBLIC_KEY_LEN]);

/* TAI64N of a wall-clock time: what the initiation carries. */
void noise_tai64n(uint8_t out[NOISE_TIMESTAMP_LEN], struct timespec wall);

/* ephemeral_private: NULL for a fresh random key; tests pass a fixed one.
 * The caller sets hs->local_index first. MACs are left zero (cookie.c). */
bool noise_handshake_create_initiation(struct message_handshake_initiation *dst,
				       struct noise_handshake *hs,
				       const uint8_t timestamp[NOISE_TIMESTAMP_LEN],
				       const uint8_t *ephemeral_private);

/* Finds the handshake of the peer whose static public key the initiation
 * carries; NULL if unknown. */
typedef struct noise_handshake *(*noise_lookup_by_static_fn)(
	void *ctx, const uint8_t remote_static[NOISE_PUBLIC_KEY_LEN]);
/* Finds a handshake by our local index (response's receiver_index). */
typedef struct noise_handshake *(*noise_lookup_by_index_fn)(void *ctx, uint32_t index);

/* Returns the peer's handshake, now CONSUMED_INITIATION, or NULL when the
 * message does not decrypt, names no peer, replays an old timestamp, or
 * comes faster than INITIATIONS_PER_SECOND. */
struct noise_handshake *
noise_handshake_consume_initiation(const struct message_handshake_initiation *src,
				   const struct noise_static_identity *identity,
				   noise_lookup_by_static_fn lookup, void *ctx,
				   monotime_ns now);

bool noise_handshake_create_response(struct message_handshake_response *dst,
				     struct noise_handshake *hs,
				     const uint8_t *ephemeral_private);

struct noise_handshake *
noise_handshake_consume_response(const struct message_handshake_response *src,
				 const struct noise_static_identity *identity,
				 noise_lookup_by_index_fn lookup, void *ctx);

/* Derives the transport keys of a handshake in CREATED_RESPONSE or
 * CONSUMED_RESPONSE state into *kp (local/remote index, initiator flag,
 * birthdate = now) and zeroes the handshake. False in any other state. */
bool noise_handshake_begin_session(struct noise_handshake *hs,
				   struct noise_keypair *kp, monotime_ns now);

void noise_keypair_wipe(struct noise_keypair *kp);

#endif
