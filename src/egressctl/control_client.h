/* control_client: egressctl's side of egressd's control socket,
 * $EGRESS_CONTROL_DIR/IFNAME.ctl (default /var/run/egress). One request
 * per connection: "COMMAND key=value ...\n\n"; the answer is read until
 * its empty line or EOF, however long (docs/control.md). */
#ifndef EGRESS_EGRESSCTL_CONTROL_CLIENT_H
#define EGRESS_EGRESSCTL_CONTROL_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#define CONTROL_CLIENT_DIR         "/var/run/egress"
#define CONTROL_CLIENT_DIR_ENV     "EGRESS_CONTROL_DIR"
#define CONTROL_CLIENT_MAX_REQUEST 4096	/* egressd refuses longer requests */
#define CONTROL_CLIENT_TIMEOUT_S   30	/* per read or write, not in total */

struct control_request {
	char text[CONTROL_CLIENT_MAX_REQUEST];
	size_t len;
};

/* An answer without its closing empty line; buf is NUL-terminated. */
struct control_answer {
	char *buf;
	size_t len;
};

void control_request_init(struct control_request *req, const char *command);
/* Appends " key=value". -EINVAL when the value is empty or holds
 * whitespace, '=' or a control character; -E2BIG when the request would
 * exceed what egressd accepts. */
int control_request_add(struct control_request *req, const char *key, const char *value);

/* Connects, sends, reads the answer. On failure prints why on stderr
 * (naming the socket) and returns -errno. */
int control_call(const char *ifname, const struct control_request *req,
		 struct control_answer *ans);

/* Cuts a complete answer buffer at its first empty line (the closing
 * "\n\n": the first '\n' stays, the second goes). For answers read from
 * a file (egressctl --render-file) as well as from the socket. */
void control_answer_trim(struct control_answer *ans);
void control_answer_free(struct control_answer *ans);

#endif
