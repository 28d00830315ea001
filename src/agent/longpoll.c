/* longpoll: the policy thread. A small state machine (docs/agent.md):
 *
 *   ENROLL --credential--> POLL --new version--> APPLY --answer--> POLL
 *      any failure: BACKOFF (1 s doubling to 30 s, jittered), then the
 *      state it failed in; the first success after start or after a
 *      failure logs "caught up with controller: version N".
 *
 * A fetched document goes to NODE.policy.new.yaml; the main loop applies
 * it like a SIGHUP reload and answers; only then is it promoted to
 * NODE.policy.yaml with its version, so the file a restart starts from is
 * always one this node ran. */
#include "agent/agent_internal.h"
#include "agent/backoff.h"
#include "common/log.h"
#include "crypto/crypto.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

/* How long the main loop may take to answer before we ask again. */
#define POLL_APPLY_TIMEOUT SECONDS(30)
/* At the 30 s cap, one "unreachable" line per this many failures. */
#define POLL_LOG_EVERY_AT_CAP 10

enum poll_outcome { POLL_SAME, POLL_APPLIED, POLL_REFUSED, POLL_FAILED };

struct poll_state {
	struct agent *a;
	struct agent_http http;
	struct agent_backoff backoff;
	uint64_t known;			/* the last version fetched */
	bool synced;			/* false at start and after a failure */
	bool enrolled;
	char why[AGENT_ERROR_MAX];
	bool unreachable;		/* why: no answer, not an HTTP error */
};

static uint32_t poll_random(void)
{
	uint32_t r = 0;

	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != sizeof(r))
		r = (uint32_t)monotime_now();
	return r;
}

static void poll_fail(struct poll_state *s)
{
	monotime_ns wait = agent_backoff_next(&s->backoff, poll_random());
	bool at_cap = s->backoff.delay >= AGENT_BACKOFF_MAX;

	s->synced = false;
	if (atomic_load(&s->a->stop))
		return;		/* aborted because egressd is stopping: no news */
	if (!at_cap || s->backoff.failures % POLL_LOG_EVERY_AT_CAP == 0)
		log_warn("controller %s (%s), retrying in %.1fs (failure %" PRIu32 ")",
			 s->unreachable ? "unreachable" : "refused", s->why,
			 (double)wait / NSEC_PER_SEC, s->backoff.failures);
	agent_sleep(s->a, wait);
}

static void poll_ok(struct poll_state *s)
{
	uint64_t running;

	agent_backoff_reset(&s->backoff);
	if (s->synced)
		return;
	s->synced = true;
	pthread_mutex_lock(&s->a->lock);
	running = s->a->running_version;
	pthread_mutex_unlock(&s->a->lock);
	log_info("caught up with controller: version %" PRIu64, running);
}

/* Hands the file to the main loop and waits for its answer. */
static bool poll_apply(struct poll_state *s, uint64_t version)
{
	struct agent *a = s->a;
	bool answered = false, ok = false;
	monotime_ns until = monotime_now() + POLL_APPLY_TIMEOUT, now;

	pthread_mutex_lock(&a->lock);
	a->policy_ready = true;
	a->policy_version = version;
	a->result_ready = false;
	agent_wake_main(a);
	while (!a->result_ready && (now = monotime_now()) < until)
		if (!agent_wait_locked(a, until - now))
			break;
	answered = a->result_ready;
	ok = a->result_ok;
	a->policy_ready = false;
	pthread_mutex_unlock(&a->lock);
	return answered && ok;
}

static int poll_promote(struct poll_state *s, uint64_t version)
{
	char line[32];
	int ret;

	snprintf(line, sizeof(line), "%" PRIu64 "\n", version);
	ret = state_file_promote(s->a->new_path, s->a->policy_path);
	if (ret == 0)
		ret = state_file_write(s->a->version_path, line, strlen(line), 0600);
	if (ret < 0)
		log_err("cannot persist policy version %" PRIu64 " in %s: %s", version,
			s->a->policy_path, strerror(-ret));
	return ret;
}

/* The controller's digest is hex BLAKE2s of the document (store.md). A
 * mismatch means the bytes were damaged on the way (a proxy, a bug): such
 * a document is not applied. An answer without a digest is taken. */
static bool poll_digest_ok(const json_t *root, const char *doc, size_t len)
{
	const char *want = json_string_value(json_object_get(root, "digest"));
	uint8_t h[BLAKE2S_HASH_LEN];
	char hex[2 * BLAKE2S_HASH_LEN + 1];

	if (!want)
		return true;
	blake2s_hash(h, doc, len, NULL, 0);
	for (size_t i = 0; i < sizeof(h); i++)
		snprintf(hex + 2 * i, 3, "%02x", h[i]);
	return strcasecmp(hex, want) == 0;
}

/* A 200: {"version":N,"document":"...","digest":"..."}. */
static enum poll_outcome poll_take(struct poll_state *s, const struct agent_http_resp *r)
{
	json_t *root = json_loadb(r->body ? r->body : "", r->len, 0, NULL);
	json_t *jv = json_object_get(root, "version");
	const char *doc = json_string_value(json_object_get(root, "document"));
	uint64_t version = json_is_integer(jv) && json_integer_value(jv) > 0 ?
			   (uint64_t)json_integer_value(jv) : 0;
	enum poll_outcome out = POLL_FAILED;
	int ret;

	if (!version || !doc || strlen(doc) != json_string_length(json_object_get(root, "document"))) {
		snprintf(s->why, sizeof(s->why), "malformed policy answer");
		goto done;
	}
	if (!poll_digest_ok(root, doc, strlen(doc))) {
		snprintf(s->why, sizeof(s->why), "policy version %" PRIu64 " does not match its "
			 "digest: not applied", version);
		goto done;
	}
	out = POLL_SAME;
	if (version == s->known)
		goto done;
	ret = state_file_write(s->a->new_path, doc, strlen(doc), 0600);
	if (ret < 0) {
		snprintf(s->why, sizeof(s->why), "cannot write %.300s: %s", s->a->new_path,
			 strerror(-ret));
		out = POLL_FAILED;
		goto done;
	}
	log_info("controller policy version %" PRIu64 " fetched", version);
	/* Either way it is known: a refused document is not fetched again,
	 * the next publish is. */
	s->known = version;
	out = poll_apply(s, version) ? POLL_APPLIED : POLL_REFUSED;
	if (out == POLL_APPLIED)
		poll_promote(s, version);
	else
		remove(s->a->new_path);
done:
	json_decref(root);
	return out;
}

static enum poll_outcome poll_once(struct poll_state *s, const char *cred)
{
	struct agent_http_resp r;
	enum poll_outcome out;
	char path[128];

	snprintf(path, sizeof(path), "/api/v1/node/policy?known=%" PRIu64 "&wait=%d",
		 s->known, AGENT_POLL_WAIT_S);
	s->unreachable = !agent_http_request(&s->http, "GET", path, cred, NULL,
					     AGENT_POLL_WAIT_S + 10, &r);
	if (s->unreachable) {
		snprintf(s->why, sizeof(s->why), "%s", r.error);
		return POLL_FAILED;
	}
	if (r.status == 204)
		out = POLL_SAME;
	else if (r.status == 200)
		out = poll_take(s, &r);
	else {
		snprintf(s->why, sizeof(s->why), "HTTP %ld on GET /node/policy", r.status);
		out = POLL_FAILED;
	}
	agent_http_resp_free(&r);
	return out;
}

static void poll_step(struct poll_state *s)
{
	char cred[AGENT_CREDENTIAL_MAX];

	if (!s->enrolled) {
		s->why[0] = '\0';
		s->enrolled = agent_enroll(s->a, &s->http, s->why, sizeof(s->why));
		s->unreachable = !s->enrolled && !strstr(s->why, "HTTP");
		if (!s->enrolled)
			poll_fail(s);
		return;
	}
	if (!agent_credential(s->a, cred, sizeof(cred)))
		return;
	if (poll_once(s, cred) == POLL_FAILED)
		poll_fail(s);
	else
		poll_ok(s);
	explicit_bzero(cred, sizeof(cred));
}

void *agent_policy_main(void *arg)
{
	struct poll_state s = { .a = arg };

	pthread_mutex_lock(&s.a->lock);
	s.known = s.a->running_version;
	pthread_mutex_unlock(&s.a->lock);
	agent_http_init(s.a, &s.http);
	while (!atomic_load(&s.a->stop))
		poll_step(&s);
	agent_http_close(&s.http);
	return NULL;
}
