/* fanout: how long a new policy version takes to reach N long-polling
 * nodes (issue 4's controller fan-out benchmark). It enrolls N simulated
 * nodes sim0..simN-1 (sequential, not measured), parks one long-poll per
 * node with libcurl's multi interface on one thread, then applies R new
 * versions; per round it records, for each node, the time from just before
 * the apply is sent to its poll answering with the new version, and prints
 * median, p99 and max. With every poll parked it reads the controller's
 * VmRSS. One summary line ("fanout: nodes N ...") for the script to grep.
 *
 * usage: fanout --url URL --admin-token-file F --nodes N --rounds R
 *               [--wait S] [--controller-pid PID]
 * --wait S: how long a round may take before the missing nodes are counted
 * as missed (default 20). */
#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "common/monotime.h"

#define FO_POLL_WAIT_S		55	/* the poll's ?wait= */
#define FO_POLL_TIMEOUT_S	(FO_POLL_WAIT_S + 15)
#define FO_ANSWER_MAX		(16u << 20)
#define FO_PARK_TIMEOUT_S	60	/* for all N polls to be parked */

struct fo_buf {
	char *p;
	size_t len, cap;
};

struct fo_node {
	CURL *h;
	struct curl_slist *hdr;
	struct fo_buf buf;
	char name[24];
	char *cred;
	uint64_t known;		/* the version its poll says it has */
	bool dead;		/* a transport error: no longer polled */
};

struct fanout {
	const char *url;
	char *admin;
	unsigned long n, rounds, wait_s;
	long pid;
	CURL *easy;		/* setup, /metrics: blocking requests */
	CURLM *m;
	struct fo_node *nodes;
	CURL *apply;		/* the measured apply, driven by the multi */
	struct curl_slist *apply_hdr;
	struct fo_buf apply_buf;
	char *apply_body;
	bool apply_done;
	uint64_t version;	/* current policy version */
	uint64_t target;	/* the version this round applies */
	monotime_ns t0;		/* just before the apply was sent; 0 between rounds */
	double *lat;		/* this round's latencies, ms */
	size_t n_lat;
	double *all;		/* every round's */
	size_t n_all;
};

static size_t fo_write(char *data, size_t size, size_t n, void *arg)
{
	struct fo_buf *b = arg;
	size_t len = size * n;

	if (len > FO_ANSWER_MAX - b->len)
		return 0;
	if (b->len + len + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 1024;
		char *np;

		while (cap < b->len + len + 1)
			cap *= 2;
		np = realloc(b->p, cap);
		if (!np)
			return 0;
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, len);
	b->len += len;
	b->p[b->len] = '\0';
	return len;
}

static struct curl_slist *fo_headers(const char *token, const char *node, bool json)
{
	struct curl_slist *h = NULL;
	char line[512];

	if (token) {
		snprintf(line, sizeof(line), "Authorization: Bearer %s", token);
		h = curl_slist_append(h, line);
	}
	if (node) {
		snprintf(line, sizeof(line), "X-Egress-Node: %s", node);
		h = curl_slist_append(h, line);
	}
	if (json)
		h = curl_slist_append(h, "Content-Type: application/json");
	return curl_slist_append(h, "Expect:");
}

/* A blocking request on f->easy; the HTTP code, or -1. */
static long fo_request(struct fanout *f, const char *path, const char *token,
		       const char *body, struct fo_buf *out)
{
	struct curl_slist *h = fo_headers(token, NULL, body != NULL);
	char url[1024];
	long code = -1;
	CURLcode rc;

	snprintf(url, sizeof(url), "%s%s", f->url, path);
	out->len = 0;
	curl_easy_reset(f->easy);
	curl_easy_setopt(f->easy, CURLOPT_URL, url);
	curl_easy_setopt(f->easy, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(f->easy, CURLOPT_WRITEFUNCTION, fo_write);
	curl_easy_setopt(f->easy, CURLOPT_WRITEDATA, out);
	curl_easy_setopt(f->easy, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(f->easy, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(f->easy, CURLOPT_NOSIGNAL, 1L);
	if (body)
		curl_easy_setopt(f->easy, CURLOPT_POSTFIELDS, body);
	rc = curl_easy_perform(f->easy);
	if (rc == CURLE_OK)
		curl_easy_getinfo(f->easy, CURLINFO_RESPONSE_CODE, &code);
	else
		fprintf(stderr, "fanout: %s: %s\n", path, curl_easy_strerror(rc));
	curl_slist_free_all(h);
	return code;
}

/* A string field of a JSON answer, copied; NULL if absent. */
static char *fo_json_str(const struct fo_buf *b, const char *key)
{
	json_t *j = b->len ? json_loadb(b->p, b->len, 0, NULL) : NULL;
	const char *s = json_string_value(json_object_get(j, key));
	char *r = s ? strdup(s) : NULL;

	json_decref(j);
	return r;
}

static bool fo_json_u64(const struct fo_buf *b, const char *key, uint64_t *v)
{
	json_t *j = b->len ? json_loadb(b->p, b->len, 0, NULL) : NULL;
	json_t *x = json_object_get(j, key);
	bool ok = json_is_integer(x) && json_integer_value(x) >= 0;

	if (ok)
		*v = (uint64_t)json_integer_value(x);
	json_decref(j);
	return ok;
}

/* The document of round r: a small valid policy, different per round. */
static char *fo_apply_body(uint64_t expected, unsigned long r)
{
	char doc[256];
	json_t *j;
	char *s;

	snprintf(doc, sizeof(doc), "version: 1\n# fanout round %lu\ngroups: [g1, g2]\n"
		 "users: {u1: {groups: [g1]}}\ndefault: allow\n", r);
	j = json_pack("{s:s, s:I, s:s}", "document", doc, "expected_version",
		      (json_int_t)expected, "comment", "fanout bench");
	s = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	return s;
}

static bool fo_current_version(struct fanout *f)
{
	struct fo_buf b = { 0 };
	long code = fo_request(f, "/api/v1/policy/versions?limit=1", f->admin, NULL, &b);
	json_t *j = code == 200 ? json_loadb(b.p, b.len, 0, NULL) : NULL;
	json_t *v = json_object_get(json_array_get(json_object_get(j, "versions"), 0), "version");

	f->version = json_is_integer(v) ? (uint64_t)json_integer_value(v) : 0;
	json_decref(j);
	free(b.p);
	if (code != 200)
		fprintf(stderr, "fanout: GET /policy/versions: HTTP %ld\n", code);
	return code == 200;
}

/* A blocking apply, for the first version (setup). */
static bool fo_apply_blocking(struct fanout *f, unsigned long r)
{
	struct fo_buf b = { 0 };
	char *body = fo_apply_body(f->version, r);
	long code = body ? fo_request(f, "/api/v1/policy/apply", f->admin, body, &b) : -1;
	bool ok = code == 200 && fo_json_u64(&b, "version", &f->version);

	if (!ok)
		fprintf(stderr, "fanout: apply: HTTP %ld %s\n", code, b.p ? b.p : "");
	free(body);
	free(b.p);
	return ok;
}

static bool fo_enroll_one(struct fanout *f, struct fo_node *nd)
{
	struct fo_buf b = { 0 };
	char body[512], *tok;
	long code;

	snprintf(body, sizeof(body), "{\"node\":\"%s\",\"ttl_s\":600}", nd->name);
	code = fo_request(f, "/api/v1/tokens/enroll", f->admin, body, &b);
	tok = code == 200 ? fo_json_str(&b, "token") : NULL;
	if (tok) {
		snprintf(body, sizeof(body), "{\"token\":\"%s\",\"node\":\"%s\"}", tok, nd->name);
		code = fo_request(f, "/api/v1/enroll", NULL, body, &b);
		nd->cred = code == 200 ? fo_json_str(&b, "credential") : NULL;
	}
	if (!nd->cred)
		fprintf(stderr, "fanout: enroll %s: HTTP %ld %s\n", nd->name, code,
			b.p ? b.p : "");
	free(tok);
	free(b.p);
	return nd->cred != NULL;
}

static bool fo_enroll(struct fanout *f)
{
	monotime_ns t = monotime_now();

	for (unsigned long i = 0; i < f->n; i++) {
		struct fo_node *nd = &f->nodes[i];

		snprintf(nd->name, sizeof(nd->name), "sim%lu", i);
		if (!fo_enroll_one(f, nd))
			return false;
		nd->hdr = fo_headers(nd->cred, nd->name, false);
		nd->h = curl_easy_init();
		if (!nd->hdr || !nd->h)
			return false;
	}
	printf("enrolled %lu nodes in %.1f s\n", f->n,
	       (double)(monotime_now() - t) / NSEC_PER_SEC);
	return true;
}

/* (Re-)arms nd's long-poll for "anything newer than known". */
static void fo_poll_arm(struct fanout *f, struct fo_node *nd)
{
	char url[1024];

	snprintf(url, sizeof(url), "%s/api/v1/node/policy?known=%llu&wait=%d", f->url,
		 (unsigned long long)nd->known, FO_POLL_WAIT_S);
	nd->buf.len = 0;
	curl_easy_setopt(nd->h, CURLOPT_URL, url);
	curl_easy_setopt(nd->h, CURLOPT_HTTPHEADER, nd->hdr);
	curl_easy_setopt(nd->h, CURLOPT_WRITEFUNCTION, fo_write);
	curl_easy_setopt(nd->h, CURLOPT_WRITEDATA, &nd->buf);
	curl_easy_setopt(nd->h, CURLOPT_PRIVATE, nd);
	curl_easy_setopt(nd->h, CURLOPT_TIMEOUT, (long)FO_POLL_TIMEOUT_S);
	curl_easy_setopt(nd->h, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(nd->h, CURLOPT_NOSIGNAL, 1L);
	curl_multi_add_handle(f->m, nd->h);
}

static void fo_apply_done(struct fanout *f, CURLcode rc)
{
	long code = -1;
	uint64_t v;

	curl_easy_getinfo(f->apply, CURLINFO_RESPONSE_CODE, &code);
	f->apply_done = true;
	if (rc == CURLE_OK && code == 200 && fo_json_u64(&f->apply_buf, "version", &v))
		f->version = v;
	else
		fprintf(stderr, "fanout: apply: %s HTTP %ld %s\n", curl_easy_strerror(rc),
			code, f->apply_buf.p ? f->apply_buf.p : "");
}

/* nd's poll answered: a 200 with the round's version is a measurement. */
static void fo_poll_done(struct fanout *f, struct fo_node *nd, CURLcode rc)
{
	monotime_ns t = monotime_now();
	long code = -1;
	uint64_t v;

	curl_easy_getinfo(nd->h, CURLINFO_RESPONSE_CODE, &code);
	if (rc != CURLE_OK) {
		fprintf(stderr, "fanout: %s: poll: %s\n", nd->name, curl_easy_strerror(rc));
		nd->dead = true;
		return;
	}
	if (code == 200 && fo_json_u64(&nd->buf, "version", &v)) {
		if (f->t0 && v >= f->target && nd->known < f->target && f->n_lat < f->n)
			f->lat[f->n_lat++] = (double)(t - f->t0) / NSEC_PER_MSEC;
		nd->known = v;
	} else if (code != 204) {
		fprintf(stderr, "fanout: %s: poll: HTTP %ld\n", nd->name, code);
		nd->dead = true;
		return;
	}
	fo_poll_arm(f, nd);
}

/* One pass of the multi: transfers, then every finished request. */
static void fo_drive(struct fanout *f, int timeout_ms)
{
	CURLMsg *msg;
	int running, left;

	curl_multi_perform(f->m, &running);
	while ((msg = curl_multi_info_read(f->m, &left))) {
		struct fo_node *nd = NULL;
		CURL *h = msg->easy_handle;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_multi_remove_handle(f->m, h);
		if (h == f->apply) {
			fo_apply_done(f, msg->data.result);
			continue;
		}
		curl_easy_getinfo(h, CURLINFO_PRIVATE, (char **)&nd);
		fo_poll_done(f, nd, msg->data.result);
	}
	curl_multi_poll(f->m, NULL, 0, timeout_ms, NULL);
}

/* The controller's count of parked long-polls, or -1. */
static long fo_waiters(struct fanout *f)
{
	struct fo_buf b = { 0 };
	long code = fo_request(f, "/metrics", NULL, NULL, &b);
	static const char key[] = "\negress_controller_longpoll_waiters ";
	const char *p = code == 200 && b.p ? strstr(b.p, key) : NULL;
	long w = p ? strtol(p + sizeof(key) - 1, NULL, 10) : -1;

	free(b.p);
	return w;
}

static unsigned long fo_alive(const struct fanout *f)
{
	unsigned long n = 0;

	for (unsigned long i = 0; i < f->n; i++)
		n += !f->nodes[i].dead;
	return n;
}

/* Drives the polls until the controller has every live one parked. */
static bool fo_wait_parked(struct fanout *f)
{
	monotime_ns end = monotime_now() + SECONDS(FO_PARK_TIMEOUT_S), next = 0;
	long w = -1;

	while (monotime_now() < end) {
		fo_drive(f, 20);
		if (monotime_now() < next)
			continue;
		w = fo_waiters(f);
		if (w >= 0 && (unsigned long)w >= fo_alive(f))
			return true;
		next = monotime_now() + MSECONDS(50);
	}
	fprintf(stderr, "fanout: only %ld of %lu polls parked after %d s\n", w, fo_alive(f),
		FO_PARK_TIMEOUT_S);
	return false;
}

static long fo_rss_kb(long pid)
{
	char path[64], line[256];
	long kb = -1;
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/%ld/status", pid);
	fp = fopen(path, "r");
	if (!fp)
		return -1;
	while (fgets(line, sizeof(line), fp))
		if (!strncmp(line, "VmRSS:", 6))
			kb = strtol(line + 6, NULL, 10);
	fclose(fp);
	return kb;
}

static int fo_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Nearest-rank percentile of sorted v[0..n). */
static double fo_pct(const double *v, size_t n, double p)
{
	size_t k = (size_t)(p / 100.0 * (double)n + 0.999999);

	if (!n)
		return 0;
	return v[k ? (k > n ? n : k) - 1 : 0];
}

static void fo_report(const char *what, double *v, size_t n, unsigned long of)
{
	qsort(v, n, sizeof(*v), fo_cmp);
	printf("%s: %zu/%lu nodes got it; median %.1f ms, p99 %.1f ms, max %.1f ms\n",
	       what, n, of, fo_pct(v, n, 50), fo_pct(v, n, 99), n ? v[n - 1] : 0.0);
}

/* The apply of round r, on f->apply (driven by the multi). */
static bool fo_apply_prepare(struct fanout *f, unsigned long r)
{
	char url[1024];

	free(f->apply_body);
	f->apply_body = fo_apply_body(f->version, r);
	if (!f->apply_body)
		return false;
	snprintf(url, sizeof(url), "%s/api/v1/policy/apply", f->url);
	f->apply_buf.len = 0;
	f->apply_done = false;
	curl_easy_reset(f->apply);
	curl_easy_setopt(f->apply, CURLOPT_URL, url);
	curl_easy_setopt(f->apply, CURLOPT_HTTPHEADER, f->apply_hdr);
	curl_easy_setopt(f->apply, CURLOPT_POSTFIELDS, f->apply_body);
	curl_easy_setopt(f->apply, CURLOPT_WRITEFUNCTION, fo_write);
	curl_easy_setopt(f->apply, CURLOPT_WRITEDATA, &f->apply_buf);
	curl_easy_setopt(f->apply, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(f->apply, CURLOPT_NOSIGNAL, 1L);
	/* A new connection per apply, as egressctl makes; see the apply
	 * keep-alive note in docs/controller.md's fan-out figures. */
	if (!getenv("FANOUT_APPLY_KEEPALIVE")) {
		curl_easy_setopt(f->apply, CURLOPT_FRESH_CONNECT, 1L);
		curl_easy_setopt(f->apply, CURLOPT_FORBID_REUSE, 1L);
	}
	return true;
}

/* One measured round: the apply goes through the multi too, so nothing
 * blocks while the answers come in. */
static bool fo_round(struct fanout *f, unsigned long r)
{
	unsigned long want = fo_alive(f);
	monotime_ns end;
	char what[64];

	if (!fo_apply_prepare(f, r))
		return false;
	f->n_lat = 0;
	f->target = f->version + 1;
	end = monotime_now() + SECONDS(f->wait_s);
	f->t0 = monotime_now();
	curl_multi_add_handle(f->m, f->apply);
	while ((!f->apply_done || f->n_lat < want) && monotime_now() < end)
		fo_drive(f, 5);
	f->t0 = 0;
	snprintf(what, sizeof(what), "round %lu (version %llu)", r,
		 (unsigned long long)f->version);
	memcpy(f->all + f->n_all, f->lat, f->n_lat * sizeof(*f->lat));
	f->n_all += f->n_lat;
	fo_report(what, f->lat, f->n_lat, want);
	return f->apply_done;
}

static bool fo_setup_polls(struct fanout *f)
{
	long rss;

	for (unsigned long i = 0; i < f->n; i++) {
		f->nodes[i].known = f->version;
		fo_poll_arm(f, &f->nodes[i]);
	}
	if (!fo_wait_parked(f))
		return false;
	rss = f->pid > 0 ? fo_rss_kb(f->pid) : -1;
	printf("%lu long-polls parked; controller VmRSS %ld kB\n", f->n, rss);
	return true;
}

static int fo_run(struct fanout *f)
{
	unsigned long r, done = 0;
	long rss = -1;

	if (!fo_current_version(f) || (!f->version && !fo_apply_blocking(f, 0)))
		return 1;
	if (!fo_enroll(f) || !fo_setup_polls(f))
		return 1;
	rss = f->pid > 0 ? fo_rss_kb(f->pid) : -1;
	for (r = 1; r <= f->rounds; r++) {
		if (!fo_round(f, r))
			break;
		done++;
		if (r < f->rounds && !fo_wait_parked(f))
			break;
	}
	fo_report("all rounds", f->all, f->n_all, f->n * done);
	printf("fanout: nodes %lu rounds %lu got %zu/%lu median %.1f ms p99 %.1f ms "
	       "max %.1f ms controller_rss_kb %ld\n", f->n, done, f->n_all, f->n * done,
	       fo_pct(f->all, f->n_all, 50), fo_pct(f->all, f->n_all, 99),
	       f->n_all ? f->all[f->n_all - 1] : 0.0, rss);
	return done == f->rounds ? 0 : 1;
}

static char *fo_read_token(const char *path)
{
	char line[512];
	FILE *fp = fopen(path, "r");

	if (!fp || !fgets(line, sizeof(line), fp)) {
		fprintf(stderr, "fanout: %s: %s\n", path, strerror(errno));
		if (fp)
			fclose(fp);
		return NULL;
	}
	fclose(fp);
	line[strcspn(line, "\r\n")] = '\0';
	return strdup(line);
}

/* Each poll holds a socket; the limit goes up to the hard limit. */
static void fo_raise_nofile(unsigned long n)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return;
	if (rl.rlim_cur < n + 64) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur < n + 64)
		fprintf(stderr, "fanout: open file limit %llu is short of %lu\n",
			(unsigned long long)rl.rlim_cur, n + 64);
}

static void fo_usage(void)
{
	fprintf(stderr, "usage: fanout --url URL --admin-token-file F --nodes N "
		"--rounds R [--wait S] [--controller-pid PID]\n");
	exit(2);
}

static unsigned long fo_num(const char *s, unsigned long max)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (*s < '0' || *s > '9' || *end || v == 0 || v > max)
		fo_usage();
	return v;
}

static void fo_args(int argc, char **argv, struct fanout *f, const char **tokf)
{
	for (int i = 1; i < argc; i += 2) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!v)
			fo_usage();
		if (!strcmp(o, "--url"))
			f->url = v;
		else if (!strcmp(o, "--admin-token-file"))
			*tokf = v;
		else if (!strcmp(o, "--nodes"))
			f->n = fo_num(v, 100000);
		else if (!strcmp(o, "--rounds"))
			f->rounds = fo_num(v, 1000);
		else if (!strcmp(o, "--wait"))
			f->wait_s = fo_num(v, 3600);
		else if (!strcmp(o, "--controller-pid"))
			f->pid = (long)fo_num(v, 1ul << 22);
		else
			fo_usage();
	}
	if (!f->url || !*tokf || !f->n || !f->rounds)
		fo_usage();
}

static bool fo_init(struct fanout *f)
{
	f->nodes = calloc(f->n, sizeof(*f->nodes));
	f->lat = calloc(f->n, sizeof(*f->lat));
	f->all = calloc(f->n * f->rounds, sizeof(*f->all));
	f->easy = curl_easy_init();
	f->apply = curl_easy_init();
	f->m = curl_multi_init();
	f->apply_hdr = fo_headers(f->admin, NULL, true);
	if (!f->nodes || !f->lat || !f->all || !f->easy || !f->apply || !f->m)
		return false;
	curl_multi_setopt(f->m, CURLMOPT_MAXCONNECTS, (long)f->n + 16);
	return true;
}

static void fo_free(struct fanout *f)
{
	for (unsigned long i = 0; f->nodes && i < f->n; i++) {
		struct fo_node *nd = &f->nodes[i];

		if (nd->h) {
			curl_multi_remove_handle(f->m, nd->h);
			curl_easy_cleanup(nd->h);
		}
		curl_slist_free_all(nd->hdr);
		free(nd->buf.p);
		free(nd->cred);
	}
	if (f->apply)
		curl_multi_remove_handle(f->m, f->apply);
	curl_easy_cleanup(f->apply);
	curl_easy_cleanup(f->easy);
	curl_multi_cleanup(f->m);
	curl_slist_free_all(f->apply_hdr);
	free(f->apply_buf.p);
	free(f->apply_body);
	free(f->nodes);
	free(f->lat);
	free(f->all);
	free(f->admin);
}

int main(int argc, char **argv)
{
	struct fanout f = { .wait_s = 20 };
	const char *tokf = NULL;
	int ret = 1;

	fo_args(argc, argv, &f, &tokf);
	fo_raise_nofile(f.n);
	if (curl_global_init(CURL_GLOBAL_DEFAULT))
		return 1;
	f.admin = fo_read_token(tokf);
	if (f.admin && fo_init(&f))
		ret = fo_run(&f);
	fo_free(&f);
	curl_global_cleanup();
	return ret;
}
