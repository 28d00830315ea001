/* parse_traffic: what traffic is: destination sets (domains, countries,
 * prefixes, prefix list files, regions), traffic classes (ordered, first
 * match wins, with objective and constraints) and access rules (ordered,
 * first match wins). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cursor.h"
#include "policy/arena.h"
#include "policy/diag.h"
#include "policy/doc.h"
#include "policy/policy_internal.h"
#include "policy/value.h"

/* ---- destination sets ---- */

struct dest_parts {
	const struct doc_node *domains, *countries, *prefixes, *files, *regions;
};

static void dest_domains(struct policy_build *b, struct policy_dest_def *def, uint32_t set,
			 const struct doc_node *n)
{
	struct doc_node *const *items;
	char norm[DOMAIN_MAX + 1], msg[256];
	size_t len;

	if (!policy_val_list(b->diag, n, "domains", &items, &len) || !len)
		return;
	def->domains = policy_arena_alloc(b->arena, len, sizeof(*def->domains));
	for (size_t i = 0; def->domains && i < len; i++) {
		struct domain_entry *e = &def->domains[def->n_domains];

		if (!policy_val_scalar(b->diag, items[i], "domain"))
			continue;
		if (!policy_domain_pattern(items[i]->str, norm, &e->below, msg, sizeof(msg))) {
			policy_diag_at(b->diag, items[i], "%s", msg);
			continue;
		}
		e->name = policy_arena_strndup(b->arena, norm, strlen(norm));
		e->set = set;
		if (e->name)
			def->n_domains++;
	}
}

/* Direct countries plus those of the regions named. */
static void dest_countries(struct policy_build *b, struct policy_dest_def *def,
			   const struct dest_parts *parts, const uint32_t *regions,
			   size_t n_regions)
{
	struct doc_node *const *items;
	size_t len = 0, cap;

	policy_val_list(b->diag, parts->countries, "countries", &items, &len);
	cap = len;
	for (size_t i = 0; i < n_regions; i++)
		cap += b->p->regions[regions[i]].n_countries;
	if (!cap)
		return;
	def->countries = policy_arena_alloc(b->arena, cap, sizeof(*def->countries));
	if (!def->countries)
		return;
	for (size_t i = 0; i < len; i++)
		if (policy_val_country(b->diag, items[i], def->countries[def->n_countries]))
			def->n_countries++;
	if (len)
		def->countries_at = parts->countries;
	for (size_t i = 0; i < n_regions; i++) {
		const struct policy_region *r = &b->p->regions[regions[i]];

		if (!r->n_countries)
			continue;
		memcpy(def->countries[def->n_countries], r->countries,
		       r->n_countries * sizeof(*r->countries));
		def->n_countries += r->n_countries;
		if (r->n_countries && !def->countries_at)
			def->countries_at = parts->regions;
	}
}

static void dest_add_prefix(struct policy_build *b, const struct ip_prefix *pfx, uint32_t set)
{
	struct prefix_map_entry *e = policy_vec_push(&b->dest_prefixes);

	if (e)
		*e = (struct prefix_map_entry){ .prefix = *pfx, .value = set };
}

static void dest_prefixes(struct policy_build *b, uint32_t set, const struct doc_node *n)
{
	struct doc_node *const *items;
	struct ip_prefix pfx;
	size_t len;

	if (!policy_val_list(b->diag, n, "prefixes", &items, &len))
		return;
	for (size_t i = 0; i < len; i++)
		if (policy_val_prefix(b->diag, items[i], "prefix", &pfx))
			dest_add_prefix(b, &pfx, set);
}

static void dest_region_prefixes(struct policy_build *b, uint32_t set, const uint32_t *regions,
				 size_t n_regions)
{
	const struct prefix_map_entry *rp = b->region_prefixes.v;

	for (size_t i = 0; i < n_regions; i++) {
		size_t off = b->region_pfx_off[regions[i]], n = b->region_pfx_n[regions[i]];

		for (size_t j = 0; j < n; j++)
			dest_add_prefix(b, &rp[off + j].prefix, set);
	}
}

/* Fills destination set `set` from its parts; false if it would be empty. */
static bool dest_fill(struct policy_build *b, uint32_t set, const struct dest_parts *parts)
{
	struct policy_dest_def *def = &b->dests[set];
	size_t before = b->dest_prefixes.n, n_regions = 0, n_files;
	struct doc_node *const *files;
	uint32_t *regions = NULL;

	dest_domains(b, def, set, parts->domains);
	policy_build_refs(b, KIND_REGION, parts->regions, "regions", &regions, &n_regions);
	dest_countries(b, def, parts, regions, n_regions);
	dest_prefixes(b, set, parts->prefixes);
	dest_region_prefixes(b, set, regions, n_regions);
	if (policy_val_list(b->diag, parts->files, "prefix_files", &files, &n_files))
		for (size_t i = 0; i < n_files; i++)
			if (policy_val_scalar(b->diag, files[i], "prefix file"))
				policy_parse_prefix_file(b, files[i], set);
	return def->n_domains || def->n_countries || b->dest_prefixes.n > before ||
	       n_regions || n_files;
}

void policy_parse_inline_dest(struct policy_build *b, uint32_t set,
			      const struct doc_node *domains, const struct doc_node *countries,
			      const struct doc_node *prefixes)
{
	struct dest_parts parts = { domains, countries, prefixes, NULL, NULL };

	if (!dest_fill(b, set, &parts))
		policy_diag_at(b->diag, b->dests[set].at, "the match's destinations are empty");
}

static const char *const dest_keys[] = {
	"domains", "countries", "prefixes", "prefix_files", "regions", NULL,
};

static void dest_parse(struct policy_build *b, uint32_t set, const struct doc_node *name,
		       const struct doc_node *n)
{
	struct doc_fields f = { .keys = dest_keys };
	struct dest_parts parts;
	char what[96];

	snprintf(what, sizeof(what), "destination \"%s\"", b->p->dest_sets[set].name);
	b->dests[set].at = name;
	if (!policy_doc_fields(b->diag, n, what, &f))
		return;
	parts = (struct dest_parts){ f.vals[0], f.vals[1], f.vals[2], f.vals[3], f.vals[4] };
	if (!dest_fill(b, set, &parts))
		policy_diag_at(b->diag, name, "destination \"%s\" is empty; give domains, "
			       "countries, prefixes, prefix_files or regions",
			       b->p->dest_sets[set].name);
}

void policy_parse_destinations(struct policy_build *b, const struct doc_node *n)
{
	struct policy *p = b->p;
	size_t named = n && n->type == DOC_MAP ? n->n : 0;
	size_t cap = named + b->max_inline_dests + 1;

	p->dest_sets = policy_arena_alloc(b->arena, cap, sizeof(*p->dest_sets));
	b->dests = policy_arena_alloc(b->arena, cap, sizeof(*b->dests));
	b->at[KIND_DEST] = policy_arena_alloc(b->arena, cap, sizeof(void *));
	if (!p->dest_sets || !b->dests || !b->at[KIND_DEST])
		return;
	if (n && !policy_doc_is_null(n) && n->type != DOC_MAP) {
		policy_diag_at(b->diag, n, "destinations must be a mapping of name: settings");
		return;
	}
	for (uint32_t i = 0; i < named; i++) {
		struct policy_dest_set *ds = &p->dest_sets[i];

		b->at[KIND_DEST][i] = n->pairs[i].key;
		if (policy_val_name(b->diag, n->pairs[i].key, "destination", ds->name)) {
			ds->id = policy_name_id(ds->name);
			policy_build_name(b, KIND_DEST, n->pairs[i].key, ds->name, i);
		}
	}
	p->n_dest_sets = b->n_named_dests = named;
	for (uint32_t i = 0; i < named; i++)
		dest_parse(b, i, n->pairs[i].key, n->pairs[i].value);
}

/* ---- prefix list files ---- */

/* One line: "# comment", blank, or a prefix (surrounding blanks allowed). */
static void prefix_line(struct policy_build *b, const struct doc_node *at, const char *path,
			unsigned lineno, const char *s, size_t len, uint32_t set)
{
	const char *hash = memchr(s, '#', len);
	char text[IP_PREFIX_STRLEN + 16], msg[256];
	struct ip_prefix pfx;
	size_t start = 0;

	if (hash)
		len = (size_t)(hash - s);
	while (start < len && (s[start] == ' ' || s[start] == '\t'))
		start++;
	while (len > start && strchr(" \t\r", s[len - 1]))
		len--;
	if (start == len)
		return;
	if (len - start >= sizeof(text) || memchr(s + start, '\0', len - start)) {
		policy_diag_file(b->diag, path, lineno, (unsigned)start + 1, at,
				 "bad prefix: expected one prefix per line");
		return;
	}
	memcpy(text, s + start, len - start);
	text[len - start] = '\0';
	if (!policy_prefix_text(text, &pfx, msg, sizeof(msg)))
		policy_diag_file(b->diag, path, lineno, (unsigned)start + 1, at, "%s", msg);
	else
		dest_add_prefix(b, &pfx, set);
}

void policy_parse_prefix_file(struct policy_build *b, const struct doc_node *at, uint32_t set)
{
	char *path = policy_build_path(b, at, "prefix file"), msg[256], *buf;
	struct cursor c;
	unsigned lineno = 0;
	size_t len = 0;

	if (!path)
		return;
	buf = policy_read_file(path, DOC_MAX_BYTES, &len, msg, sizeof(msg));
	if (!buf) {
		policy_diag_at(b->diag, at, "cannot read prefix file \"%s\": %s", path, msg);
		return;
	}
	c = cursor_init(buf, len);
	while (c.left) {
		const uint8_t *nl = memchr(c.p, '\n', c.left);
		size_t n = nl ? (size_t)(nl - c.p) + 1 : c.left;
		const char *line = (const char *)rd_ptr(&c, n);

		prefix_line(b, at, path, ++lineno, line, nl ? n - 1 : n, set);
	}
	free(buf);
}
