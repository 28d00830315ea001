/* control: egressd's own control socket, /var/run/egress/IFNAME.ctl, for
 * egressctl. Text requests ending in an empty line; the first line is the
 * command. Today: "stats" (every counter, "name value" per line). Later
 * issues add paths, flows and explain here. */
#ifndef EGRESS_EGRESSD_CONTROL_H
#define EGRESS_EGRESSD_CONTROL_H

#include <stddef.h>
#include <sys/types.h>

#include "wg/device.h"

#define CONTROL_DIR "/var/run/egress"
#define CONTROL_MAX_REQUEST 4096

ssize_t control_request_length(const char *buf, size_t len);
/* ctx: the struct wg_device. */
int control_handle_request(void *ctx, const char *req, size_t len, char **resp,
			   size_t *resp_len);

#endif
