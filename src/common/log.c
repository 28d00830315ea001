/* log: formatting and rate limiting of log lines. */
#include "common/log.h"
#include "common/monotime.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static enum log_level log_level = LOG_LVL_INFO;
static const char *log_prefix = "egress";

void log_set_level(enum log_level level)
{
	log_level = level;
}

void log_set_prefix(const char *prefix)
{
	log_prefix = prefix;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	static const char *const names[] = { "error", "warn", "info", "debug" };
	va_list ap;

	if (level > log_level)
		return;
	/* One line, whole, even with the agent's threads logging too. */
	flockfile(stderr);
	fprintf(stderr, "%s: %s: ", log_prefix, names[level]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	funlockfile(stderr);
}

#define LOG_BURST 10

bool log_ratelimit_allow(struct log_ratelimit *rl)
{
	monotime_ns now = monotime_now();
	uint64_t refill = (now - rl->last_ns) / NSEC_PER_SEC;

	if (rl->last_ns == 0 || refill > 0) {
		uint64_t t = rl->last_ns == 0 ? LOG_BURST : rl->tokens + refill;

		rl->tokens = t > LOG_BURST ? LOG_BURST : (uint32_t)t;
		rl->last_ns = now;
		if (rl->suppressed) {
			log_msg(LOG_LVL_WARN, "%u similar messages suppressed", rl->suppressed);
			rl->suppressed = 0;
		}
	}
	if (rl->tokens == 0) {
		rl->suppressed++;
		return false;
	}
	rl->tokens--;
	return true;
}

void log_library_line(struct log_ratelimit *rl, enum log_level level, const char *what,
		      const char *fmt, va_list ap)
{
	char line[256];
	size_t len;

	if (level > log_level || !log_ratelimit_allow(rl))
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	len = strlen(line);
	if (len && line[len - 1] == '\n')
		line[len - 1] = '\0';
	log_msg(level, "%s: %s", what, line);
}
