/* test_crypto: every wrapper in crypto.c against published vectors (RFC
 * 8439, RFC 7748, RFC 7693, draft-irtf-cfrg-xchacha) and, for keyed and
 * HMAC BLAKE2s, values computed independently with Python's hashlib. */
#include <pthread.h>
#include <stdint.h>

#include "crypto/crypto.h"
#include "test.h"

static const char sunscreen[] = "Ladies and Gentlemen of the class of '99: If I could "
	"offer you only one tip for the future, sunscreen would be it.";

static void test_init(void)
{
	CHECK(crypto_init());
}

/* RFC 8439 appendix A.5: its nonce 00000000 0102030405060708 is exactly
 * WireGuard's form (32 zero bits, then the counter little endian). */
static const char a5_key[] = "1c9240a5eb55d38af333888604f6b5f0473917c1402b80099dca5cbc207075c0";
static const char a5_aad[] = "f33388860000000000004e91";
static const char a5_plain[] =
	"496e7465726e65742d4472616674732061726520647261667420646f63756d65"
	"6e74732076616c696420666f722061206d6178696d756d206f6620736978206d"
	"6f6e74687320616e64206d617920626520757064617465642c207265706c6163"
	"65642c206f72206f62736f6c65746564206279206f7468657220646f63756d65"
	"6e747320617420616e792074696d652e20497420697320696e617070726f7072"
	"6961746520746f2075736520496e7465726e65742d4472616674732061732072"
	"65666572656e6365206d6174657269616c206f7220746f206369746520746865"
	"6d206f74686572207468616e206173202fe2809c776f726b20696e2070726f67"
	"726573732e2fe2809d";
static const char a5_sealed[] =
	"64a0861575861af460f062c79be643bd5e805cfd345cf389f108670ac76c8cb2"
	"4c6cfc18755d43eea09ee94e382d26b0bdb7b73c321b0100d4f03b7f355894cf"
	"332f830e710b97ce98c8a84abd0b948114ad176e008d33bd60f982b1ff37c855"
	"9797a06ef4f0ef61c186324e2b3506383606907b6a7c02b0f9f6157b53c867e4"
	"b9166c767b804d46a59b5216cde7a4e99040c5a40433225ee282a1b0a06c523e"
	"af4534d7f83fa1155b0047718cbc546a0d072b04b3564eea1b422273f548271a"
	"0bb2316053fa76991955ebd63159434ecebb4e466dae5a1073a6727627097a10"
	"49e617d91d361094fa68f0ff77987130305beaba2eda04df997b714d6c6f2c29"
	"a6ad5cb4022b02709b"
	"eead9d67890cbb22392336fea1851f38";
static const uint64_t a5_nonce = 0x0807060504030201ULL;

static void test_chacha20poly1305_rfc8439(void)
{
	uint8_t key[32], aad[12], plain[300], sealed[300], out[300];
	size_t plen = test_hex(a5_plain, plain, sizeof(plain));
	size_t slen = test_hex(a5_sealed, sealed, sizeof(sealed));

	test_hex(a5_key, key, sizeof(key));
	test_hex(a5_aad, aad, sizeof(aad));
	CHECK(plen == 265 && slen == plen + 16);
	CHECK(aead_seal(out, plain, plen, aad, sizeof(aad), a5_nonce, key));
	CHECK_MEM(out, sealed, slen);
	memset(out, 0, sizeof(out));
	CHECK(aead_open(out, sealed, slen, aad, sizeof(aad), a5_nonce, key));
	CHECK_MEM(out, plain, plen);
}

static void test_chacha20poly1305_in_place_and_tamper(void)
{
	uint8_t key[32], buf[64 + 16], copy[64];

	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(i * 7);
	for (size_t i = 0; i < sizeof(copy); i++)
		copy[i] = buf[i] = (uint8_t)i;
	CHECK(aead_seal(buf, buf, 64, NULL, 0, 42, key));
	CHECK(memcmp(buf, copy, 64) != 0);
	CHECK(aead_open(buf, buf, sizeof(buf), NULL, 0, 42, key));
	CHECK_MEM(buf, copy, 64);

	CHECK(aead_seal(buf, buf, 64, (const uint8_t *)"ad", 2, 7, key));
	buf[70] ^= 1;	/* tag */
	CHECK(!aead_open(copy, buf, sizeof(buf), (const uint8_t *)"ad", 2, 7, key));
	buf[70] ^= 1;
	buf[3] ^= 0x80;	/* ciphertext */
	CHECK(!aead_open(copy, buf, sizeof(buf), (const uint8_t *)"ad", 2, 7, key));
	buf[3] ^= 0x80;
	CHECK(!aead_open(copy, buf, sizeof(buf), (const uint8_t *)"AD", 2, 7, key));
	CHECK(!aead_open(copy, buf, sizeof(buf), (const uint8_t *)"ad", 2, 8, key));
	CHECK(!aead_open(copy, buf, 15, NULL, 0, 7, key));
	CHECK(aead_open(copy, buf, sizeof(buf), (const uint8_t *)"ad", 2, 7, key));
}

/* An empty plaintext (a keepalive) is just a tag. */
static void test_chacha20poly1305_empty(void)
{
	uint8_t key[32] = { 1 }, tag[16];

	CHECK(aead_seal(tag, NULL, 0, NULL, 0, 0, key));
	CHECK(aead_open(NULL, tag, sizeof(tag), NULL, 0, 0, key));
	tag[0] ^= 1;
	CHECK(!aead_open(NULL, tag, sizeof(tag), NULL, 0, 0, key));
}

struct x25519_vector {
	const char *scalar, *u, *out;
};

static void test_x25519_rfc7748(void)
{
	static const struct x25519_vector v[] = {
		{ "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
		  "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
		  "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552" },
		{ "4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
		  "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
		  "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957" },
	};
	uint8_t k[32], u[32], want[32], out[32];

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		test_hex(v[i].scalar, k, 32);
		test_hex(v[i].u, u, 32);
		test_hex(v[i].out, want, 32);
		CHECK(x25519(out, k, u));
		CHECK_MEM(out, want, 32);
	}
}

/* RFC 7748 section 6.1: both sides of a Diffie-Hellman exchange. */
static void test_x25519_dh_rfc7748(void)
{
	uint8_t a[32], b[32], apub[32], bpub[32], want_apub[32], want_bpub[32];
	uint8_t want[32], s1[32], s2[32];

	test_hex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a", a, 32);
	test_hex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb", b, 32);
	test_hex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a", want_apub, 32);
	test_hex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f", want_bpub, 32);
	test_hex("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742", want, 32);
	CHECK(x25519_public(apub, a));
	CHECK(x25519_public(bpub, b));
	CHECK_MEM(apub, want_apub, 32);
	CHECK_MEM(bpub, want_bpub, 32);
	CHECK(x25519(s1, a, bpub));
	CHECK(x25519(s2, b, apub));
	CHECK_MEM(s1, want, 32);
	CHECK_MEM(s2, want, 32);
}

/* Low-order points give an all-zero shared secret, which must be refused. */
static void test_x25519_rejects_zero(void)
{
	uint8_t k[32], zero_point[32] = { 0 }, one_point[32] = { 1 }, out[32];
	uint8_t order8[32];

	/* A point of order 8 (from the curve25519 low-order list). */
	test_hex("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
		 order8, 32);
	x25519_generate_private(k);
	CHECK(!x25519(out, k, zero_point));
	CHECK(crypto_is_zero(out, 32));
	CHECK(!x25519(out, k, one_point));
	CHECK(!x25519(out, k, order8));
}

static void test_x25519_clamp_and_random(void)
{
	uint8_t k[32], k2[32], p1[32], p2[32], s1[32], s2[32];

	x25519_generate_private(k);
	CHECK((k[0] & 7) == 0 && (k[31] & 0x80) == 0 && (k[31] & 0x40) != 0);
	x25519_generate_private(k2);
	CHECK(memcmp(k, k2, 32) != 0);
	CHECK(x25519_public(p1, k) && x25519_public(p2, k2));
	CHECK(x25519(s1, k, p2) && x25519(s2, k2, p1));
	CHECK_MEM(s1, s2, 32);
}

static void test_blake2s_rfc7693(void)
{
	uint8_t out[32], want[32];

	/* RFC 7693 appendix B. */
	test_hex("508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982", want, 32);
	blake2s_hash(out, "abc", 3, NULL, 0);
	CHECK_MEM(out, want, 32);
	/* Split input hashes the same as the concatenation. */
	blake2s_hash(out, "a", 1, "bc", 2);
	CHECK_MEM(out, want, 32);
	/* The Noise initial chaining key, HASH(CONSTRUCTION). */
	test_hex("60e26daef327efc02ec335e2a025d2d016eb4206f87277f52d38d1988b78cd36", want, 32);
	blake2s_hash(out, "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s", 37, NULL, 0);
	CHECK_MEM(out, want, 32);
}

/* Keyed BLAKE2s: the reference implementation's KAT (blake2s-kat.txt, key
 * 00..1f, empty input) and 16-byte outputs (a different hash, since the
 * length is a parameter) cross-checked with Python's hashlib.blake2s. */
static void test_blake2s_keyed(void)
{
	uint8_t key[32], in[64], out[32], want[32];

	for (int i = 0; i < 64; i++)
		in[i] = (uint8_t)i;
	memcpy(key, in, 32);
	test_hex("48a8997da407876b3d79c0d92325ad3b89cbb754d86ab71aee047ad345fd2c49", want, 32);
	blake2s_keyed(out, 32, key, 32, "", 0);
	CHECK_MEM(out, want, 32);
	test_hex("f1efa90d2547036841ecd3627fafbc36", want, 16);
	blake2s_keyed(out, 16, key, 32, in, 64);
	CHECK_MEM(out, want, 16);
	/* 16-byte key and output: WireGuard's MAC2 with a cookie as key. */
	test_hex("75296c2d2c0f51210b383f386bc8b1ff", want, 16);
	blake2s_keyed(out, 16, key, 16, "abc", 3);
	CHECK_MEM(out, want, 16);
}

/* HMAC-BLAKE2s-256, values from Python's hmac + hashlib.blake2s. */
static void test_hmac_blake2s(void)
{
	static const char fox[] = "The quick brown fox jumps over the lazy dog";
	uint8_t key[32], out[32], want[32];

	test_hex("f93215bb90d4af4c3061cd932fb169fb8bb8a91d0b4022baea1271e1323cd9a0", want, 32);
	hmac_blake2s(out, (const uint8_t *)"key", 3, fox, sizeof(fox) - 1);
	CHECK_MEM(out, want, 32);
	for (int i = 0; i < 32; i++)
		key[i] = (uint8_t)i;
	test_hex("e2641d24dfa8dd89e8cb77f1cdc77d8c006e5bebdfc4d6a3a3a6f8d5b7586fb0", want, 32);
	hmac_blake2s(out, key, 32, NULL, 0);
	CHECK_MEM(out, want, 32);
}

/* draft-irtf-cfrg-xchacha-03 appendix A.3.1. */
static void test_xchacha20poly1305(void)
{
	uint8_t key[32], nonce[24], aad[12], want[200], out[200], plain[200];
	size_t len = sizeof(sunscreen) - 1;

	for (int i = 0; i < 32; i++)
		key[i] = (uint8_t)(0x80 + i);
	test_hex("404142434445464748494a4b4c4d4e4f5051525354555657", nonce, 24);
	test_hex("50515253c0c1c2c3c4c5c6c7", aad, 12);
	test_hex("bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb"
		 "731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b452"
		 "2f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff9"
		 "21f9664c97637da9768812f615c68b13b52e"
		 "c0875924c1c7987947deafd8780acf49", want, sizeof(want));
	CHECK(xaead_seal(out, (const uint8_t *)sunscreen, len, aad, 12, nonce, key));
	CHECK_MEM(out, want, len + 16);
	CHECK(xaead_open(plain, out, len + 16, aad, 12, nonce, key));
	CHECK_MEM(plain, sunscreen, len);
	out[len] ^= 1;
	CHECK(!xaead_open(plain, out, len + 16, aad, 12, nonce, key));
	CHECK(!xaead_open(plain, out, 15, aad, 12, nonce, key));
}

static void test_helpers(void)
{
	uint8_t a[20] = { 0 }, b[20] = { 0 };

	CHECK(crypto_is_zero(a, sizeof(a)));
	CHECK(crypto_equal(a, b, sizeof(a)));
	b[19] = 1;
	CHECK(!crypto_equal(a, b, sizeof(a)));
	CHECK(!crypto_is_zero(b, sizeof(b)));
	crypto_wipe(b, sizeof(b));
	CHECK(crypto_is_zero(b, sizeof(b)));
	crypto_random(a, sizeof(a));
	crypto_random(b, sizeof(b));
	CHECK(!crypto_equal(a, b, sizeof(a)));
}

/* Each thread gets its own cipher and MAC contexts (freed when it exits):
 * concurrent use must neither corrupt results nor leak. */
static void *thread_worker(void *arg)
{
	uint8_t key[32], buf[200 + 16], plain[200], h1[32], h2[32];
	uintptr_t ok = 1;

	memset(key, (int)(uintptr_t)arg, sizeof(key));
	for (int i = 0; i < 2000; i++) {
		memset(plain, i, sizeof(plain));
		ok &= aead_seal(buf, plain, sizeof(plain), key, 8, (uint64_t)i, key);
		ok &= aead_open(buf, buf, sizeof(buf), key, 8, (uint64_t)i, key);
		ok &= memcmp(buf, plain, sizeof(plain)) == 0;
		hmac_blake2s(h1, key, 32, plain, sizeof(plain));
		blake2s_keyed(h2, 16, key, 16, plain, sizeof(plain));
		ok &= memcmp(h1, h2, 16) != 0;
	}
	return (void *)ok;
}

static void test_threads(void)
{
	pthread_t t[4];
	void *ret;

	for (uintptr_t i = 0; i < 4; i++)
		CHECK(pthread_create(&t[i], NULL, thread_worker, (void *)(i + 1)) == 0);
	for (int i = 0; i < 4; i++) {
		CHECK(pthread_join(t[i], &ret) == 0);
		CHECK(ret == (void *)1);
	}
}

TEST_MAIN("crypto",
	  TEST(test_init),
	  TEST(test_chacha20poly1305_rfc8439),
	  TEST(test_chacha20poly1305_in_place_and_tamper),
	  TEST(test_chacha20poly1305_empty),
	  TEST(test_x25519_rfc7748),
	  TEST(test_x25519_dh_rfc7748),
	  TEST(test_x25519_rejects_zero),
	  TEST(test_x25519_clamp_and_random),
	  TEST(test_blake2s_rfc7693),
	  TEST(test_blake2s_keyed),
	  TEST(test_hmac_blake2s),
	  TEST(test_xchacha20poly1305),
	  TEST(test_helpers),
	  TEST(test_threads))
