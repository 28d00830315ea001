/* bench_aead: ChaCha20-Poly1305 seal throughput on 1420-byte packets (a
 * full WireGuard MTU payload), through our aead_seal (OpenSSL) and through
 * libsodium's crypto_aead_chacha20poly1305_ietf_encrypt, on one thread.
 * The numbers and the choice they led to are in docs/crypto.md.
 * Usage: bench_aead [seconds per run, default 2] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <sodium.h>

#include "common/monotime.h"
#include "crypto/crypto.h"

#define PACKET_LEN 1420

static uint8_t buf[PACKET_LEN + CHACHA20POLY1305_AUTHTAG_LEN];
static uint8_t key[CHACHA20POLY1305_KEY_LEN];

static void seal_openssl(uint64_t counter)
{
	if (!aead_seal(buf, buf, PACKET_LEN, NULL, 0, counter, key))
		abort();
}

static void seal_sodium(uint64_t counter)
{
	uint8_t nonce[crypto_aead_chacha20poly1305_IETF_NPUBBYTES] = { 0 };
	unsigned long long outlen;

	for (int i = 0; i < 8; i++)
		nonce[4 + i] = (uint8_t)(counter >> (8 * i));
	crypto_aead_chacha20poly1305_ietf_encrypt(buf, &outlen, buf, PACKET_LEN, NULL, 0,
						  NULL, nonce, key);
}

static void open_openssl(uint64_t counter)
{
	/* Seal then open, so every open sees a valid packet. */
	if (!aead_seal(buf, buf, PACKET_LEN, NULL, 0, counter, key) ||
	    !aead_open(buf, buf, sizeof(buf), NULL, 0, counter, key))
		abort();
}

/* Packets per second of fn, run for `seconds`, in MB/s of plaintext. */
static double measure(void (*fn)(uint64_t), double seconds)
{
	monotime_ns start = monotime_now(), end = start + (monotime_ns)(seconds * 1e9), now;
	uint64_t n = 0;

	for (int i = 0; i < 1000; i++)	/* warm up */
		fn(n++);
	start = monotime_now();
	n = 0;
	do {
		for (int i = 0; i < 1000; i++)
			fn(n++);
		now = monotime_now();
	} while (now < end);
	return (double)n * PACKET_LEN / ((double)(now - start) / 1e9) / 1e6;
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 2.0;
	double ossl, sodium, ossl_rt;

	if (!crypto_init() || seconds <= 0)
		return 1;
	crypto_random(key, sizeof(key));
	crypto_random(buf, sizeof(buf));
	ossl = measure(seal_openssl, seconds);
	sodium = measure(seal_sodium, seconds);
	ossl_rt = measure(open_openssl, seconds);
	printf("%s\n", OpenSSL_version(OPENSSL_VERSION));
	printf("libsodium %s\n", sodium_version_string());
	printf("seal %d-byte packets, one thread:\n", PACKET_LEN);
	printf("  openssl (aead_seal)            %8.0f MB/s\n", ossl);
	printf("  libsodium (chacha20poly1305)   %8.0f MB/s\n", sodium);
	printf("  ratio openssl/libsodium        %8.2f\n", ossl / sodium);
	printf("  openssl seal+open round trip   %8.0f MB/s\n", ossl_rt);
	return 0;
}
