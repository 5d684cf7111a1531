// SPDX-License-Identifier: GPL-2.0
/* Cluster membership and its encoding (see conf.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"

#define CONF_VERSION	1

static int cmp_member(const void *a, const void *b)
{
	uint32_t x = ((const struct raft_member *)a)->id;
	uint32_t y = ((const struct raft_member *)b)->id;

	return x < y ? -1 : x > y;
}

int raft_conf_check(struct raft_conf *c)
{
	if (!c->n || c->n > RAFT_MAX_NODES)
		return -EINVAL;
	qsort(c->m, c->n, sizeof(c->m[0]), cmp_member);
	for (unsigned int i = 0; i < c->n; i++) {
		if (!c->m[i].id || (i && c->m[i].id == c->m[i - 1].id))
			return -EINVAL;
		if (!memchr(c->m[i].addr, '\0', sizeof(c->m[i].addr)))
			return -EINVAL;
	}
	return raft_conf_voters(c) ? 0 : -EINVAL;
}

int raft_conf_encode(const struct raft_conf *c, uint8_t *buf, size_t size)
{
	struct raft_conf sorted = *c;
	size_t off = 2;

	if (raft_conf_check(&sorted))
		return -EINVAL;
	if (size < 2)
		return -EMSGSIZE;
	buf[0] = CONF_VERSION;
	buf[1] = (uint8_t)sorted.n;
	for (unsigned int i = 0; i < sorted.n; i++) {
		const struct raft_member *m = &sorted.m[i];
		size_t alen = strlen(m->addr);

		if (off + 6 + alen > size)
			return -EMSGSIZE;
		for (int b = 0; b < 4; b++)
			buf[off + b] = (uint8_t)(m->id >> (8 * b));
		buf[off + 4] = m->voter ? RAFT_MEMBER_VOTER : 0;
		buf[off + 5] = (uint8_t)alen;
		memcpy(buf + off + 6, m->addr, alen);
		off += 6 + alen;
	}
	return (int)off;
}

int raft_conf_decode(struct raft_conf *c, const uint8_t *buf, size_t len)
{
	size_t off = 2;

	if (len < 2 || buf[0] != CONF_VERSION || !buf[1] ||
	    buf[1] > RAFT_MAX_NODES)
		return -EINVAL;
	memset(c, 0, sizeof(*c));
	c->n = buf[1];
	for (unsigned int i = 0; i < c->n; i++) {
		struct raft_member *m = &c->m[i];
		size_t alen;

		if (off + 6 > len)
			return -EINVAL;
		m->id = (uint32_t)buf[off] | (uint32_t)buf[off + 1] << 8 |
			(uint32_t)buf[off + 2] << 16 | (uint32_t)buf[off + 3] << 24;
		if (buf[off + 4] & ~RAFT_MEMBER_VOTER)
			return -EINVAL;
		m->voter = buf[off + 4] & RAFT_MEMBER_VOTER;
		alen = buf[off + 5];
		if (alen >= RAFT_MEMBER_ADDR_MAX || off + 6 + alen > len ||
		    memchr(buf + off + 6, '\0', alen))
			return -EINVAL;
		memcpy(m->addr, buf + off + 6, alen);
		off += 6 + alen;
		/* one encoding per membership: ids strictly increasing */
		if (i && m->id <= c->m[i - 1].id)
			return -EINVAL;
	}
	if (off != len)
		return -EINVAL;
	return raft_conf_check(c);
}

struct raft_member *raft_conf_find(struct raft_conf *c, uint32_t id)
{
	for (unsigned int i = 0; i < c->n; i++)
		if (c->m[i].id == id)
			return &c->m[i];
	return NULL;
}

const struct raft_member *raft_conf_get(const struct raft_conf *c, uint32_t id)
{
	return raft_conf_find((struct raft_conf *)c, id);
}

bool raft_conf_is_voter(const struct raft_conf *c, uint32_t id)
{
	const struct raft_member *m = raft_conf_get(c, id);

	return m && m->voter;
}

unsigned int raft_conf_voters(const struct raft_conf *c)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < c->n; i++)
		n += c->m[i].voter;
	return n;
}

bool raft_conf_equal(const struct raft_conf *a, const struct raft_conf *b)
{
	if (a->n != b->n)
		return false;
	for (unsigned int i = 0; i < a->n; i++)
		if (a->m[i].id != b->m[i].id || a->m[i].voter != b->m[i].voter ||
		    strcmp(a->m[i].addr, b->m[i].addr))
			return false;
	return true;
}

int raft_conf_single_change(const struct raft_conf *from,
			    const struct raft_conf *to, const char **why)
{
	unsigned int changes = 0;

	for (unsigned int i = 0; i < to->n; i++) {
		const struct raft_member *t = &to->m[i];
		const struct raft_member *f = raft_conf_get(from, t->id);

		if (!f && t->voter) {
			*why = "a new member must join as a non-voter first";
			return -EINVAL;
		}
		if (f && f->voter && !t->voter) {
			*why = "a voter cannot become a non-voter";
			return -EINVAL;
		}
		if (f && strcmp(f->addr, t->addr)) {
			*why = "a member's address cannot change";
			return -EINVAL;
		}
		changes += !f || f->voter != t->voter;
	}
	for (unsigned int i = 0; i < from->n; i++)
		changes += !raft_conf_get(to, from->m[i].id);
	if (changes != 1) {
		*why = changes ? "one member at a time" : "nothing changes";
		return -EINVAL;
	}
	return 0;
}
