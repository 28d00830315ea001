/* allowedips: cryptokey routing, a path-compressed binary trie per family.
 *
 * Every node holds a prefix (key, cidr). A child's prefix always extends
 * its parent's, and the child sits in slot `bit cidr of its key`. Nodes
 * with a peer are routes; nodes without one exist only to branch and so
 * always have two children (remove keeps that true), which bounds the trie
 * to twice the number of routes and its depth to 129 (cidr strictly grows
 * along a path).
 *
 * Keys are kept as two host-order 64-bit words of the big-endian address
 * (IPv4 in the top half of word 0), so matching is two masked XORs and
 * choosing a child is one shift: no byte loops on the per-packet path. The
 * masks and the child-bit position are computed once, at insert.
 *
 * Not locked: writers are serialised by the caller; readers on other
 * threads need the caller to publish a new table or hold a lock. Nothing
 * here recurses: lookup and insert walk down, walk and free use the parent
 * pointers. */
#include "wg/allowedips.h"

#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct allowedips_node {
	/* Hot: everything lookup reads, together at the front. */
	uint64_t key[2];	/* prefix, host bits zero */
	uint64_t mask[2];	/* cidr leading ones */
	struct allowedips_node *child[2];
	void *peer;		/* NULL: a branching node only */
	uint8_t bit_word;	/* which key word holds bit `cidr` */
	uint8_t bit_shift;	/* and where in it */
	uint8_t cidr;
	struct allowedips_node *parent;
};

struct allowedips_key {
	uint64_t w[2];
	uint8_t bits;		/* 32 or 128 */
};

void allowedips_init(struct allowedips *t)
{
	memset(t, 0, sizeof(*t));
}

static bool allowedips_key_load(struct allowedips_key *k, int family,
				const uint8_t *addr)
{
	uint32_t v4;

	if (family == AF_INET) {
		memcpy(&v4, addr, sizeof(v4));
		k->w[0] = (uint64_t)be32toh(v4) << 32;
		k->w[1] = 0;
		k->bits = 32;
		return true;
	}
	if (family == AF_INET6) {
		memcpy(&k->w[0], addr, 8);
		memcpy(&k->w[1], addr + 8, 8);
		k->w[0] = be64toh(k->w[0]);
		k->w[1] = be64toh(k->w[1]);
		k->bits = 128;
		return true;
	}
	return false;
}

static void allowedips_key_store(uint8_t *addr, int family,
				 const struct allowedips_node *node)
{
	uint32_t v4 = htobe32((uint32_t)(node->key[0] >> 32));
	uint64_t v6[2] = { htobe64(node->key[0]), htobe64(node->key[1]) };

	if (family == AF_INET)
		memcpy(addr, &v4, sizeof(v4));
	else
		memcpy(addr, v6, sizeof(v6));
}

static struct allowedips_node **allowedips_root(struct allowedips *t, int family)
{
	return family == AF_INET ? &t->root4 : &t->root6;
}

static uint64_t allowedips_mask_word(unsigned cidr, unsigned word)
{
	unsigned ones = cidr > 64 * word ? cidr - 64 * word : 0;

	if (ones == 0)
		return 0;
	if (ones >= 64)
		return ~0ULL;
	return ~0ULL << (64 - ones);
}

/* Sets the prefix, masking host bits off, and the derived match fields. */
static void allowedips_node_set(struct allowedips_node *node,
				const uint64_t key[2], uint8_t cidr)
{
	node->cidr = cidr;
	node->mask[0] = allowedips_mask_word(cidr, 0);
	node->mask[1] = allowedips_mask_word(cidr, 1);
	node->key[0] = key[0] & node->mask[0];
	node->key[1] = key[1] & node->mask[1];
	/* A /128 has no children; word 0 keeps the shift in range. */
	node->bit_word = cidr < 128 ? cidr / 64 : 0;
	node->bit_shift = cidr < 128 ? 63 - cidr % 64 : 0;
}

static inline bool allowedips_node_matches(const struct allowedips_node *node,
					   uint64_t k0, uint64_t k1)
{
	return (((k0 ^ node->key[0]) & node->mask[0]) |
		((k1 ^ node->key[1]) & node->mask[1])) == 0;
}

static inline unsigned allowedips_choose(const struct allowedips_node *node,
					 const uint64_t key[2])
{
	return (key[node->bit_word] >> node->bit_shift) & 1;
}

/* Leading bits that two keys share (0..128). */
static unsigned allowedips_common_bits(const uint64_t a[2], const uint64_t b[2])
{
	uint64_t x0 = a[0] ^ b[0], x1 = a[1] ^ b[1];

	if (x0)
		return (unsigned)__builtin_clzll(x0);
	if (x1)
		return 64 + (unsigned)__builtin_clzll(x1);
	return 128;
}

/* The slot that points at node: its parent's child or the root. */
static struct allowedips_node **allowedips_slot(struct allowedips_node **root,
						struct allowedips_node *node)
{
	struct allowedips_node *parent = node->parent;

	if (!parent)
		return root;
	return &parent->child[parent->child[1] == node];
}

/* Hangs node under parent (or at the root), in the slot its key picks. */
static void allowedips_attach(struct allowedips_node **root,
			      struct allowedips_node *parent,
			      struct allowedips_node *node)
{
	node->parent = parent;
	if (parent)
		parent->child[allowedips_choose(parent, node->key)] = node;
	else
		*root = node;
}

/* Walks down over the nodes whose prefix covers key/cidr: returns the
 * deepest, which is the prefix itself when *exact, else the node a new
 * prefix would hang under (NULL: the root). */
static struct allowedips_node *
allowedips_placement(struct allowedips_node *node, const uint64_t key[2],
		     uint8_t cidr, bool *exact)
{
	struct allowedips_node *parent = NULL;

	*exact = false;
	while (node && node->cidr <= cidr &&
	       allowedips_node_matches(node, key[0], key[1])) {
		parent = node;
		if (node->cidr == cidr) {
			*exact = true;
			break;
		}
		node = node->child[allowedips_choose(node, key)];
	}
	return parent;
}

void *allowedips_lookup(const struct allowedips *t, int family, const uint8_t *addr)
{
	const struct allowedips_node *node;
	struct allowedips_key k;
	void *found = NULL;

	if (!allowedips_key_load(&k, family, addr))
		return NULL;
	node = family == AF_INET ? t->root4 : t->root6;
	/* Every covering node lies on this one path; the last with a peer
	 * is the longest match. */
	while (node && allowedips_node_matches(node, k.w[0], k.w[1])) {
		found = node->peer ? node->peer : found;
		node = node->child[allowedips_choose(node, k.w)];
	}
	return found;
}

/* Links newnode below parent, where `down` (non-NULL) hangs now: either
 * newnode covers down and takes its place, or both go under a new
 * branching node at the first bit where they differ. */
static int allowedips_split(struct allowedips_node **root,
			    struct allowedips_node *parent,
			    struct allowedips_node *down,
			    struct allowedips_node *newnode)
{
	unsigned common = allowedips_common_bits(down->key, newnode->key);
	struct allowedips_node *branch;

	if (common >= newnode->cidr) {
		allowedips_attach(root, parent, newnode);
		allowedips_attach(root, newnode, down);
		return 0;
	}
	branch = calloc(1, sizeof(*branch));
	if (!branch)
		return -ENOMEM;
	allowedips_node_set(branch, newnode->key, (uint8_t)common);
	allowedips_attach(root, parent, branch);
	allowedips_attach(root, branch, down);
	allowedips_attach(root, branch, newnode);
	return 0;
}

int allowedips_insert(struct allowedips *t, int family, const uint8_t *addr,
		      uint8_t cidr, void *peer)
{
	struct allowedips_node **root, *parent, *down, *newnode;
	struct allowedips_key k;
	bool exact;
	int ret;

	if (!peer || !allowedips_key_load(&k, family, addr) || cidr > k.bits)
		return -EINVAL;
	root = allowedips_root(t, family);
	parent = allowedips_placement(*root, k.w, cidr, &exact);
	if (exact) {
		parent->peer = peer;	/* a route changes hands */
		t->seq++;
		return 0;
	}
	newnode = calloc(1, sizeof(*newnode));
	if (!newnode)
		return -ENOMEM;
	allowedips_node_set(newnode, k.w, cidr);
	newnode->peer = peer;
	down = parent ? parent->child[allowedips_choose(parent, newnode->key)] : *root;
	ret = 0;
	if (down)
		ret = allowedips_split(root, parent, down, newnode);
	else
		allowedips_attach(root, parent, newnode);
	if (ret) {
		free(newnode);
		return ret;
	}
	t->seq++;
	return 0;
}

/* Frees node if it no longer earns its place (no peer, under two
 * children), handing its one child, if any, to its parent. */
static bool allowedips_prune(struct allowedips_node **root,
			     struct allowedips_node *node)
{
	struct allowedips_node *child;

	if (node->peer || (node->child[0] && node->child[1]))
		return false;
	child = node->child[0] ? node->child[0] : node->child[1];
	*allowedips_slot(root, node) = child;
	if (child)
		child->parent = node->parent;
	free(node);
	return true;
}

int allowedips_remove(struct allowedips *t, int family, const uint8_t *addr,
		      uint8_t cidr, void *peer)
{
	struct allowedips_node **root, *node, *parent;
	struct allowedips_key k;
	bool exact;

	if (!allowedips_key_load(&k, family, addr) || cidr > k.bits)
		return -EINVAL;
	root = allowedips_root(t, family);
	node = allowedips_placement(*root, k.w, cidr, &exact);
	if (!exact || !peer || node->peer != peer)
		return -ENOENT;
	node->peer = NULL;
	parent = node->parent;
	/* Freeing a leaf can leave its parent a branching node with one
	 * child; no further ancestor changes its child count. */
	if (allowedips_prune(root, node) && parent)
		allowedips_prune(root, parent);
	t->seq++;
	return 0;
}

/* Post-order: the first node is the leftmost leaf, each next one is the
 * parent or the leftmost leaf of the right sibling, so children are
 * always visited (and may be freed) before their parent. */
static struct allowedips_node *allowedips_first_post(struct allowedips_node *node)
{
	while (node && (node->child[0] || node->child[1]))
		node = node->child[0] ? node->child[0] : node->child[1];
	return node;
}

static struct allowedips_node *allowedips_next_post(struct allowedips_node *node)
{
	struct allowedips_node *parent = node->parent;

	if (parent && parent->child[0] == node && parent->child[1])
		return allowedips_first_post(parent->child[1]);
	return parent;
}

/* Pre-order, which is (address, cidr) order: stable across runs. */
static const struct allowedips_node *
allowedips_next_pre(const struct allowedips_node *node)
{
	const struct allowedips_node *parent;

	if (node->child[0] || node->child[1])
		return node->child[0] ? node->child[0] : node->child[1];
	for (parent = node->parent; parent; node = parent, parent = parent->parent)
		if (parent->child[0] == node && parent->child[1])
			return parent->child[1];
	return NULL;
}

static bool allowedips_remove_peer_family(struct allowedips_node **root,
					  void *peer)
{
	struct allowedips_node *node = allowedips_first_post(*root), *next;
	bool changed = false;

	while (node) {
		next = allowedips_next_post(node);
		if (node->peer == peer) {
			node->peer = NULL;
			changed = true;
		}
		/* Its subtree is already pruned, so one look suffices. */
		allowedips_prune(root, node);
		node = next;
	}
	return changed;
}

void allowedips_remove_by_peer(struct allowedips *t, void *peer)
{
	bool changed;

	if (!peer)
		return;
	changed = allowedips_remove_peer_family(&t->root4, peer);
	changed |= allowedips_remove_peer_family(&t->root6, peer);
	if (changed)
		t->seq++;
}

static bool allowedips_walk_family(const struct allowedips_node *node,
				   int family, void *peer,
				   allowedips_walk_fn fn, void *ctx)
{
	uint8_t addr[16];

	for (; node; node = allowedips_next_pre(node)) {
		if (node->peer != peer)
			continue;
		allowedips_key_store(addr, family, node);
		if (!fn(ctx, family, addr, node->cidr))
			return false;
	}
	return true;
}

void allowedips_walk_by_peer(const struct allowedips *t, void *peer,
			     allowedips_walk_fn fn, void *ctx)
{
	if (!peer)
		return;
	if (allowedips_walk_family(t->root4, AF_INET, peer, fn, ctx))
		allowedips_walk_family(t->root6, AF_INET6, peer, fn, ctx);
}

static void allowedips_free_family(struct allowedips_node **root)
{
	struct allowedips_node *node = allowedips_first_post(*root), *next;

	while (node) {
		next = allowedips_next_post(node);
		free(node);
		node = next;
	}
	*root = NULL;
}

void allowedips_free(struct allowedips *t)
{
	allowedips_free_family(&t->root4);
	allowedips_free_family(&t->root6);
	t->seq++;
}
