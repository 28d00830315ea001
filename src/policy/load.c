/* load: the life of a struct policy. A load reads the document, walks it
 * section by section in dependency order, checks what needs the whole
 * document, compiles, and either returns the finished policy or drops
 * everything (one arena) and returns the errors. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/crypto.h"
#include "policy/arena.h"
#include "policy/diag.h"
#include "policy/doc.h"
#include "policy/geoip.h"
#include "policy/policy_internal.h"
#include "policy/value.h"

enum top_key {
	TOP_VERSION, TOP_GEOIP, TOP_OVERLAY, TOP_SETTINGS, TOP_REGIONS, TOP_NODES, TOP_POOLS,
	TOP_GROUPS, TOP_USERS, TOP_DESTINATIONS, TOP_CLASSES, TOP_RULES, TOP_DEFAULT,
};

static const char *const top_keys[] = {
	"version", "geoip", "overlay", "settings", "regions", "nodes", "pools", "groups",
	"users", "destinations", "classes", "rules", "default", NULL,
};

static void load_free_compiled(struct policy_compiled *c)
{
	if (c->has_geoip)
		policy_geoip_close(&c->geoip);
	policy_setlists_free(&c->lists);
	policy_domain_map_free(&c->domains);
	policy_strmap_free(&c->node_names);
	policy_strmap_free(&c->user_names);
	policy_strmap_free(&c->class_names);
	policy_strmap_free(&c->node_keys);
	policy_strmap_free(&c->device_keys);
}

static void load_destroy(struct policy *p)
{
	struct policy_compiled *c = p->compiled;

	load_free_compiled(c);
	policy_arena_destroy(c->arena);
}

static struct policy *load_new(void)
{
	struct policy_arena *a = policy_arena_create();
	struct policy *p = a ? policy_arena_alloc(a, 1, sizeof(*p)) : NULL;
	struct policy_compiled *c = p ? policy_arena_alloc(a, 1, sizeof(*c)) : NULL;

	if (!c || !policy_setlists_init(&c->lists)) {
		policy_arena_destroy(a);
		return NULL;
	}
	c->arena = a;
	p->compiled = c;
	p->refs = 1;
	return p;
}

static void load_version(struct policy_build *b, const struct doc_node *n)
{
	uint64_t v;

	if (!n) {
		policy_diag_pos(b->diag, 1, 1, "missing \"version: 1\"");
		return;
	}
	if (policy_val_uint(b->diag, n, "version", 0, UINT32_MAX, &v) && v != 1)
		policy_diag_at(b->diag, n, "unsupported version %llu; this egress reads "
			       "version 1", (unsigned long long)v);
}

static void load_geoip(struct policy_build *b, const struct doc_node *n)
{
	struct policy_compiled *c = b->p->compiled;
	char msg[256];

	if (!n || !policy_val_scalar(b->diag, n, "geoip"))
		return;
	b->geoip_at = n;
	b->geoip_path = policy_build_path(b, n, "geoip file");
	if (!b->geoip_path)
		return;
	if (!policy_geoip_open(&c->geoip, b->geoip_path, msg, sizeof(msg)))
		policy_diag_at(b->diag, n, "cannot open geoip file \"%s\": %s", b->geoip_path,
			       msg);
	else
		c->has_geoip = true;
}

static void load_default(struct policy_build *b, const struct doc_node *n)
{
	b->p->default_action = POLICY_ALLOW;
	if (!n || !policy_val_scalar(b->diag, n, "default"))
		return;
	if (!strcmp(n->str, "deny"))
		b->p->default_action = POLICY_DENY;
	else if (strcmp(n->str, "allow"))
		policy_diag_at(b->diag, n, "bad default \"%.64s\": expected allow or deny",
			       n->str);
}

/* Sections in the order their references need. */
static bool load_walk(struct policy_build *b, const struct doc_node *root)
{
	struct doc_fields f = { .keys = top_keys };

	if (root->type != DOC_MAP) {
		policy_diag_at(b->diag, root, "the document must be a mapping (version: 1, "
			       "nodes: ..., ...)");
		return false;
	}
	policy_doc_fields(b->diag, root, "the document", &f);
	load_version(b, f.vals[TOP_VERSION]);
	load_geoip(b, f.vals[TOP_GEOIP]);
	policy_parse_overlay(b, f.vals[TOP_OVERLAY]);
	policy_parse_settings(b, f.vals[TOP_SETTINGS]);
	policy_parse_regions(b, f.vals[TOP_REGIONS]);
	policy_parse_nodes(b, f.vals[TOP_NODES]);
	b->pools_at = f.keynodes[TOP_POOLS];
	policy_parse_pools(b, f.vals[TOP_POOLS]);
	policy_parse_groups(b, f.vals[TOP_GROUPS]);
	policy_parse_users(b, f.vals[TOP_USERS]);
	if (f.vals[TOP_CLASSES] && f.vals[TOP_CLASSES]->type == DOC_SEQ)
		b->max_inline_dests = f.vals[TOP_CLASSES]->n;
	policy_parse_destinations(b, f.vals[TOP_DESTINATIONS]);
	policy_parse_classes(b, f.vals[TOP_CLASSES]);
	policy_parse_rules(b, f.vals[TOP_RULES]);
	load_default(b, f.vals[TOP_DEFAULT]);
	return true;
}

static void load_build_free(struct policy_build *b)
{
	for (int k = 0; k < KIND__MAX; k++)
		policy_strmap_free(&b->names[k]);
	free(b->dest_prefixes.v);
	free(b->region_prefixes.v);
	free(b->region_prefix_at.v);
}

/* Parse, check, compile; false if anything was reported. */
static bool load_run(struct policy_build *b, const char *buf, size_t len)
{
	struct policy_arena *doc_arena = policy_arena_create();
	struct doc_node *root;
	bool ok = false;

	if (!doc_arena) {
		policy_diag_pos(b->diag, 0, 0, "out of memory");
		return false;
	}
	root = policy_doc_parse(buf, len, doc_arena, b->diag);
	/* Checks run after parse errors too: every error in one run. */
	if (root && load_walk(b, root))
		policy_check(b);
	if (!policy_diag_failed(b->diag))
		ok = policy_compile(b);
	policy_arena_destroy(doc_arena);
	return ok && !policy_diag_failed(b->diag);
}

struct policy *policy_load_buffer(const char *name, const char *buf, size_t len,
				  const char *base_dir, struct policy_errors *errs)
{
	struct policy_diag diag;
	struct policy_build b = { .diag = &diag, .base_dir = base_dir };
	struct policy *p;

	if (!name)
		name = "policy";
	policy_diag_init(&diag, name);
	if (errs)
		memset(errs, 0, sizeof(*errs));
	p = load_new();
	if (!p) {
		policy_diag_pos(&diag, 0, 0, "out of memory");
	} else if (!crypto_init()) {
		policy_diag_pos(&diag, 0, 0, "cannot initialise the crypto library");
	} else if (len > DOC_MAX_BYTES) {
		policy_diag_pos(&diag, 0, 0, "the document is larger than %u MiB",
				DOC_MAX_BYTES >> 20);
	} else {
		b.p = p;
		b.arena = p->compiled->arena;
		b.dest_prefixes.size = sizeof(struct prefix_map_entry);
		b.region_prefixes.size = sizeof(struct prefix_map_entry);
		b.region_prefix_at.size = sizeof(const struct doc_node *);
		snprintf(p->source, sizeof(p->source), "%s", name);
		blake2s_hash(p->digest, buf, len, NULL, 0);
		if (load_run(&b, buf, len)) {
			load_build_free(&b);
			policy_diag_free(&diag);
			return p;
		}
	}
	load_build_free(&b);
	if (p)
		load_destroy(p);
	policy_diag_move(&diag, errs);
	return NULL;
}

char *policy_read_file(const char *path, size_t max, size_t *len, char *msg, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	struct stat st;
	char *buf = NULL;
	ssize_t r;

	if (fd < 0 || fstat(fd, &st) != 0) {
		snprintf(msg, cap, "%s", strerror(errno));
		goto out_close;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(msg, cap, "not a regular file");
		goto out_close;
	}
	if ((size_t)st.st_size > max) {
		snprintf(msg, cap, "larger than %zu MiB", max >> 20);
		goto out_close;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		snprintf(msg, cap, "out of memory");
		goto out_close;
	}
	*len = 0;
	while ((r = read(fd, buf + *len, (size_t)st.st_size - *len)) > 0)
		*len += (size_t)r;
	if (r < 0) {
		snprintf(msg, cap, "%s", strerror(errno));
		free(buf);
		buf = NULL;
		goto out_close;
	}
	buf[*len] = '\0';
out_close:
	if (fd >= 0)
		close(fd);
	return buf;
}

struct policy *policy_load_file(const char *path, struct policy_errors *errs)
{
	char msg[256], *dir_copy, *buf;
	struct policy *p = NULL;
	size_t len;

	if (errs)
		memset(errs, 0, sizeof(*errs));
	buf = policy_read_file(path, DOC_MAX_BYTES, &len, msg, sizeof(msg));
	dir_copy = strdup(path);
	if (buf && dir_copy) {
		p = policy_load_buffer(path, buf, len, dirname(dir_copy), errs);
	} else if (errs) {
		struct policy_diag diag;

		policy_diag_init(&diag, path);
		policy_diag_pos(&diag, 0, 0, "cannot read policy: %s", buf ? "out of memory" : msg);
		policy_diag_move(&diag, errs);
	}
	free(dir_copy);
	free(buf);
	return p;
}

size_t policy_memory_bytes(const struct policy *p)
{
	const struct policy_compiled *c = p->compiled;
	const struct setlists *l = &c->lists;

	return policy_arena_bytes(c->arena) + policy_strmap_bytes(&c->domains.exact) +
	       policy_strmap_bytes(&c->domains.below) + policy_strmap_bytes(&c->node_names) +
	       policy_strmap_bytes(&c->user_names) + policy_strmap_bytes(&c->class_names) +
	       policy_strmap_bytes(&c->node_keys) + policy_strmap_bytes(&c->device_keys) +
	       (l->cap_items + l->cap_lists + 1 + l->mask + 1) * sizeof(uint32_t);
}

struct policy *policy_ref(struct policy *p)
{
	if (p)
		__atomic_add_fetch(&p->refs, 1, __ATOMIC_RELAXED);
	return p;
}

void policy_unref(struct policy *p)
{
	if (p && __atomic_sub_fetch(&p->refs, 1, __ATOMIC_ACQ_REL) == 0)
		load_destroy(p);
}
