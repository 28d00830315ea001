/* diag: the errors of one load, each "file:line:col: message". Every check
 * reports and carries on, so an operator sees every error in one run
 * (OpenBGPD's habit). Errors are handed out sorted by where they are in the
 * document; an error inside a prefix list file sorts at the line of the
 * document that names the file. */
#ifndef EGRESS_POLICY_DIAG_H
#define EGRESS_POLICY_DIAG_H

#include <stdbool.h>
#include <stddef.h>

#include "policy/policy.h"

#define POLICY_MAX_ERRORS 1000

struct doc_node;
struct diag_entry;

struct policy_diag {
	const char *file;		/* the document's name in messages */
	struct diag_entry *v;
	size_t n, cap;
	size_t dropped;			/* over POLICY_MAX_ERRORS, or no memory */
};

void policy_diag_init(struct policy_diag *d, const char *file);
void policy_diag_free(struct policy_diag *d);
static inline bool policy_diag_failed(const struct policy_diag *d)
{
	return d->n || d->dropped;
}

/* At a node of the document (NULL: the document as a whole). */
void policy_diag_at(struct policy_diag *d, const struct doc_node *at,
		    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* At line:col of the document (0 = unknown). */
void policy_diag_pos(struct policy_diag *d, unsigned line, unsigned col,
		     const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* In another file (line 0 = the file as a whole), sorted at `anchor`. */
void policy_diag_file(struct policy_diag *d, const char *file, unsigned line,
		      unsigned col, const struct doc_node *anchor,
		      const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* Moves the sorted messages into errs (which may be NULL). */
void policy_diag_move(struct policy_diag *d, struct policy_errors *errs);

#endif
