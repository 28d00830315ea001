/* agent_internal: the agent's state, shared by its files (agent.h says
 * who runs what). Everything under `lock` is touched by more than one
 * thread; the rest is fixed before the threads start or owned by one. */
#ifndef EGRESS_AGENT_INTERNAL_H
#define EGRESS_AGENT_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "agent/agent.h"
#include "agent/http.h"
#include "agent/state_file.h"

#define AGENT_CREDENTIAL_MAX 256
#define AGENT_ERROR_MAX 512

struct agent {
	/* Fixed at start. */
	char url[1024];
	char node[64];
	char token[AGENT_CREDENTIAL_MAX];	/* "" without --enroll */
	char cacert[STATE_FILE_PATH_MAX];	/* "" for the system's CAs */
	char cred_path[STATE_FILE_PATH_MAX];
	char policy_path[STATE_FILE_PATH_MAX];
	char version_path[STATE_FILE_PATH_MAX];
	char new_path[STATE_FILE_PATH_MAX];
	int event_fd;				/* eventfd: threads -> main loop */
	atomic_bool stop;
	pthread_t policy_thread, telemetry_thread;
	bool policy_started, telemetry_started;

	/* The main loop's own. */
	monotime_ns telemetry_due;

	/* Held briefly by every thread, never across I/O. cond is broadcast
	 * on every change below and on stop. */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	char credential[AGENT_CREDENTIAL_MAX];	/* "" until enrolled */
	bool policy_ready;			/* policy thread -> main loop */
	uint64_t policy_version;
	bool result_ready, result_ok;		/* main loop -> policy thread */
	uint64_t running_version;
	char policy_error[AGENT_ERROR_MAX];	/* "" when the last one applied */
	char *telemetry;			/* main loop -> telemetry thread */
	json_t *region_metrics;			/* telemetry thread -> main loop */
	bool region_metrics_new;
};

/* agent.c */
/* Waits until timeout passes, cond is broadcast or stop is set; false
 * once stopping. Called with the lock held. */
bool agent_wait_locked(struct agent *a, monotime_ns timeout);
/* Sleeps timeout unless stopped; false once stopping. */
bool agent_sleep(struct agent *a, monotime_ns timeout);
void agent_wake_main(struct agent *a);
void agent_http_init(struct agent *a, struct agent_http *h);
/* The credential, copied out under the lock; false when not enrolled. */
bool agent_credential(struct agent *a, char *out, size_t cap);

/* enroll.c: loads the saved credential or enrolls with the token;
 * false (with why set) when this attempt failed. */
bool agent_enroll(struct agent *a, struct agent_http *h, char *why, size_t cap);

/* longpoll.c, telemetry.c: the threads. */
void *agent_policy_main(void *arg);
void *agent_telemetry_main(void *arg);

#endif
