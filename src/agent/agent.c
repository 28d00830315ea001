/* agent: lifecycle of the controller agent and the hand-over points
 * between its threads and the main loop (agent.h). */
#include "agent/agent_internal.h"
#include "common/log.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

bool agent_saved_policy(const char *state_dir, const char *node, char *path, size_t cap,
			uint64_t *version)
{
	char vpath[STATE_FILE_PATH_MAX];

	if (!state_file_path(path, cap, state_dir, node, STATE_POLICY) ||
	    !state_file_path(vpath, sizeof(vpath), state_dir, node, STATE_POLICY_VERSION))
		return false;
	*version = state_file_read_version(vpath);
	return access(path, R_OK) == 0;
}

static bool copy_str(char *dst, size_t cap, const char *src, const char *what)
{
	if (strlen(src) < cap) {
		strcpy(dst, src);
		return true;
	}
	fprintf(stderr, "egressd: %s is too long\n", what);
	return false;
}

static int agent_configure(struct agent *a, const struct agent_config *cfg)
{
	size_t ulen;

	if (!copy_str(a->url, sizeof(a->url), cfg->url, "--controller") ||
	    !copy_str(a->node, sizeof(a->node), cfg->node, "--node") ||
	    !copy_str(a->token, sizeof(a->token), cfg->enroll_token ? cfg->enroll_token : "",
		      "--enroll") ||
	    !copy_str(a->cacert, sizeof(a->cacert), cfg->cacert ? cfg->cacert : "", "--cacert"))
		return -EINVAL;
	ulen = strlen(a->url);
	while (ulen && a->url[ulen - 1] == '/')
		a->url[--ulen] = '\0';
	if (strncmp(a->url, "http://", 7) && strncmp(a->url, "https://", 8)) {
		fprintf(stderr, "egressd: --controller %s: not an http:// or https:// URL\n",
			cfg->url);
		return -EINVAL;
	}
	if (!state_file_path(a->cred_path, sizeof(a->cred_path), cfg->state_dir, a->node,
			     STATE_CREDENTIAL) ||
	    !state_file_path(a->policy_path, sizeof(a->policy_path), cfg->state_dir, a->node,
			     STATE_POLICY) ||
	    !state_file_path(a->version_path, sizeof(a->version_path), cfg->state_dir,
			     a->node, STATE_POLICY_VERSION) ||
	    !state_file_path(a->new_path, sizeof(a->new_path), cfg->state_dir, a->node,
			     STATE_POLICY_NEW)) {
		fprintf(stderr, "egressd: --state-dir %s is too long\n", cfg->state_dir);
		return -ENAMETOOLONG;
	}
	return 0;
}

/* A credential is needed before the threads start: without a saved one
 * and without --enroll, the node could never talk to the controller. */
static int agent_check_credential(struct agent *a, const char *state_dir)
{
	int ret = state_file_mkdir(state_dir);

	if (ret < 0) {
		fprintf(stderr, "egressd: --state-dir %s: %s\n", state_dir, strerror(-ret));
		return ret;
	}
	if (!a->token[0] && access(a->cred_path, R_OK) < 0) {
		fprintf(stderr, "egressd: no credential in %s: enroll with --enroll TOKEN\n",
			a->cred_path);
		return -ENOENT;
	}
	return 0;
}

static int agent_init_sync(struct agent *a)
{
	pthread_condattr_t attr;

	a->event_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (a->event_fd < 0)
		return -errno;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);	/* timeouts in monotime */
	pthread_cond_init(&a->cond, &attr);
	pthread_condattr_destroy(&attr);
	pthread_mutex_init(&a->lock, NULL);
	return 0;
}

int agent_start(struct agent **out, const struct agent_config *cfg, uint64_t running)
{
	struct agent *a = calloc(1, sizeof(*a));
	int ret;

	if (!a)
		return -ENOMEM;
	a->event_fd = -1;
	if ((ret = agent_configure(a, cfg)) < 0 ||
	    (ret = agent_check_credential(a, cfg->state_dir)) < 0) {
		free(a);
		return ret;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);	/* before any thread exists */
	if ((ret = agent_init_sync(a)) < 0) {
		free(a);
		return ret;
	}
	a->running_version = running;
	ret = -pthread_create(&a->policy_thread, NULL, agent_policy_main, a);
	a->policy_started = ret == 0;
	if (ret == 0)
		ret = -pthread_create(&a->telemetry_thread, NULL, agent_telemetry_main, a);
	a->telemetry_started = ret == 0;
	if (ret < 0) {
		fprintf(stderr, "egressd: cannot start the agent: %s\n", strerror(-ret));
		agent_stop(a);
		return ret;
	}
	*out = a;
	return 0;
}

void agent_stop(struct agent *a)
{
	if (!a)
		return;
	pthread_mutex_lock(&a->lock);
	atomic_store(&a->stop, true);
	pthread_cond_broadcast(&a->cond);
	pthread_mutex_unlock(&a->lock);
	if (a->policy_started)
		pthread_join(a->policy_thread, NULL);
	if (a->telemetry_started)
		pthread_join(a->telemetry_thread, NULL);
	pthread_cond_destroy(&a->cond);
	pthread_mutex_destroy(&a->lock);
	if (a->event_fd >= 0)
		close(a->event_fd);
	free(a->telemetry);
	json_decref(a->region_metrics);
	explicit_bzero(a->credential, sizeof(a->credential));
	explicit_bzero(a->token, sizeof(a->token));
	free(a);
	curl_global_cleanup();
}

/* ---- shared by the threads ---- */

bool agent_wait_locked(struct agent *a, monotime_ns timeout)
{
	monotime_ns until = monotime_now() + timeout;
	struct timespec ts = {
		.tv_sec = (time_t)(until / NSEC_PER_SEC),
		.tv_nsec = (long)(until % NSEC_PER_SEC),
	};

	if (!atomic_load(&a->stop))
		pthread_cond_timedwait(&a->cond, &a->lock, &ts);
	return !atomic_load(&a->stop);
}

bool agent_sleep(struct agent *a, monotime_ns timeout)
{
	monotime_ns until = monotime_now() + timeout, now;
	bool running = true;

	pthread_mutex_lock(&a->lock);
	while (running && (now = monotime_now()) < until)
		running = agent_wait_locked(a, until - now);
	pthread_mutex_unlock(&a->lock);
	return running && !atomic_load(&a->stop);
}

void agent_wake_main(struct agent *a)
{
	uint64_t one = 1;

	if (write(a->event_fd, &one, sizeof(one)) < 0)
		return;	/* EAGAIN: the counter is already non-zero, it is awake */
}

void agent_http_init(struct agent *a, struct agent_http *h)
{
	memset(h, 0, sizeof(*h));
	h->base_url = a->url;
	h->node = a->node;
	h->cacert = a->cacert[0] ? a->cacert : NULL;
	h->stop = &a->stop;
}

bool agent_credential(struct agent *a, char *out, size_t cap)
{
	bool ok;

	pthread_mutex_lock(&a->lock);
	ok = a->credential[0] && strlen(a->credential) < cap;
	if (ok)
		strcpy(out, a->credential);
	pthread_mutex_unlock(&a->lock);
	return ok;
}

/* ---- the main loop's side ---- */

int agent_fd(const struct agent *a)
{
	return a->event_fd;
}

void agent_drain_fd(struct agent *a)
{
	uint64_t n;

	if (read(a->event_fd, &n, sizeof(n)) < 0)
		return;	/* EAGAIN: nothing was pending */
}

bool agent_take_policy(struct agent *a, uint64_t *version, char *path, size_t cap)
{
	bool ready;

	pthread_mutex_lock(&a->lock);
	ready = a->policy_ready;
	a->policy_ready = false;
	*version = a->policy_version;
	pthread_mutex_unlock(&a->lock);
	snprintf(path, cap, "%s", a->new_path);
	return ready;
}

void agent_policy_result(struct agent *a, uint64_t version, bool ok, const char *why)
{
	pthread_mutex_lock(&a->lock);
	a->result_ready = true;
	a->result_ok = ok;
	if (ok) {
		a->running_version = version;
		a->policy_error[0] = '\0';
	} else {
		snprintf(a->policy_error, sizeof(a->policy_error), "version %llu: %s",
			 (unsigned long long)version, why ? why : "refused");
	}
	pthread_cond_broadcast(&a->cond);
	pthread_mutex_unlock(&a->lock);
}

monotime_ns agent_telemetry_due(const struct agent *a)
{
	return a->telemetry_due;
}

json_t *agent_take_region_metrics(struct agent *a)
{
	json_t *m = NULL;

	pthread_mutex_lock(&a->lock);
	if (a->region_metrics_new)
		m = json_incref(a->region_metrics);
	a->region_metrics_new = false;
	pthread_mutex_unlock(&a->lock);
	return m;
}
