/* log: one line per event to stderr (or syslog-style prefixing when run by a
 * service manager). Drops that a remote sender can trigger log through
 * log_ratelimited() so a flood cannot flood the log too. */
#ifndef EGRESS_LOG_H
#define EGRESS_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

enum log_level { LOG_LVL_ERROR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

void log_set_level(enum log_level level);
void log_set_prefix(const char *prefix);
void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_err(...)   log_msg(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

/* A token bucket per call site: at most `burst` lines, refilled at one per
 * second. Declare one static struct log_ratelimit per log point. */
struct log_ratelimit {
	uint64_t last_ns;
	uint32_t tokens;
	uint32_t suppressed;
};
bool log_ratelimit_allow(struct log_ratelimit *rl);

/* A library's own message (printf-style, perhaps ending in a newline) as
 * one rate-limited "what: message" line: for callbacks such as
 * libmicrohttpd's, which a client can make talk. */
void log_library_line(struct log_ratelimit *rl, enum log_level level, const char *what,
		      const char *fmt, va_list ap) __attribute__((format(printf, 4, 0)));

#define log_ratelimited(level, ...) do {				\
		static struct log_ratelimit rl_;			\
		if (log_ratelimit_allow(&rl_))				\
			log_msg(level, __VA_ARGS__);			\
	} while (0)

#endif
