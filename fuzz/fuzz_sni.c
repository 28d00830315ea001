/* fuzz_sni: tls_sni_parse on arbitrary bytes, with a roomy and a tight
 * output buffer. A name it returns must be a plausible lower-case host
 * name that fits the buffer, and the tight buffer may only turn an answer
 * into MALFORMED. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane/tls_sni.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_name(const char *s, size_t cap)
{
	size_t n = strnlen(s, cap);

	if (n == 0 || n >= cap || n > 253)
		abort();
	for (size_t i = 0; i < n; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyz0123456789-_.", s[i]))
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char big[256], small[12];
	enum tls_sni_result r = tls_sni_parse(data, size, big, sizeof(big));
	enum tls_sni_result t = tls_sni_parse(data, size, small, sizeof(small));

	if (r >= TLS_SNI__MAX || !tls_sni_result_names[r])
		abort();
	if (r == TLS_SNI_OK)
		check_name(big, sizeof(big));
	if (t == TLS_SNI_OK)
		check_name(small, sizeof(small));
	if (t != r && !(r == TLS_SNI_OK && t == TLS_SNI_MALFORMED))
		abort();
	return 0;
}
