/* doc: libyaml events -> tree. A stack of open collections collects their
 * children in growable arrays, copied into the arena when they close.
 * Limits (size, depth, node count) are checked here so that no input can
 * make the walk that follows expensive. */
#include "policy/doc.h"

#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "policy/arena.h"
#include "policy/diag.h"
#include "policy/strmap.h"

struct doc_frame {
	struct doc_node *node;
	struct doc_node **kids;
	size_t n, cap;
};

struct doc_builder {
	struct policy_arena *arena;
	struct policy_diag *diag;
	const char *buf;
	size_t len;
	struct doc_frame stack[DOC_MAX_DEPTH];
	size_t depth;
	struct doc_node *root;
	size_t n_nodes, n_docs;
	bool failed;
};

static void doc_fail_at(struct doc_builder *b, const yaml_mark_t *m, const char *msg,
			const char *detail)
{
	policy_diag_pos(b->diag, (unsigned)m->line + 1, (unsigned)m->column + 1, "%s%s%s",
			msg, detail ? ": " : "", detail ? detail : "");
	b->failed = true;
}

static struct doc_node *doc_node_new(struct doc_builder *b, enum doc_type t,
				     const yaml_mark_t *m)
{
	struct doc_node *n;

	if (++b->n_nodes > DOC_MAX_NODES) {
		doc_fail_at(b, m, "document has too many nodes", NULL);
		return NULL;
	}
	n = policy_arena_alloc(b->arena, 1, sizeof(*n));
	if (!n) {
		doc_fail_at(b, m, "out of memory", NULL);
		return NULL;
	}
	n->type = (uint8_t)t;
	n->line = (uint32_t)m->line + 1;
	n->col = (uint32_t)m->column + 1;
	return n;
}

static bool doc_frame_push_kid(struct doc_builder *b, struct doc_frame *f,
			       struct doc_node *kid)
{
	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 8;
		struct doc_node **k = realloc(f->kids, cap * sizeof(*k));

		if (!k) {
			b->failed = true;
			return false;
		}
		f->kids = k;
		f->cap = cap;
	}
	f->kids[f->n++] = kid;
	return true;
}

/* Hands a finished node to its parent (or makes it the root). */
static void doc_attach(struct doc_builder *b, struct doc_node *n, const yaml_mark_t *m)
{
	struct doc_frame *top;

	if (b->depth == 0) {
		b->root = n;
		return;
	}
	top = &b->stack[b->depth - 1];
	if (top->node->type == DOC_MAP && top->n % 2 == 0 && n->type != DOC_SCALAR) {
		doc_fail_at(b, m, "a mapping key must be a plain string", NULL);
		return;
	}
	doc_frame_push_kid(b, top, n);
}

static void doc_on_scalar(struct doc_builder *b, const yaml_event_t *ev)
{
	const char *v = (const char *)ev->data.scalar.value;
	size_t len = ev->data.scalar.length;
	struct doc_node *n;

	if (memchr(v, '\0', len)) {
		doc_fail_at(b, &ev->start_mark, "a string holds a NUL character", NULL);
		return;
	}
	n = doc_node_new(b, DOC_SCALAR, &ev->start_mark);
	if (!n)
		return;
	n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
	n->str = policy_arena_strndup(b->arena, v, len);
	n->n = (uint32_t)len;
	if (!n->str) {
		doc_fail_at(b, &ev->start_mark, "out of memory", NULL);
		return;
	}
	doc_attach(b, n, &ev->start_mark);
}

static void doc_on_start(struct doc_builder *b, const yaml_event_t *ev, enum doc_type t)
{
	struct doc_node *n;

	if (b->depth == DOC_MAX_DEPTH) {
		doc_fail_at(b, &ev->start_mark, "nesting is too deep", NULL);
		return;
	}
	n = doc_node_new(b, t, &ev->start_mark);
	if (!n)
		return;
	b->stack[b->depth++] = (struct doc_frame){ .node = n };
}

static void doc_on_end(struct doc_builder *b, const yaml_event_t *ev)
{
	struct doc_frame *f = &b->stack[--b->depth];
	struct doc_node *n = f->node;

	if (n->type == DOC_SEQ) {
		n->n = (uint32_t)f->n;
		n->items = policy_arena_memdup(b->arena, f->kids, f->n * sizeof(*f->kids));
	} else {
		n->n = (uint32_t)(f->n / 2);
		n->pairs = policy_arena_alloc(b->arena, n->n, sizeof(*n->pairs));
		for (size_t i = 0; n->pairs && i < n->n; i++)
			n->pairs[i] = (struct doc_pair){ f->kids[2 * i], f->kids[2 * i + 1] };
	}
	free(f->kids);
	f->kids = NULL;
	if (n->n && !n->items) {
		doc_fail_at(b, &ev->start_mark, "out of memory", NULL);
		return;
	}
	doc_attach(b, n, &ev->end_mark);
}

static void doc_on_event(struct doc_builder *b, const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		if (b->n_docs++)
			doc_fail_at(b, &ev->start_mark,
				    "more than one YAML document; a policy is one document",
				    NULL);
		break;
	case YAML_ALIAS_EVENT:
		doc_fail_at(b, &ev->start_mark, "YAML aliases are not supported", NULL);
		break;
	case YAML_SCALAR_EVENT:
		doc_on_scalar(b, ev);
		break;
	case YAML_SEQUENCE_START_EVENT:
		doc_on_start(b, ev, DOC_SEQ);
		break;
	case YAML_MAPPING_START_EVENT:
		doc_on_start(b, ev, DOC_MAP);
		break;
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		doc_on_end(b, ev);
		break;
	default:
		break;
	}
}

/* libyaml gives reader errors (bad UTF-8, control characters) as a byte
 * offset only. */
static yaml_mark_t doc_offset_mark(const struct doc_builder *b, size_t off)
{
	yaml_mark_t m = { 0 };
	size_t end = off < b->len ? off : b->len;

	for (size_t i = 0; i < end; i++) {
		if (b->buf[i] == '\n') {
			m.line++;
			m.column = 0;
		} else {
			m.column++;
		}
	}
	return m;
}

static void doc_syntax_error(struct doc_builder *b, const yaml_parser_t *p)
{
	yaml_mark_t m = p->problem_mark;
	char detail[256];

	if (p->error == YAML_READER_ERROR)
		m = doc_offset_mark(b, p->problem_offset);
	if (p->error == YAML_MEMORY_ERROR) {
		doc_fail_at(b, &m, "out of memory", NULL);
		return;
	}
	snprintf(detail, sizeof(detail), "%s%s%s", p->problem ? p->problem : "unknown",
		 p->context ? " " : "", p->context ? p->context : "");
	doc_fail_at(b, &m, "YAML syntax error", detail);
}

static void doc_unwind(struct doc_builder *b)
{
	while (b->depth)
		free(b->stack[--b->depth].kids);
}

struct doc_node *policy_doc_parse(const char *buf, size_t len, struct policy_arena *arena,
				  struct policy_diag *diag)
{
	struct doc_builder b = { .arena = arena, .diag = diag, .buf = buf, .len = len };
	yaml_parser_t parser;
	bool done = false;

	if (!yaml_parser_initialize(&parser)) {
		policy_diag_pos(diag, 0, 0, "out of memory");
		return NULL;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	while (!done && !b.failed) {
		yaml_event_t ev;

		if (!yaml_parser_parse(&parser, &ev)) {
			doc_syntax_error(&b, &parser);
			break;
		}
		doc_on_event(&b, &ev);
		done = ev.type == YAML_STREAM_END_EVENT;
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	doc_unwind(&b);
	if (b.failed)
		return NULL;
	if (!b.root)
		policy_diag_pos(diag, 1, 1, "the document is empty");
	return b.root;
}

bool policy_doc_is_null(const struct doc_node *n)
{
	if (!n || n->type != DOC_SCALAR || !n->plain)
		return false;
	return n->n == 0 || !strcmp(n->str, "~") || !strcmp(n->str, "null") ||
	       !strcmp(n->str, "Null") || !strcmp(n->str, "NULL");
}

/* ---- checking mappings against a schema ---- */

static size_t doc_edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[32];

	if (la >= 31 || lb >= 31)
		return 99;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j], best = diag + (a[i - 1] != b[j - 1]);

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			diag = up;
			row[j] = best;
		}
	}
	return row[lb];
}

static void doc_unknown_key(struct policy_diag *d, const struct doc_node *k,
			    const char *what, const char *const *keys)
{
	char list[512] = "";
	size_t used = 0;

	for (size_t i = 0; keys[i]; i++) {
		size_t dist = doc_edit_distance(k->str, keys[i]);

		/* A typo, not a different word: "regoin", "intervall". */
		if (dist == 1 || (dist == 2 && strlen(keys[i]) >= 5)) {
			policy_diag_at(d, k, "unknown key \"%.64s\" in %s; did you mean \"%s\"?",
				       k->str, what, keys[i]);
			return;
		}
	}
	for (size_t i = 0; keys[i] && used < sizeof(list); i++)
		used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s",
					 i ? ", " : "", keys[i]);
	policy_diag_at(d, k, "unknown key \"%.64s\" in %s; expected one of: %s", k->str,
		       what, list);
}

bool policy_doc_fields(struct policy_diag *d, const struct doc_node *n, const char *what,
		       struct doc_fields *f)
{
	memset(f->vals, 0, sizeof(f->vals));
	memset(f->keynodes, 0, sizeof(f->keynodes));
	if (!n || policy_doc_is_null(n))
		return true;
	if (n->type != DOC_MAP) {
		policy_diag_at(d, n, "%s must be a mapping (key: value)", what);
		return false;
	}
	for (size_t i = 0; i < n->n; i++) {
		const struct doc_node *k = n->pairs[i].key;
		size_t j;

		for (j = 0; f->keys[j] && strcmp(f->keys[j], k->str); j++)
			;
		if (!f->keys[j]) {
			doc_unknown_key(d, k, what, f->keys);
		} else if (f->vals[j]) {
			policy_diag_at(d, k, "duplicate key \"%s\" in %s (first at line %u)",
				       k->str, what, f->keynodes[j]->line);
		} else {
			f->vals[j] = n->pairs[i].value;
			f->keynodes[j] = k;
		}
	}
	return true;
}

const char *policy_doc_name_of(const struct doc_node *n)
{
	for (uint32_t i = 0; n && n->type == DOC_MAP && i < n->n; i++)
		if (!strcmp(n->pairs[i].key->str, "name") &&
		    n->pairs[i].value->type == DOC_SCALAR)
			return n->pairs[i].value->str;
	return "";
}

void policy_doc_check_dup_keys(struct policy_diag *d, const struct doc_node *map)
{
	struct strmap seen;

	if (!map || map->type != DOC_MAP)
		return;
	policy_strmap_init(&seen);
	for (uint32_t i = 0; i < map->n; i++) {
		const struct doc_node *k = map->pairs[i].key;
		uint32_t first = policy_strmap_put(&seen, k->str, k->n, i);

		if (first != i && first != UINT32_MAX)
			policy_diag_at(d, k, "duplicate key \"%s\" (first at line %u)", k->str,
				       map->pairs[first].key->line);
	}
	policy_strmap_free(&seen);
}
