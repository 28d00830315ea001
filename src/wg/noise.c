/* noise: the Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s handshake of WireGuard
 * (paper section 5.4) and the derivation of transport keys from it, built
 * like the Linux driver's noise.c. Each message is processed in a stack
 * scratch state; the peer's handshake is written only once every check on
 * the message passed, and the scratch state is wiped on every exit path. */
#include "wg/noise.h"

#include <pthread.h>
#include <string.h>

#include "crypto/crypto.h"

static const char handshake_name[] = "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s";
static const char identifier_name[] = "WireGuard v1 zx2c4 Jason@zx2c4.com";

/* Ck = HASH(CONSTRUCTION), H = HASH(Ck || IDENTIFIER): the same for every
 * handshake, so computed once. */
static uint8_t handshake_init_chaining_key[NOISE_HASH_LEN];
static uint8_t handshake_init_hash[NOISE_HASH_LEN];
static pthread_once_t handshake_init_once = PTHREAD_ONCE_INIT;

static void handshake_precompute(void)
{
	blake2s_hash(handshake_init_chaining_key, handshake_name,
		     sizeof(handshake_name) - 1, NULL, 0);
	blake2s_hash(handshake_init_hash, handshake_init_chaining_key, NOISE_HASH_LEN,
		     identifier_name, sizeof(identifier_name) - 1);
}

/* Scratch state of one message; wiped before return. */
struct noise_work {
	uint8_t chaining_key[NOISE_HASH_LEN];
	uint8_t hash[NOISE_HASH_LEN];
	uint8_t key[NOISE_SYMMETRIC_KEY_LEN];
	uint8_t ephemeral_private[NOISE_PUBLIC_KEY_LEN];
	uint8_t remote_ephemeral[NOISE_PUBLIC_KEY_LEN];
	uint8_t remote_static[NOISE_PUBLIC_KEY_LEN];
	uint8_t preshared_key[NOISE_SYMMETRIC_KEY_LEN];
	uint8_t timestamp[NOISE_TIMESTAMP_LEN];
};

/* HKDF over HMAC-BLAKE2s with up to three 32-byte outputs (any may be
 * NULL to stop early). Outputs may alias the chaining key. */
static void kdf(uint8_t *first, uint8_t *second, uint8_t *third, const uint8_t *data,
		size_t data_len, const uint8_t chaining_key[NOISE_HASH_LEN])
{
	uint8_t secret[BLAKE2S_HASH_LEN], output[BLAKE2S_HASH_LEN + 1];

	hmac_blake2s(secret, chaining_key, NOISE_HASH_LEN, data, data_len);
	if (!first)
		goto out;
	output[0] = 1;
	hmac_blake2s(output, secret, sizeof(secret), output, 1);
	memcpy(first, output, BLAKE2S_HASH_LEN);
	if (!second)
		goto out;
	output[BLAKE2S_HASH_LEN] = 2;
	hmac_blake2s(output, secret, sizeof(secret), output, BLAKE2S_HASH_LEN + 1);
	memcpy(second, output, BLAKE2S_HASH_LEN);
	if (!third)
		goto out;
	output[BLAKE2S_HASH_LEN] = 3;
	hmac_blake2s(output, secret, sizeof(secret), output, BLAKE2S_HASH_LEN + 1);
	memcpy(third, output, BLAKE2S_HASH_LEN);
out:
	crypto_wipe(secret, sizeof(secret));
	crypto_wipe(output, sizeof(output));
}

static void mix_hash(uint8_t hash[NOISE_HASH_LEN], const uint8_t *src, size_t len)
{
	blake2s_hash(hash, hash, NOISE_HASH_LEN, src, len);
}

/* Ck, k = KDF2(Ck, DH(priv, pub)); false on a low-order public key. */
static bool mix_dh(struct noise_work *w, const uint8_t priv[NOISE_PUBLIC_KEY_LEN],
		   const uint8_t pub[NOISE_PUBLIC_KEY_LEN])
{
	uint8_t dh[NOISE_PUBLIC_KEY_LEN];
	bool ok = x25519(dh, priv, pub);

	if (ok)
		kdf(w->chaining_key, w->key, NULL, dh, sizeof(dh), w->chaining_key);
	crypto_wipe(dh, sizeof(dh));
	return ok;
}

/* As mix_dh with the static-static DH done once in advance; all zero
 * means it failed then (no identity, or a low-order peer key). */
static bool mix_precomputed_dh(struct noise_work *w,
			       const uint8_t precomputed[NOISE_PUBLIC_KEY_LEN])
{
	if (crypto_is_zero(precomputed, NOISE_PUBLIC_KEY_LEN))
		return false;
	kdf(w->chaining_key, w->key, NULL, precomputed, NOISE_PUBLIC_KEY_LEN,
	    w->chaining_key);
	return true;
}

static void mix_psk(struct noise_work *w, const uint8_t psk[NOISE_SYMMETRIC_KEY_LEN])
{
	uint8_t temp_hash[NOISE_HASH_LEN];

	kdf(w->chaining_key, temp_hash, w->key, psk, NOISE_SYMMETRIC_KEY_LEN,
	    w->chaining_key);
	mix_hash(w->hash, temp_hash, sizeof(temp_hash));
	crypto_wipe(temp_hash, sizeof(temp_hash));
}

/* The handshake's AEAD: nonce 0 (each key encrypts once), AD = hash. */
static bool message_encrypt(uint8_t *dst, const uint8_t *src, size_t len,
			    struct noise_work *w)
{
	if (!aead_seal(dst, src, len, w->hash, NOISE_HASH_LEN, 0, w->key))
		return false;
	mix_hash(w->hash, dst, noise_encrypted_len(len));
	return true;
}

static bool message_decrypt(uint8_t *dst, const uint8_t *src, size_t src_len,
			    struct noise_work *w)
{
	if (!aead_open(dst, src, src_len, w->hash, NOISE_HASH_LEN, 0, w->key))
		return false;
	mix_hash(w->hash, src, src_len);
	return true;
}

static void message_ephemeral(struct noise_work *w,
			      const uint8_t ephemeral[NOISE_PUBLIC_KEY_LEN])
{
	mix_hash(w->hash, ephemeral, NOISE_PUBLIC_KEY_LEN);
	kdf(w->chaining_key, NULL, NULL, ephemeral, NOISE_PUBLIC_KEY_LEN, w->chaining_key);
}

/* Ck and H before the first message, with the responder's static mixed in. */
static void handshake_start(struct noise_work *w,
			    const uint8_t responder_static[NOISE_PUBLIC_KEY_LEN])
{
	pthread_once(&handshake_init_once, handshake_precompute);
	memcpy(w->chaining_key, handshake_init_chaining_key, NOISE_HASH_LEN);
	memcpy(w->hash, handshake_init_hash, NOISE_HASH_LEN);
	mix_hash(w->hash, responder_static, NOISE_PUBLIC_KEY_LEN);
}

/* A fresh ephemeral key pair, or the caller's fixed one (tests). */
static bool make_ephemeral(struct noise_work *w, const uint8_t *fixed_private,
			   uint8_t public_out[NOISE_PUBLIC_KEY_LEN])
{
	if (fixed_private) {
		memcpy(w->ephemeral_private, fixed_private, NOISE_PUBLIC_KEY_LEN);
		x25519_clamp(w->ephemeral_private);
	} else {
		x25519_generate_private(w->ephemeral_private);
	}
	return x25519_public(public_out, w->ephemeral_private);
}

static void handshake_zero(struct noise_handshake *hs)
{
	crypto_wipe(hs->ephemeral_private, NOISE_PUBLIC_KEY_LEN);
	crypto_wipe(hs->remote_ephemeral, NOISE_PUBLIC_KEY_LEN);
	crypto_wipe(hs->hash, NOISE_HASH_LEN);
	crypto_wipe(hs->chaining_key, NOISE_HASH_LEN);
	hs->remote_index = 0;
	hs->state = HANDSHAKE_ZEROED;
}

void noise_handshake_precompute_static_static(struct noise_handshake *hs)
{
	const struct noise_static_identity *id = hs->static_identity;

	if (!id || !id->has_identity ||
	    !x25519(hs->precomputed_static_static, id->static_private, hs->remote_static))
		crypto_wipe(hs->precomputed_static_static, NOISE_PUBLIC_KEY_LEN);
}

void noise_handshake_init(struct noise_handshake *hs,
			  const struct noise_static_identity *identity,
			  const uint8_t peer_public[NOISE_PUBLIC_KEY_LEN],
			  const uint8_t preshared_key[NOISE_SYMMETRIC_KEY_LEN],
			  void *owner)
{
	memset(hs, 0, sizeof(*hs));
	memcpy(hs->remote_static, peer_public, NOISE_PUBLIC_KEY_LEN);
	if (preshared_key)
		memcpy(hs->preshared_key, preshared_key, NOISE_SYMMETRIC_KEY_LEN);
	hs->static_identity = identity;
	hs->owner = owner;
	hs->state = HANDSHAKE_ZEROED;
	noise_handshake_precompute_static_static(hs);
}

void noise_handshake_clear(struct noise_handshake *hs)
{
	handshake_zero(hs);
}

void noise_set_static_identity_private_key(struct noise_static_identity *id,
					   const uint8_t priv[NOISE_PUBLIC_KEY_LEN])
{
	memcpy(id->static_private, priv, NOISE_PUBLIC_KEY_LEN);
	x25519_clamp(id->static_private);
	id->has_identity = x25519_public(id->static_public, id->static_private);
	if (!id->has_identity)
		crypto_wipe(id->static_public, NOISE_PUBLIC_KEY_LEN);
}

/* TAI64N: 2^62 + 10 + seconds (big endian), then nanoseconds (big endian).
 * As in the Linux driver the nanoseconds are rounded down to a power of two
 * near 1s / INITIATIONS_PER_SECOND (2^24 ns): finer precision is useless to
 * the replay check and would leak the sender's precise clock. */
void noise_tai64n(uint8_t out[NOISE_TIMESTAMP_LEN], struct timespec wall)
{
	uint64_t jitter = 1, secs = 0x400000000000000aULL + (uint64_t)wall.tv_sec;
	uint32_t nsec;

	while (jitter * 2 <= NSEC_PER_SEC / INITIATIONS_PER_SECOND)
		jitter *= 2;
	nsec = (uint32_t)((uint64_t)wall.tv_nsec & ~(jitter - 1));
	for (int i = 0; i < 8; i++)
		out[i] = (uint8_t)(secs >> (56 - 8 * i));
	for (int i = 0; i < 4; i++)
		out[8 + i] = (uint8_t)(nsec >> (24 - 8 * i));
}

/* Initiator: e, es, s, ss, {t}. */
static bool initiation_build(struct message_handshake_initiation *dst,
			     struct noise_handshake *hs, struct noise_work *w,
			     const uint8_t timestamp[NOISE_TIMESTAMP_LEN],
			     const uint8_t *ephemeral_private)
{
	handshake_start(w, hs->remote_static);
	if (!make_ephemeral(w, ephemeral_private, dst->unencrypted_ephemeral))
		return false;
	message_ephemeral(w, dst->unencrypted_ephemeral);
	if (!mix_dh(w, w->ephemeral_private, hs->remote_static))
		return false;
	if (!message_encrypt(dst->encrypted_static, hs->static_identity->static_public,
			     NOISE_PUBLIC_KEY_LEN, w))
		return false;
	if (!mix_precomputed_dh(w, hs->precomputed_static_static))
		return false;
	return message_encrypt(dst->encrypted_timestamp, timestamp, NOISE_TIMESTAMP_LEN, w);
}

bool noise_handshake_create_initiation(struct message_handshake_initiation *dst,
				       struct noise_handshake *hs,
				       const uint8_t timestamp[NOISE_TIMESTAMP_LEN],
				       const uint8_t *ephemeral_private)
{
	struct noise_work w;
	bool ret = false;

	memset(dst, 0, sizeof(*dst));
	if (!hs->static_identity || !hs->static_identity->has_identity)
		return false;
	if (!initiation_build(dst, hs, &w, timestamp, ephemeral_private))
		goto out;
	dst->sender_index = hs->local_index;
	memcpy(hs->chaining_key, w.chaining_key, NOISE_HASH_LEN);
	memcpy(hs->hash, w.hash, NOISE_HASH_LEN);
	memcpy(hs->ephemeral_private, w.ephemeral_private, NOISE_PUBLIC_KEY_LEN);
	hs->state = HANDSHAKE_CREATED_INITIATION;
	ret = true;
out:
	crypto_wipe(&w, sizeof(w));
	return ret;
}

/* Responder, up to the peer lookup: e, es, s. */
static bool initiation_open_static(const struct message_handshake_initiation *src,
				   const struct noise_static_identity *identity,
				   struct noise_work *w)
{
	handshake_start(w, identity->static_public);
	memcpy(w->remote_ephemeral, src->unencrypted_ephemeral, NOISE_PUBLIC_KEY_LEN);
	message_ephemeral(w, w->remote_ephemeral);
	if (!mix_dh(w, identity->static_private, w->remote_ephemeral))
		return false;
	return message_decrypt(w->remote_static, src->encrypted_static,
			       sizeof(src->encrypted_static), w);
}

/* Stricter than the Linux driver's signed compare in one respect only: a
 * zero last_initiation_consumption means "never", so a peer created at boot
 * time zero is not treated as flooding. */
static bool initiation_too_soon(monotime_ns last, monotime_ns now)
{
	return last != 0 &&
	       (int64_t)(last + NSEC_PER_SEC / INITIATIONS_PER_SECOND - now) > 0;
}

static void initiation_commit(struct noise_handshake *hs, const struct noise_work *w,
			      uint32_t sender_index, monotime_ns now)
{
	memcpy(hs->remote_ephemeral, w->remote_ephemeral, NOISE_PUBLIC_KEY_LEN);
	memcpy(hs->latest_timestamp, w->timestamp, NOISE_TIMESTAMP_LEN);
	memcpy(hs->hash, w->hash, NOISE_HASH_LEN);
	memcpy(hs->chaining_key, w->chaining_key, NOISE_HASH_LEN);
	hs->remote_index = sender_index;
	if ((int64_t)(hs->last_initiation_consumption - now) < 0)
		hs->last_initiation_consumption = now;
	hs->state = HANDSHAKE_CONSUMED_INITIATION;
}

struct noise_handshake *
noise_handshake_consume_initiation(const struct message_handshake_initiation *src,
				   const struct noise_static_identity *identity,
				   noise_lookup_by_static_fn lookup, void *ctx,
				   monotime_ns now)
{
	struct noise_handshake *hs = NULL, *ret = NULL;
	struct noise_work w;

	memset(&w, 0, sizeof(w));
	if (!identity || !identity->has_identity)
		goto out;
	if (!initiation_open_static(src, identity, &w))
		goto out;
	hs = lookup(ctx, w.remote_static);
	if (!hs || !mix_precomputed_dh(&w, hs->precomputed_static_static))
		goto out;
	if (!message_decrypt(w.timestamp, src->encrypted_timestamp,
			     sizeof(src->encrypted_timestamp), &w))
		goto out;
	/* Replay: timestamps must strictly increase. Flood: bounded rate. */
	if (memcmp(w.timestamp, hs->latest_timestamp, NOISE_TIMESTAMP_LEN) <= 0 ||
	    initiation_too_soon(hs->last_initiation_consumption, now))
		goto out;
	initiation_commit(hs, &w, src->sender_index, now);
	ret = hs;
out:
	crypto_wipe(&w, sizeof(w));
	return ret;
}

/* Responder: e, ee, se, psk, {}. */
static bool response_build(struct message_handshake_response *dst,
			   const struct noise_handshake *hs, struct noise_work *w,
			   const uint8_t *ephemeral_private)
{
	memcpy(w->chaining_key, hs->chaining_key, NOISE_HASH_LEN);
	memcpy(w->hash, hs->hash, NOISE_HASH_LEN);
	if (!make_ephemeral(w, ephemeral_private, dst->unencrypted_ephemeral))
		return false;
	message_ephemeral(w, dst->unencrypted_ephemeral);
	if (!mix_dh(w, w->ephemeral_private, hs->remote_ephemeral) ||
	    !mix_dh(w, w->ephemeral_private, hs->remote_static))
		return false;
	mix_psk(w, hs->preshared_key);
	return message_encrypt(dst->encrypted_nothing, NULL, 0, w);
}

bool noise_handshake_create_response(struct message_handshake_response *dst,
				     struct noise_handshake *hs,
				     const uint8_t *ephemeral_private)
{
	struct noise_work w;
	bool ret = false;

	memset(dst, 0, sizeof(*dst));
	memset(&w, 0, sizeof(w));
	if (hs->state != HANDSHAKE_CONSUMED_INITIATION)
		goto out;
	if (!response_build(dst, hs, &w, ephemeral_private))
		goto out;
	dst->sender_index = hs->local_index;
	dst->receiver_index = hs->remote_index;
	memcpy(hs->chaining_key, w.chaining_key, NOISE_HASH_LEN);
	memcpy(hs->hash, w.hash, NOISE_HASH_LEN);
	memcpy(hs->ephemeral_private, w.ephemeral_private, NOISE_PUBLIC_KEY_LEN);
	hs->state = HANDSHAKE_CREATED_RESPONSE;
	ret = true;
out:
	crypto_wipe(&w, sizeof(w));
	return ret;
}

/* Initiator: e, ee, se, psk, {}, from a copy of the handshake's state. */
static bool response_open(const struct message_handshake_response *src,
			  const struct noise_static_identity *identity,
			  const struct noise_handshake *hs, struct noise_work *w)
{
	memcpy(w->chaining_key, hs->chaining_key, NOISE_HASH_LEN);
	memcpy(w->hash, hs->hash, NOISE_HASH_LEN);
	memcpy(w->ephemeral_private, hs->ephemeral_private, NOISE_PUBLIC_KEY_LEN);
	memcpy(w->preshared_key, hs->preshared_key, NOISE_SYMMETRIC_KEY_LEN);
	memcpy(w->remote_ephemeral, src->unencrypted_ephemeral, NOISE_PUBLIC_KEY_LEN);
	message_ephemeral(w, w->remote_ephemeral);
	if (!mix_dh(w, w->ephemeral_private, w->remote_ephemeral) ||
	    !mix_dh(w, identity->static_private, w->remote_ephemeral))
		return false;
	mix_psk(w, w->preshared_key);
	return message_decrypt(NULL, src->encrypted_nothing,
			       sizeof(src->encrypted_nothing), w);
}

struct noise_handshake *
noise_handshake_consume_response(const struct message_handshake_response *src,
				 const struct noise_static_identity *identity,
				 noise_lookup_by_index_fn lookup, void *ctx)
{
	struct noise_handshake *hs, *ret = NULL;
	struct noise_work w;

	memset(&w, 0, sizeof(w));
	if (!identity || !identity->has_identity)
		goto out;
	hs = lookup(ctx, src->receiver_index);
	if (!hs || hs->state != HANDSHAKE_CREATED_INITIATION ||
	    hs->local_index != src->receiver_index)
		goto out;
	if (!response_open(src, identity, hs, &w))
		goto out;
	memcpy(hs->remote_ephemeral, w.remote_ephemeral, NOISE_PUBLIC_KEY_LEN);
	memcpy(hs->hash, w.hash, NOISE_HASH_LEN);
	memcpy(hs->chaining_key, w.chaining_key, NOISE_HASH_LEN);
	hs->remote_index = src->sender_index;
	hs->state = HANDSHAKE_CONSUMED_RESPONSE;
	ret = hs;
out:
	crypto_wipe(&w, sizeof(w));
	return ret;
}

bool noise_handshake_begin_session(struct noise_handshake *hs,
				   struct noise_keypair *kp, monotime_ns now)
{
	struct noise_symmetric_key *first, *second;

	if (hs->state != HANDSHAKE_CREATED_RESPONSE &&
	    hs->state != HANDSHAKE_CONSUMED_RESPONSE)
		return false;
	/* Zeroing also starts the replay window empty (replay.h: counter 0,
	 * no bits set), without needing the replay module here. */
	memset(kp, 0, sizeof(*kp));
	kp->i_am_the_initiator = hs->state == HANDSHAKE_CONSUMED_RESPONSE;
	kp->local_index = hs->local_index;
	kp->remote_index = hs->remote_index;
	kp->owner = hs->owner;
	/* T_send, T_recv = KDF2(Ck, e): the initiator sends with the first. */
	first = kp->i_am_the_initiator ? &kp->sending : &kp->receiving;
	second = kp->i_am_the_initiator ? &kp->receiving : &kp->sending;
	kdf(first->key, second->key, NULL, NULL, 0, hs->chaining_key);
	first->birthdate = second->birthdate = now;
	first->is_valid = second->is_valid = true;
	handshake_zero(hs);
	return true;
}

void noise_keypair_wipe(struct noise_keypair *kp)
{
	crypto_wipe(kp, sizeof(*kp));
}
