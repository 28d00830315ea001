/* fuzz_api: api_handle(), the whole REST API as a pure function, on a
 * store in a temporary file that holds an admin token, an enrolled node
 * and one policy version. Input: byte 0 picks the endpoint, byte 1 the
 * credential and method, then a query string up to '\n' ("k=v&k2=v2"),
 * then the body. Every answer must be a status the API documents, with a
 * body that is JSON (or the text of /metrics and /). */
#include "controller/api.h"
#include "controller/store.h"
#include "crypto/crypto.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const paths[] = {
	"/api/v1/policy", "/api/v1/policy/versions", "/api/v1/policy/plan",
	"/api/v1/policy/apply", "/api/v1/policy/rollback", "/api/v1/nodes",
	"/api/v1/audit", "/api/v1/tokens/enroll", "/api/v1/enroll",
	"/api/v1/node/policy", "/api/v1/node/telemetry", "/metrics", "/", "/x",
};
static const char *const methods[] = { "GET", "POST", "HEAD", "PUT" };

static struct store *store;
static struct api *api;
static char admin[STORE_TOKEN_SIZE + 8], cred[STORE_TOKEN_SIZE + 8];

static char db_path[] = "/tmp/fuzz_api.XXXXXX";

static const char doc[] = "version: 1\ngroups: [g1]\nusers: {u1: {groups: [g1]}}\n";

static void remove_db(void)
{
	char p[sizeof(db_path) + 8];

	unlink(db_path);
	snprintf(p, sizeof(p), "%s-wal", db_path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", db_path);
	unlink(p);
}

static void setup(void)
{
	char tok[STORE_TOKEN_SIZE], node[STORE_NAME_MAX], c[STORE_TOKEN_SIZE];
	uint64_t v;
	int fd = mkstemp(db_path);

	crypto_init();
	if (fd < 0)
		abort();
	close(fd);
	unlink(db_path);	/* store_open creates it, with its schema */
	atexit(remove_db);
	if (store_open(&store, db_path, NULL, 0) || api_open(&api, store) != 0)
		abort();
	if (store_admin_token_create(store, "fuzz", "fuzz", tok))
		abort();
	snprintf(admin, sizeof(admin), "Bearer %s", tok);
	if (store_enroll_token_create(store, "n1", 60000, "fuzz", tok) ||
	    store_enroll_token_consume(store, tok, NULL, node, c))
		abort();
	snprintf(cred, sizeof(cred), "Bearer %s", c);
	if (store_policy_apply(store, 0, doc, sizeof(doc) - 1, "fuzz", NULL, &v))
		abort();
	api_close(api);
	if (api_open(&api, store))
		abort();
}

/* "a=b&c" into params pointing into buf (modified). */
static size_t parse_query(char *buf, struct api_param *q, size_t cap)
{
	size_t n = 0;
	char *save = NULL;

	for (char *kv = strtok_r(buf, "&", &save); kv && n < cap;
	     kv = strtok_r(NULL, "&", &save)) {
		char *eq = strchr(kv, '=');

		if (eq)
			*eq++ = '\0';
		q[n++] = (struct api_param){ kv, eq };
	}
	return n;
}

static void check_response(const struct api_response *rs, size_t route)
{
	static const unsigned ok[] = { 0, 200, 204, 400, 401, 404, 405, 409, 413, 422, 500 };
	bool known = false;
	json_t *j;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		known |= rs->status == ok[i];
	if (!known)
		abort();
	if (rs->status == 0 || rs->status == 204 || route >= 11)
		return;
	j = json_loadb(rs->body, rs->len, 0, NULL);

	if (!json_is_object(j))
		abort();
	json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct api_param q[API_QUERY_MAX];
	struct api_request rq = { .now = SECONDS(1000), .wall = 1700000000000 };
	struct api_response rs;
	const uint8_t *nl;
	char *query;
	size_t route, qlen;

	if (!store)
		setup();
	if (size < 2)
		return 0;
	route = data[0] % (sizeof(paths) / sizeof(paths[0]));
	rq.path = paths[route];
	rq.method = (data[1] & 0x30) ? (route == 2 || route == 3 || route == 4 || route == 7 ||
					route == 8 || route == 10 ? "POST" : "GET")
				     : methods[(data[1] >> 2) & 3];
	rq.authorization = (data[1] & 3) == 1 ? admin : (data[1] & 3) == 2 ? cred : NULL;
	rq.node = (data[1] & 0x40) ? "n1" : NULL;
	rq.wait_deadline = (data[1] & 0x80) ? rq.now : 0;
	data += 2;
	size -= 2;
	nl = memchr(data, '\n', size);
	qlen = nl ? (size_t)(nl - data) : 0;
	query = strndup((const char *)data, qlen);
	if (!query)
		return 0;
	rq.query = q;
	rq.n_query = parse_query(query, q, API_QUERY_MAX);
	rq.body = (const char *)data + (nl ? qlen + 1 : 0);
	rq.body_len = size - (nl ? qlen + 1 : 0);
	api_handle(api, &rq, &rs);
	check_response(&rs, route);
	api_response_free(&rs);
	free(query);
	return 0;
}
