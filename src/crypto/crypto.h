/* crypto: the only door to cryptographic primitives. Thin wrappers over
 * OpenSSL 3 libcrypto (ChaCha20-Poly1305, X25519, BLAKE2s, HMAC) and
 * libsodium (XChaCha20-Poly1305 for cookies, which OpenSSL lacks). No
 * primitive is written here; see docs/crypto.md for why each library. */
#ifndef EGRESS_CRYPTO_H
#define EGRESS_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BLAKE2S_HASH_LEN 32
#define BLAKE2S_BLOCK_LEN 64
#define CHACHA20POLY1305_KEY_LEN 32
#define CHACHA20POLY1305_AUTHTAG_LEN 16
#define XCHACHA20POLY1305_NONCE_LEN 24
#define X25519_KEY_LEN 32

/* Once per process, before any other call; false if a library is unusable. */
bool crypto_init(void);

void crypto_random(void *buf, size_t len);
/* Constant-time equality. */
bool crypto_equal(const void *a, const void *b, size_t len);
/* Zeroes memory in a way the compiler may not elide. */
void crypto_wipe(void *p, size_t len);
bool crypto_is_zero(const void *p, size_t len);	/* constant time */

/* BLAKE2s-256 of the concatenation a || b (b may be NULL with blen 0). */
void blake2s_hash(uint8_t out[BLAKE2S_HASH_LEN], const void *a, size_t alen,
		  const void *b, size_t blen);
/* Keyed BLAKE2s (the hash's own keyed mode, not HMAC), outlen 1..32,
 * keylen 1..32: WireGuard's MAC(). */
void blake2s_keyed(uint8_t *out, size_t outlen, const uint8_t *key, size_t keylen,
		   const void *in, size_t inlen);
/* HMAC-BLAKE2s-256: the Noise HKDF building block. */
void hmac_blake2s(uint8_t out[BLAKE2S_HASH_LEN], const uint8_t *key, size_t keylen,
		  const void *in, size_t inlen);

/* X25519. Clamps private keys. x25519 returns false when the result is the
 * all-zero point (a low-order input), which the protocol must reject. */
void x25519_clamp(uint8_t priv[X25519_KEY_LEN]);
void x25519_generate_private(uint8_t priv[X25519_KEY_LEN]);
bool x25519_public(uint8_t pub[X25519_KEY_LEN], const uint8_t priv[X25519_KEY_LEN]);
bool x25519(uint8_t out[X25519_KEY_LEN], const uint8_t priv[X25519_KEY_LEN],
	    const uint8_t pub[X25519_KEY_LEN]);

/* ChaCha20-Poly1305 (RFC 8439) with WireGuard's nonce: 32 zero bits then
 * the 64-bit counter little endian. dst may equal src (in place). seal
 * writes srclen + 16 bytes; open reads srclen >= 16 and writes srclen - 16,
 * returning false on a bad tag (dst contents then unspecified). Safe to call
 * from any thread: each thread keeps its own cipher context. */
bool aead_seal(uint8_t *dst, const uint8_t *src, size_t srclen,
	       const uint8_t *ad, size_t adlen, uint64_t nonce,
	       const uint8_t key[CHACHA20POLY1305_KEY_LEN]);
bool aead_open(uint8_t *dst, const uint8_t *src, size_t srclen,
	       const uint8_t *ad, size_t adlen, uint64_t nonce,
	       const uint8_t key[CHACHA20POLY1305_KEY_LEN]);

/* XChaCha20-Poly1305 (24-byte nonce), for cookie replies. */
bool xaead_seal(uint8_t *dst, const uint8_t *src, size_t srclen,
		const uint8_t *ad, size_t adlen,
		const uint8_t nonce[XCHACHA20POLY1305_NONCE_LEN],
		const uint8_t key[CHACHA20POLY1305_KEY_LEN]);
bool xaead_open(uint8_t *dst, const uint8_t *src, size_t srclen,
		const uint8_t *ad, size_t adlen,
		const uint8_t nonce[XCHACHA20POLY1305_NONCE_LEN],
		const uint8_t key[CHACHA20POLY1305_KEY_LEN]);

#endif
