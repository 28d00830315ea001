/* uapi: the cross-platform WireGuard configuration protocol
 * (https://www.wireguard.com/xplatform/), as wireguard-tools' wg(8) speaks
 * it to a userspace implementation over /var/run/wireguard/IFNAME.sock.
 * Independent of sockets and of the device: the caller frames requests with
 * uapi_request_length, hands each to uapi_handle_request and writes back the
 * answer; the device is reached only through struct uapi_ops.
 *
 * Behaviour follows wireguard-go v0.0.20220316 (keys, their order in "get",
 * which values are accepted, the negative errno numbers it answers with, the
 * "errno=N\n\n" framing). Deliberate deviations, see docs/uapi.md:
 *  - A "set" is all-or-nothing. wireguard-go applies each line as it reads
 *    it, so a request failing on line 7 leaves lines 1-6 applied; here the
 *    whole request is parsed and checked first, and ops->set is called only
 *    when every line was valid.
 *  - A "set" is acted on only once its terminating empty line has arrived
 *    (wireguard-go also applies a request cut short by end of file).
 *  - Pipelined requests on one connection are all answered (wireguard-go
 *    loses whatever follows a "set" in its read buffer).
 *  - A request larger than UAPI_MAX_REQUEST is refused (wireguard-go has no
 *    bound). In allowed_ip, a signed prefix length ("/+8") and IPv6 groups
 *    of more than four digits ("00000::") are refused; Go 1.18's netip
 *    accepted both, later Go does not, wg(8) never sends them. */
#ifndef EGRESS_WG_UAPI_H
#define EGRESS_WG_UAPI_H

#include <stddef.h>
#include <sys/types.h>

#include "wg/config.h"

/* The largest request accepted, terminating empty line included. */
#define UAPI_MAX_REQUEST (8u << 20)
/* The longest line in a "set", newline excluded: that of wireguard-go's
 * bufio.Scanner (64 KiB buffer). A longer line is answered UAPI_ERROR_IO. */
#define UAPI_MAX_LINE 65535u

/* The errno values wireguard-go answers with (package ipc, on Unix). */
enum {
	UAPI_ERROR_IO = -5,		/* -EIO: line too long, get failed */
	UAPI_ERROR_PROTOCOL = -71,	/* -EPROTO: a line without '=' */
	UAPI_ERROR_INVALID = -22,	/* -EINVAL: unknown key, bad value */
	UAPI_ERROR_PORT_IN_USE = -98,	/* -EADDRINUSE: bind / fwmark failed */
	UAPI_ERROR_UNKNOWN = -55,	/* -ENOANO: anything else */
};

struct uapi_ops {
	/* Fills *out (zeroed on entry) with the device's current state:
	 * private key, listen port, fwmark, every peer with keys, endpoint,
	 * last handshake, rx/tx, keepalive, allowed IPs. has_* flags are not
	 * looked at: zero private key, listen port and fwmark are left out of
	 * the answer as wireguard-go does, an endpoint of family AF_UNSPEC
	 * too. Returns 0 or -errno. uapi frees *out (wiping keys). */
	int (*get)(void *ctx, struct wg_device_conf *out);
	/* Applies a whole parsed set request atomically; 0 or -errno, which
	 * is answered as is (wireguard-go answers -EADDRINUSE when the port
	 * cannot be bound or the fwmark set). What wireguard-go does and the
	 * device must do too:
	 *  - replace_peers removes every peer before any peer of the request
	 *    is applied; a new private key removes a peer with the matching
	 *    public key; the private key is stored clamped (and so shown).
	 *  - conf->peers are applied in order; one public key may appear in
	 *    several of them (removed, then added again).
	 *  - remove: remove the peer if present; its other fields are cleared
	 *    by the parser. update_only: when the peer does not exist (at
	 *    that point of the request) ignore the whole entry.
	 *  - an entry whose public key is the device's own (after any new
	 *    private key of this request) is ignored.
	 *  - replace_allowed_ips: drop the peer's allowed IPs, then add the
	 *    listed ones (already masked to their prefix); an allowed IP owned
	 *    by another peer moves to this one.
	 *  - a persistent keepalive going from 0 to nonzero sends a keepalive
	 *    at once. */
	int (*set)(void *ctx, const struct wg_device_conf *conf);
};

/* Length of the first complete request in buf, 0 if not complete yet,
 * -EMSGSIZE when none is complete within UAPI_MAX_REQUEST bytes.
 * "get=1\n" is complete with one more byte ("\n" when well formed, as
 * wireguard-go reads it); "set=1\n" with its first empty line ("\r\n" counts
 * as empty, wireguard-go strips a CR before the newline); any other first
 * line is complete as soon as it is known to be no operation (at most six
 * bytes), and uapi_handle_request refuses it. */
ssize_t uapi_request_length(const char *buf, size_t len);

/* Handles one complete request. On 0, *resp is malloc'd (free it with
 * uapi_free_response: a get answer holds the private key), always ends with
 * "errno=N\n\n" as wireguard-go answers (N is 0 or a negative errno).
 * Returns -errno, with *resp NULL, for a request so malformed that the
 * connection should be closed without an answer (no operation: -EPROTO,
 * as wireguard-go hangs up) or when out of memory. */
int uapi_handle_request(const struct uapi_ops *ops, void *ctx, const char *req,
			size_t len, char **resp, size_t *resp_len);

/* Parses the body of a "set" (the lines after "set=1\n", up to the first
 * empty line or the end of body) into *out, which it initialises. Returns 0,
 * or one of the UAPI_ERROR_* values / -ENOMEM with a message in err and
 * *out freed. */
int uapi_parse_set(const char *body, size_t len, struct wg_device_conf *out,
		   char *err, size_t errcap);

/* Formats the body of a "get" answer (without the "errno=0\n\n" that ends
 * it) into a malloc'd *out. Returns 0 or -ENOMEM. */
int uapi_format_get(const struct wg_device_conf *conf, char **out, size_t *outlen);

/* Wipes and frees an answer. */
void uapi_free_response(char *resp, size_t len);

#endif
