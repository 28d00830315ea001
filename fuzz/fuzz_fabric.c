/* fuzz_fabric: every fabric decoder, and the region probes' echo reply
 * parser, on arbitrary bytes. Whatever a decoder accepts must encode back
 * to exactly the bytes it came from: one meaning per message, so nodes on
 * either side of a version never disagree about what was said. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fabric/messages.h"
#include "routing/region_probe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t out[FABRIC_REPLY_BASE_LEN + FABRIC_MAX_REGIONS * FABRIC_REGION_LEN];

static void check(int cond)
{
	if (!cond)
		abort();
}

static void fuzz_type(const uint8_t *data, size_t size)
{
	enum fabric_type type;

	if (!fabric_decode_type(data, size, &type))
		return;
	check(fabric_is_message(data, size));
	check(type == FABRIC_DATA || type == FABRIC_PROBE || type == FABRIC_PROBE_REPLY);
}

static void fuzz_data(const uint8_t *data, size_t size)
{
	struct fabric_data d;
	const uint8_t *inner;
	size_t inner_len;

	if (!fabric_decode_data(data, size, &d, &inner, &inner_len))
		return;
	check(fabric_encode_data_header(out, FABRIC_DATA_HDR_LEN, &d) == FABRIC_DATA_HDR_LEN);
	check(!memcmp(out, data, FABRIC_DATA_HDR_LEN));
	check(inner == data + FABRIC_DATA_HDR_LEN && inner_len == size - FABRIC_DATA_HDR_LEN);
	check(fabric_encode_data_header(out, FABRIC_DATA_HDR_LEN - 1, &d) == 0);
}

static void fuzz_probe(const uint8_t *data, size_t size)
{
	struct fabric_probe p;

	if (!fabric_decode_probe(data, size, &p))
		return;
	check(size == FABRIC_PROBE_LEN);
	check(fabric_encode_probe(out, sizeof(out), &p) == size && !memcmp(out, data, size));
	check(fabric_encode_probe(out, size - 1, &p) == 0);
}

static void fuzz_reply(const uint8_t *data, size_t size)
{
	struct fabric_probe_reply r;

	if (!fabric_decode_probe_reply(data, size, &r))
		return;
	check(r.n_regions <= FABRIC_MAX_REGIONS);
	check(fabric_encode_probe_reply(out, sizeof(out), &r) == size);
	check(!memcmp(out, data, size));
	check(fabric_encode_probe_reply(out, size - 1, &r) == 0);
}

/* Accepted echo replies rebuild to the same bytes from the checksum on
 * (the rebuilt one is a request, with its own type and checksum). */
static void fuzz_echo(const uint8_t *data, size_t size)
{
	struct region_echo e;
	uint8_t echo[64];

	if (region_probe_parse_reply(data, size, AF_INET, true, &e))
		check(size >= 20 + 24);
	for (int v6 = 0; v6 < 2; v6++) {
		int family = v6 ? AF_INET6 : AF_INET;

		if (!region_probe_parse_reply(data, size, family, false, &e))
			continue;
		check(region_probe_build_echo(echo, sizeof(echo), family, &e) == size);
		check(!memcmp(echo + 4, data + 4, size - 4));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_type(data, size);
	fuzz_data(data, size);
	fuzz_probe(data, size);
	fuzz_reply(data, size);
	/* What the data path does with a padded payload: decode the prefix. */
	if (size >= FABRIC_PROBE_LEN)
		fuzz_probe(data, FABRIC_PROBE_LEN);
	fuzz_echo(data, size);
	return 0;
}
