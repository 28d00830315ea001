/* arena: memory that is freed all at once (BIRD's resource pools). A
 * compiled policy lives in one arena, the document tree in another; a
 * failed load drops the arena and nothing half-built escapes. Not locked:
 * one builder at a time. Allocations are zeroed and 16-byte aligned. */
#ifndef EGRESS_POLICY_ARENA_H
#define EGRESS_POLICY_ARENA_H

#include <stddef.h>

struct policy_arena;

struct policy_arena *policy_arena_create(void);
void policy_arena_destroy(struct policy_arena *a);

/* NULL only when memory is exhausted or n * size overflows. */
void *policy_arena_alloc(struct policy_arena *a, size_t n, size_t size);
char *policy_arena_strndup(struct policy_arena *a, const char *s, size_t len);
void *policy_arena_memdup(struct policy_arena *a, const void *p, size_t len);
/* Bytes obtained from the system, for the benchmark's memory figure. */
size_t policy_arena_bytes(const struct policy_arena *a);

#endif
