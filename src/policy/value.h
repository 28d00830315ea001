/* value: scalars of the document turned into typed values, each reporting
 * its own error at the scalar's line:col ("bad duration "10x": ..."). All
 * return false (after reporting) when the value is unusable; callers keep
 * walking so that every error is found. */
#ifndef EGRESS_POLICY_VALUE_H
#define EGRESS_POLICY_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"
#include "common/monotime.h"
#include "policy/policy.h"

struct doc_node;
struct policy_diag;

/* A scalar that is not null; `what` names it in messages. */
bool policy_val_scalar(struct policy_diag *d, const struct doc_node *n, const char *what);
/* A sequence (or null, an empty one). Sets *items and *count. */
bool policy_val_list(struct policy_diag *d, const struct doc_node *n, const char *what,
		     struct doc_node *const **items, size_t *count);

/* [A-Za-z0-9_.-]{1,63}; kind is "region", "node", ... */
bool policy_val_name_ok(const char *s);
bool policy_val_name(struct policy_diag *d, const struct doc_node *n, const char *kind,
		     char out[POLICY_NAME_MAX]);
bool policy_val_text(struct policy_diag *d, const struct doc_node *n, const char *what,
		     char *out, size_t cap);

bool policy_val_uint(struct policy_diag *d, const struct doc_node *n, const char *what,
		     uint64_t min, uint64_t max, uint64_t *out);
bool policy_val_number(struct policy_diag *d, const struct doc_node *n, const char *what,
		       double min, double max, double *out);
bool policy_val_bool(struct policy_diag *d, const struct doc_node *n, const char *what,
		     bool *out);
/* "100ms", "1s", "2m", "2h", a plain number = seconds; at least min_ns. */
bool policy_val_duration(struct policy_diag *d, const struct doc_node *n, const char *what,
			 monotime_ns min_ns, monotime_ns *out);
/* "15%" or 15; 0..100. */
bool policy_val_percent(struct policy_diag *d, const struct doc_node *n, const char *what,
			double *out);

bool policy_val_key(struct policy_diag *d, const struct doc_node *n,
		    uint8_t out[POLICY_KEY_LEN]);
bool policy_val_addr(struct policy_diag *d, const struct doc_node *n, const char *what,
		     struct ip_addr *out);
/* Host bits must be zero. */
bool policy_val_prefix(struct policy_diag *d, const struct doc_node *n, const char *what,
		       struct ip_prefix *out);
/* The same for a prefix in text (a prefix list line); the message
 * without position into msg. */
bool policy_prefix_text(const char *s, struct ip_prefix *out, char *msg, size_t cap);
/* Two uppercase letters. */
bool policy_val_country(struct policy_diag *d, const struct doc_node *n, char out[3]);
/* 5060 or "3478-3481"; 1..65535, lo <= hi. */
bool policy_val_ports(struct policy_diag *d, const struct doc_node *n,
		      struct policy_port_range *out);
/* 0..63 or EF, AF11..AF43, CS0..CS7. */
bool policy_val_dscp(struct policy_diag *d, const struct doc_node *n, uint8_t *out);
/* tcp, udp, icmp or 1..255. */
bool policy_val_protocol(struct policy_diag *d, const struct doc_node *n, uint8_t *out);

#endif
