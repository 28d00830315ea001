/* plan_flows: `egressctl plan FILE --from-flows IFNAME`: the sample
 * sessions of a plan taken from what a node is carrying now. The live
 * flows of egressd's control socket become plan SESSIONs (docs/api.md);
 * flows decided elsewhere (transit) are left out, and flows that differ
 * only in source port are one session, so a busy node gives a plan of
 * distinct sessions rather than a page of copies. */
#include <string.h>

#include "egressctl/plan_flows.h"
#include "egressctl/render.h"

/* One flow as a SESSION, or NULL for a flow a plan cannot replay. */
static json_t *flow_session(const json_t *f)
{
	const char *kind = js_str(f, "kind"), *user = js_str(f, "user");
	const char *dst = js_str(f, "dst"), *proto = js_str(f, "proto");
	json_t *dport = json_object_get(f, "dport"), *s;

	if (!kind || !strcmp(kind, "transit") || !user || !dst || !proto)
		return NULL;
	s = json_pack("{s:s, s:s, s:s, s:o}", "user", user, "dst", dst, "proto", proto,
		      "dport", json_is_integer(dport) ? json_incref(dport) : json_integer(0));
	if (s && js_str(f, "domain"))
		json_object_set_new(s, "domain", json_string(js_str(f, "domain")));
	if (s && js_str(f, "src"))
		json_object_set_new(s, "src", json_string(js_str(f, "src")));
	return s;
}

/* Sessions that differ only in src are one: the first source is kept. */
static bool session_seen(const json_t *sessions, const json_t *s)
{
	const json_t *o;
	size_t i;

	json_array_foreach(sessions, i, o) {
		const char *keys[] = { "user", "dst", "proto", "domain" };
		bool same = json_equal(json_object_get(o, "dport"), json_object_get(s, "dport"));

		for (size_t k = 0; same && k < sizeof(keys) / sizeof(keys[0]); k++) {
			const char *a = js_str(o, keys[k]), *b = js_str(s, keys[k]);

			same = (!a && !b) || (a && b && !strcmp(a, b));
		}
		if (same)
			return true;
	}
	return false;
}

json_t *plan_sessions_from_flows(const json_t *answer, size_t max, size_t *skipped)
{
	const json_t *flows = js_array(answer, "flows"), *f;
	json_t *out = json_array();
	size_t i;

	*skipped = 0;
	json_array_foreach(flows, i, f) {
		json_t *s = flow_session(f);

		if (!s) {
			(*skipped)++;
			continue;
		}
		if (json_array_size(out) < max && !session_seen(out, s))
			json_array_append(out, s);
		json_decref(s);
	}
	return out;
}

json_t *plan_flows_fetch(const char *ifname, size_t limit)
{
	struct control_request req;
	struct control_answer ans = { 0 };
	json_error_t jerr;
	json_t *root = NULL;
	char n[24];

	snprintf(n, sizeof(n), "%zu", limit);
	control_request_init(&req, "flows");
	if (control_request_add(&req, "limit", n) || control_call(ifname, &req, &ans) < 0)
		return NULL;
	control_answer_trim(&ans);
	root = json_loadb(ans.buf, ans.len, 0, &jerr);
	if (!root || !json_is_object(root) || json_object_get(root, "error")) {
		fprintf(stderr, "egressctl: plan: --from-flows %s: %s\n", ifname,
			root && js_str(root, "error") ? js_str(root, "error") :
			"not a flows answer");
		json_decref(root);
		root = NULL;
	}
	control_answer_free(&ans);
	return root;
}
