/* crypto: thin wrappers over OpenSSL 3 libcrypto and libsodium; the only
 * file that talks to either library. Algorithms are fetched once in
 * crypto_init(); each thread keeps its own contexts (created on first use,
 * freed when the thread exits) so the data path neither allocates nor
 * fetches per packet. docs/crypto.md says which library does what, and why. */
#include "crypto/crypto.h"

#include <limits.h>
#include <pthread.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <sodium.h>

/* Fetched once; read-only afterwards, so shared by all threads. */
static struct {
	EVP_CIPHER *chacha;
	EVP_MD *blake2s;
	EVP_MAC *blake2s_mac;
	EVP_MAC *hmac;
} algs;

/* Per-thread contexts: OpenSSL contexts are not safe to share. */
struct crypto_thread {
	EVP_CIPHER_CTX *aead_enc;
	EVP_CIPHER_CTX *aead_dec;
	EVP_MD_CTX *md;
	EVP_MAC_CTX *keyed;
	EVP_MAC_CTX *hmac;
};

static pthread_key_t thread_key;
static pthread_once_t thread_key_once = PTHREAD_ONCE_INIT;
static _Thread_local struct crypto_thread *thread_ctx;

static void crypto_thread_free(void *p)
{
	struct crypto_thread *t = p;

	if (!t)
		return;
	EVP_CIPHER_CTX_free(t->aead_enc);
	EVP_CIPHER_CTX_free(t->aead_dec);
	EVP_MD_CTX_free(t->md);
	EVP_MAC_CTX_free(t->keyed);
	EVP_MAC_CTX_free(t->hmac);
	OPENSSL_free(t);
}

static void thread_key_create(void)
{
	(void)pthread_key_create(&thread_key, crypto_thread_free);
}

/* HMAC's digest is fixed once per context; only the key changes per call. */
static bool hmac_ctx_setup(EVP_MAC_CTX *ctx)
{
	char digest[] = "BLAKE2S-256";
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
		OSSL_PARAM_construct_end(),
	};

	return EVP_MAC_CTX_set_params(ctx, params) == 1;
}

/* Per-thread cipher contexts keep the cipher; each call sets key and IV. */
static bool aead_ctx_setup(EVP_CIPHER_CTX *ctx, int enc)
{
	return EVP_CipherInit_ex2(ctx, algs.chacha, NULL, NULL, enc, NULL) == 1;
}

static struct crypto_thread *crypto_thread_new(void)
{
	struct crypto_thread *t = OPENSSL_zalloc(sizeof(*t));

	if (!t)
		return NULL;
	t->aead_enc = EVP_CIPHER_CTX_new();
	t->aead_dec = EVP_CIPHER_CTX_new();
	t->md = EVP_MD_CTX_new();
	t->keyed = EVP_MAC_CTX_new(algs.blake2s_mac);
	t->hmac = EVP_MAC_CTX_new(algs.hmac);
	if (!t->aead_enc || !t->aead_dec || !t->md || !t->keyed || !t->hmac ||
	    !aead_ctx_setup(t->aead_enc, 1) || !aead_ctx_setup(t->aead_dec, 0) ||
	    !hmac_ctx_setup(t->hmac)) {
		crypto_thread_free(t);
		return NULL;
	}
	return t;
}

/* Failing to get a context means the process is out of memory or the
 * library is broken; carrying on without crypto is not an option. */
static struct crypto_thread *crypto_thread(void)
{
	if (__builtin_expect(thread_ctx != NULL, 1))
		return thread_ctx;
	pthread_once(&thread_key_once, thread_key_create);
	thread_ctx = crypto_thread_new();
	if (!thread_ctx)
		abort();
	(void)pthread_setspecific(thread_key, thread_ctx);
	return thread_ctx;
}

bool crypto_init(void)
{
	if (sodium_init() < 0)
		return false;
	if (!algs.chacha)
		algs.chacha = EVP_CIPHER_fetch(NULL, "ChaCha20-Poly1305", NULL);
	if (!algs.blake2s)
		algs.blake2s = EVP_MD_fetch(NULL, "BLAKE2S-256", NULL);
	if (!algs.blake2s_mac)
		algs.blake2s_mac = EVP_MAC_fetch(NULL, "BLAKE2SMAC", NULL);
	if (!algs.hmac)
		algs.hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	if (!algs.chacha || !algs.blake2s || !algs.blake2s_mac || !algs.hmac)
		return false;
	pthread_once(&thread_key_once, thread_key_create);
	return true;
}

void crypto_random(void *buf, size_t len)
{
	/* randombytes_buf cannot fail (it aborts instead), unlike RAND_bytes. */
	randombytes_buf(buf, len);
}

bool crypto_equal(const void *a, const void *b, size_t len)
{
	return CRYPTO_memcmp(a, b, len) == 0;
}

void crypto_wipe(void *p, size_t len)
{
	OPENSSL_cleanse(p, len);
}

bool crypto_is_zero(const void *p, size_t len)
{
	return sodium_is_zero(p, len) == 1;
}

void blake2s_hash(uint8_t out[BLAKE2S_HASH_LEN], const void *a, size_t alen,
		  const void *b, size_t blen)
{
	EVP_MD_CTX *md = crypto_thread()->md;
	unsigned int outlen = BLAKE2S_HASH_LEN;

	if (EVP_DigestInit_ex2(md, algs.blake2s, NULL) != 1 ||
	    (alen && EVP_DigestUpdate(md, a, alen) != 1) ||
	    (blen && EVP_DigestUpdate(md, b, blen) != 1) ||
	    EVP_DigestFinal_ex(md, out, &outlen) != 1)
		abort();
}

void blake2s_keyed(uint8_t *out, size_t outlen, const uint8_t *key, size_t keylen,
		   const void *in, size_t inlen)
{
	EVP_MAC_CTX *mac = crypto_thread()->keyed;
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_size_t(OSSL_MAC_PARAM_SIZE, &outlen),
		OSSL_PARAM_construct_end(),
	};
	uint8_t full[BLAKE2S_HASH_LEN];
	size_t written = 0;

	/* The output size is a parameter of the hash (it changes the result),
	 * not a truncation, so it is set on every init. */
	if (EVP_MAC_init(mac, key, keylen, params) != 1 ||
	    (inlen && EVP_MAC_update(mac, in, inlen) != 1) ||
	    EVP_MAC_final(mac, full, &written, sizeof(full)) != 1 || written != outlen)
		abort();
	memcpy(out, full, outlen);
	OPENSSL_cleanse(full, sizeof(full));
}

void hmac_blake2s(uint8_t out[BLAKE2S_HASH_LEN], const uint8_t *key, size_t keylen,
		  const void *in, size_t inlen)
{
	EVP_MAC_CTX *mac = crypto_thread()->hmac;
	size_t written = 0;

	if (EVP_MAC_init(mac, key, keylen, NULL) != 1 ||
	    (inlen && EVP_MAC_update(mac, in, inlen) != 1) ||
	    EVP_MAC_final(mac, out, &written, BLAKE2S_HASH_LEN) != 1 ||
	    written != BLAKE2S_HASH_LEN)
		abort();
}

void x25519_clamp(uint8_t priv[X25519_KEY_LEN])
{
	priv[0] &= 248;
	priv[31] = (priv[31] & 127) | 64;
}

void x25519_generate_private(uint8_t priv[X25519_KEY_LEN])
{
	crypto_random(priv, X25519_KEY_LEN);
	x25519_clamp(priv);
}

bool x25519_public(uint8_t pub[X25519_KEY_LEN], const uint8_t priv[X25519_KEY_LEN])
{
	EVP_PKEY *key = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv,
						     X25519_KEY_LEN);
	size_t len = X25519_KEY_LEN;
	bool ok;

	if (!key)
		return false;
	ok = EVP_PKEY_get_raw_public_key(key, pub, &len) == 1 && len == X25519_KEY_LEN;
	EVP_PKEY_free(key);
	return ok && !crypto_is_zero(pub, X25519_KEY_LEN);
}

static bool x25519_derive(uint8_t out[X25519_KEY_LEN], EVP_PKEY *ours, EVP_PKEY *theirs)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, ours, NULL);
	size_t len = X25519_KEY_LEN;
	bool ok;

	if (!ctx)
		return false;
	ok = EVP_PKEY_derive_init(ctx) == 1 &&
	     EVP_PKEY_derive_set_peer_ex(ctx, theirs, 0) == 1 &&
	     EVP_PKEY_derive(ctx, out, &len) == 1 && len == X25519_KEY_LEN;
	EVP_PKEY_CTX_free(ctx);
	return ok;
}

bool x25519(uint8_t out[X25519_KEY_LEN], const uint8_t priv[X25519_KEY_LEN],
	    const uint8_t pub[X25519_KEY_LEN])
{
	EVP_PKEY *ours = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv,
						      X25519_KEY_LEN);
	EVP_PKEY *theirs = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, pub,
						       X25519_KEY_LEN);
	bool ok = ours && theirs && x25519_derive(out, ours, theirs);

	EVP_PKEY_free(ours);
	EVP_PKEY_free(theirs);
	/* OpenSSL refuses an all-zero result itself; check anyway, since the
	 * protocol depends on it and a library change must not weaken it. */
	if (!ok || crypto_is_zero(out, X25519_KEY_LEN)) {
		OPENSSL_cleanse(out, X25519_KEY_LEN);
		return false;
	}
	return true;
}

/* WireGuard's 96-bit nonce: 32 zero bits, then the counter little endian. */
static void aead_nonce(uint8_t iv[12], uint64_t counter)
{
	memset(iv, 0, 4);
	for (int i = 0; i < 8; i++)
		iv[4 + i] = (uint8_t)(counter >> (8 * i));
}

static bool aead_start(EVP_CIPHER_CTX *ctx, const uint8_t *ad, size_t adlen,
		       uint64_t nonce, const uint8_t key[CHACHA20POLY1305_KEY_LEN])
{
	uint8_t iv[12];
	int outl;

	aead_nonce(iv, nonce);
	if (EVP_CipherInit_ex2(ctx, NULL, key, iv, -1, NULL) != 1)
		return false;
	return !adlen || EVP_CipherUpdate(ctx, NULL, &outl, ad, (int)adlen) == 1;
}

bool aead_seal(uint8_t *dst, const uint8_t *src, size_t srclen,
	       const uint8_t *ad, size_t adlen, uint64_t nonce,
	       const uint8_t key[CHACHA20POLY1305_KEY_LEN])
{
	EVP_CIPHER_CTX *ctx = crypto_thread()->aead_enc;
	int outl = 0, finl = 0;

	if (srclen > INT_MAX - CHACHA20POLY1305_AUTHTAG_LEN || adlen > INT_MAX)
		return false;
	if (!aead_start(ctx, ad, adlen, nonce, key))
		return false;
	if (srclen && EVP_EncryptUpdate(ctx, dst, &outl, src, (int)srclen) != 1)
		return false;
	if (EVP_EncryptFinal_ex(ctx, dst + outl, &finl) != 1)
		return false;
	return EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG,
				   CHACHA20POLY1305_AUTHTAG_LEN, dst + srclen) == 1;
}

bool aead_open(uint8_t *dst, const uint8_t *src, size_t srclen,
	       const uint8_t *ad, size_t adlen, uint64_t nonce,
	       const uint8_t key[CHACHA20POLY1305_KEY_LEN])
{
	EVP_CIPHER_CTX *ctx = crypto_thread()->aead_dec;
	uint8_t tag[CHACHA20POLY1305_AUTHTAG_LEN], none[1];
	size_t len;
	int outl = 0, finl = 0;

	if (srclen < CHACHA20POLY1305_AUTHTAG_LEN || srclen > INT_MAX || adlen > INT_MAX)
		return false;
	len = srclen - CHACHA20POLY1305_AUTHTAG_LEN;
	/* An empty plaintext (keepalive, response) may come with dst NULL. */
	if (!len && !dst)
		dst = none;
	/* Copy the tag out first: in place, decrypting may overwrite it. */
	memcpy(tag, src + len, sizeof(tag));
	if (!aead_start(ctx, ad, adlen, nonce, key))
		return false;
	if (len && EVP_DecryptUpdate(ctx, dst, &outl, src, (int)len) != 1)
		return false;
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, sizeof(tag), tag) != 1)
		return false;
	return EVP_DecryptFinal_ex(ctx, dst + outl, &finl) == 1;
}

bool xaead_seal(uint8_t *dst, const uint8_t *src, size_t srclen,
		const uint8_t *ad, size_t adlen,
		const uint8_t nonce[XCHACHA20POLY1305_NONCE_LEN],
		const uint8_t key[CHACHA20POLY1305_KEY_LEN])
{
	return crypto_aead_xchacha20poly1305_ietf_encrypt(dst, NULL, src, srclen, ad, adlen,
							  NULL, nonce, key) == 0;
}

bool xaead_open(uint8_t *dst, const uint8_t *src, size_t srclen,
		const uint8_t *ad, size_t adlen,
		const uint8_t nonce[XCHACHA20POLY1305_NONCE_LEN],
		const uint8_t key[CHACHA20POLY1305_KEY_LEN])
{
	if (srclen < CHACHA20POLY1305_AUTHTAG_LEN)
		return false;
	return crypto_aead_xchacha20poly1305_ietf_decrypt(dst, NULL, NULL, src, srclen, ad,
							  adlen, nonce, key) == 0;
}
