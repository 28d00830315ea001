/* fuzz_policy: arbitrary bytes as a policy document. Whatever the input,
 * policy_load_buffer returns a policy or errors, never both, never
 * crashes; every error is "name:..." text. A policy that loads is then
 * asked real questions: classify sessions derived from the input, pool
 * addresses, lookups. Relative paths in the document point into a folder
 * that does not exist, so the fuzzer reads no files by accident. */
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "policy/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_questions(const struct policy *p, const uint8_t *data, size_t size)
{
	static const char *const domains[] = { NULL, "zoom.us", "a.b.zoom.us.", "x" };
	struct policy_decision d;
	struct ip_addr out;

	for (size_t i = 0; i < 8; i++) {
		struct policy_session s = {
			.device = i < p->n_devices ? (uint32_t)i : POLICY_NONE,
			.user = (uint32_t)i,
			.protocol = (uint8_t)(i & 1 ? IPPROTO_UDP : IPPROTO_TCP),
			.dport = (uint16_t)(size > i ? data[i] * 257 : 443),
			.dscp = (uint8_t)(i * 9 % 64),
			.domain = domains[i % 4],
		};

		s.dst.family = i & 2 ? AF_INET6 : AF_INET;
		for (size_t j = 0; j < 16 && j + i < size; j++)
			s.dst.a[j] = data[j + i];
		if (s.dst.family == AF_INET)
			memset(s.dst.a + 4, 0, 12);
		policy_classify(p, &s, &d);
		if (d.class_ >= p->n_classes || (d.rule != POLICY_NONE && d.rule >= p->n_rules))
			abort();
		if (d.dst_region != POLICY_NONE && d.dst_region >= p->n_regions)
			abort();
		policy_is_overlay(p, &s.dst);
	}
	for (uint32_t i = 0; i < p->n_pools; i++)
		for (uint32_t j = 0; j < p->pools[i].n_members; j++)
			if (!policy_pool_address(p, i, p->pools[i].members[j].node, 42, 0, &out))
				abort();
	for (uint32_t i = 0; i < p->n_nodes; i++)
		if (policy_find_node(p, p->nodes[i].name) != i)
			abort();
	for (uint32_t i = 0; i < p->n_classes; i++)
		if (policy_find_class(p, p->classes[i].name) != i)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	struct policy_errors e;
	struct policy *p;

	if (!ready)
		ready = crypto_init();
	p = policy_load_buffer("fuzz.yaml", (const char *)data, size,
			       "/nonexistent-egress-fuzz", &e);
	if (p && e.n)
		abort();
	if (!p && !e.n)
		abort();
	for (size_t i = 0; i < e.n; i++)
		if (strncmp(e.msgs[i], "fuzz.yaml", 9) && strncmp(e.msgs[i], "/nonexistent", 12))
			abort();
	if (p)
		fuzz_questions(p, data, size);
	policy_errors_free(&e);
	policy_unref(p);
	return 0;
}
