/* state_file: what the agent keeps on disk under the state directory, so
 * a node survives a restart with its controller down (fail-static):
 *
 *   NODE.credential      the node credential from enrollment (0600)
 *   NODE.policy.yaml     the last policy this node applied successfully
 *   NODE.policy.version  its controller version, "N\n"
 *   NODE.policy.new.yaml a fetched policy while the node tries it
 *
 * Every write is atomic: a temporary file, fsync, rename, fsync of the
 * directory; a crash leaves the old file or the new one, never half. */
#ifndef EGRESS_AGENT_STATE_FILE_H
#define EGRESS_AGENT_STATE_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define STATE_FILE_PATH_MAX 4096

enum state_file_kind {
	STATE_CREDENTIAL, STATE_POLICY, STATE_POLICY_VERSION, STATE_POLICY_NEW,
};

/* dir/NODE.<suffix of kind>; false when it does not fit. */
bool state_file_path(char *out, size_t cap, const char *dir, const char *node,
		     enum state_file_kind kind);
/* Returns 0 or -errno; mode applies to the new file. */
int state_file_write(const char *path, const void *data, size_t len, mode_t mode);
/* The whole file, NUL-terminated, at most max bytes (-EFBIG beyond);
 * *out is malloc'ed. Returns the length or -errno. */
ssize_t state_file_read(const char *path, size_t max, char **out);
/* The persisted policy version; 0 when none or unreadable. */
uint64_t state_file_read_version(const char *path);
/* Renames from -> to and syncs the directory: 0 or -errno. */
int state_file_promote(const char *from, const char *to);
/* mkdir -p of dir with mode 0700 for the last component. */
int state_file_mkdir(const char *dir);

#endif
