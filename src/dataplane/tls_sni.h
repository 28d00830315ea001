/* tls_sni: the server name from a TLS ClientHello (RFC 8446 4.1.2 and
 * RFC 6066 section 3) in the first payload of a TCP session. Only the
 * first segment is read: a ClientHello split across segments reports
 * TLS_SNI_TRUNCATED rather than being reassembled. */
#ifndef EGRESS_DATAPLANE_TLS_SNI_H
#define EGRESS_DATAPLANE_TLS_SNI_H

#include <stddef.h>
#include <stdint.h>

enum tls_sni_result {
	TLS_SNI_OK = 0,
	TLS_SNI_NOT_TLS,	/* not a handshake record with a ClientHello */
	TLS_SNI_NO_SNI,		/* a ClientHello without server_name */
	TLS_SNI_TRUNCATED,	/* the record continues past this segment */
	TLS_SNI_MALFORMED,
	TLS_SNI__MAX
};

/* On TLS_SNI_OK, out holds the host name, lower case, NUL-terminated. */
enum tls_sni_result tls_sni_parse(const uint8_t *payload, size_t len, char *out,
				  size_t cap);
extern const char *const tls_sni_result_names[TLS_SNI__MAX];

#endif
