// SPDX-License-Identifier: GPL-2.0
/*
 * Encoding and strict decoding of lamport's Raft datagrams (see wire.h).
 * Anything off by a byte is refused whole: garbage never reaches the core.
 */
#include <errno.h>
#include <string.h>

#include "wire.h"

#define PEER_MAGIC	0x524c		/* "LR" */
#define CLIENT_MAGIC	0x4b4c		/* "LK" */

struct cursor {
	uint8_t *out;
	const uint8_t *in;
	size_t len;
	size_t pos;
	bool bad;
};

static bool room(struct cursor *c, size_t n)
{
	if (c->bad || c->len - c->pos < n) {
		c->bad = true;
		return false;
	}
	return true;
}

static void put(struct cursor *c, uint64_t v, unsigned int bytes)
{
	if (!room(c, bytes))
		return;
	for (unsigned int i = 0; i < bytes; i++)
		c->out[c->pos++] = (uint8_t)(v >> (8 * i));
}

static void put_bytes(struct cursor *c, const void *p, size_t n)
{
	if (!room(c, n))
		return;
	if (n)
		memcpy(c->out + c->pos, p, n);
	c->pos += n;
}

static uint64_t get(struct cursor *c, unsigned int bytes)
{
	uint64_t v = 0;

	if (!room(c, bytes))
		return 0;
	for (unsigned int i = 0; i < bytes; i++)
		v |= (uint64_t)c->in[c->pos++] << (8 * i);
	return v;
}

static const uint8_t *get_bytes(struct cursor *c, size_t n)
{
	const uint8_t *p;

	if (!room(c, n))
		return NULL;
	p = c->in + c->pos;
	c->pos += n;
	return p;
}

static bool snapshot_type(uint8_t type)
{
	return type == RAFT_MSG_SNAPSHOT || type == RAFT_MSG_SNAPSHOT_REPLY;
}

int wire_peer_encode(const struct wire_peer_hdr *h, const struct raft_msg *m,
		     uint8_t *buf, size_t size)
{
	struct cursor c = { .out = buf, .len = size };

	put(&c, PEER_MAGIC, 2);
	put(&c, WIRE_PEER_VERSION, 1);
	put(&c, m->type, 1);
	put(&c, h->cluster, 8);
	put(&c, m->from, 4);
	put(&c, m->to, 4);
	put(&c, h->stamp, 8);
	put(&c, m->term, 8);
	put(&c, m->index, 8);
	put(&c, m->log_term, 8);
	put(&c, m->commit, 8);
	put(&c, snapshot_type(m->type) ? m->offset : m->hint_index, 8);
	put(&c, snapshot_type(m->type) ? m->total : m->hint_term, 8);
	put(&c, m->read_ctx, 8);
	put(&c, h->incarnation, 8);
	put(&c, (m->ok ? WIRE_OK : 0) |
	    (m->flags & RAFT_MSG_F_TRANSFER ? WIRE_TRANSFER : 0) |
	    (m->flags & RAFT_MSG_F_REMOVED ? WIRE_REMOVED : 0), 1);
	put(&c, m->type == RAFT_MSG_SNAPSHOT ? m->data_len : m->n_entries, 2);
	if (m->type == RAFT_MSG_SNAPSHOT)
		put_bytes(&c, m->data, m->data_len);
	for (uint32_t i = 0; i < m->n_entries; i++) {
		const struct raft_entry *e = &m->entries[i];

		put(&c, e->term, 8);
		put(&c, e->type, 1);
		put(&c, e->len, 2);
		put_bytes(&c, e->data, e->len);
	}
	if (c.bad || m->n_entries > WIRE_MAX_ENTRIES)
		return -EMSGSIZE;
	return (int)c.pos;
}

static bool entry_valid(const struct raft_entry *e, uint64_t msg_term)
{
	if (e->type != RAFT_ENTRY_NOOP && e->type != RAFT_ENTRY_COMMAND &&
	    e->type != RAFT_ENTRY_CONFIG)
		return false;
	if (e->len > RAFT_ENTRY_DATA_MAX || !e->term || e->term > msg_term)
		return false;
	if (e->type == RAFT_ENTRY_CONFIG) {
		struct raft_conf conf;

		return !raft_conf_decode(&conf, e->data, e->len);
	}
	return e->type == RAFT_ENTRY_COMMAND || !e->len;
}

int wire_peer_decode(struct wire_peer_hdr *h, struct raft_msg *m,
		     struct raft_entry *ents, const uint8_t *buf, size_t len)
{
	struct cursor c = { .in = buf, .len = len };
	uint32_t count;
	uint8_t flags;

	memset(m, 0, sizeof(*m));
	if (get(&c, 2) != PEER_MAGIC || get(&c, 1) != WIRE_PEER_VERSION)
		return -EBADMSG;
	m->type = (uint8_t)get(&c, 1);
	h->cluster = get(&c, 8);
	m->from = (uint32_t)get(&c, 4);
	m->to = (uint32_t)get(&c, 4);
	h->stamp = get(&c, 8);
	m->term = get(&c, 8);
	m->index = get(&c, 8);
	m->log_term = get(&c, 8);
	m->commit = get(&c, 8);
	m->hint_index = get(&c, 8);
	m->hint_term = get(&c, 8);
	m->read_ctx = get(&c, 8);
	h->incarnation = get(&c, 8);
	flags = (uint8_t)get(&c, 1);
	m->ok = flags & WIRE_OK;
	m->flags = (flags & WIRE_TRANSFER ? RAFT_MSG_F_TRANSFER : 0) |
		   (flags & WIRE_REMOVED ? RAFT_MSG_F_REMOVED : 0);
	count = (uint32_t)get(&c, 2);
	if (snapshot_type(m->type)) {
		m->offset = m->hint_index;
		m->total = m->hint_term;
		m->hint_index = m->hint_term = 0;
	}
	if (c.bad || !m->type || m->type > RAFT_MSG_TYPE_MAX ||
	    (flags & ~(WIRE_OK | WIRE_TRANSFER | WIRE_REMOVED)))
		return -EBADMSG;
	if (m->type == RAFT_MSG_SNAPSHOT) {
		m->data_len = count;
		m->data = get_bytes(&c, count);
		if (c.bad || !count || m->offset >= m->total ||
		    count > m->total - m->offset)
			return -EBADMSG;
	} else {
		m->n_entries = count;
	}
	if (m->n_entries > WIRE_MAX_ENTRIES ||
	    (m->n_entries && m->type != RAFT_MSG_APPEND))
		return -EBADMSG;
	m->entries = m->n_entries ? ents : NULL;
	for (uint32_t i = 0; i < m->n_entries; i++) {
		struct raft_entry *e = &ents[i];

		e->term = get(&c, 8);
		e->type = (uint8_t)get(&c, 1);
		e->len = (uint32_t)get(&c, 2);
		e->index = m->index + 1 + i;
		e->data = (uint8_t *)get_bytes(&c, e->len);
		if (c.bad || !entry_valid(e, m->term))
			return -EBADMSG;
		if (!e->len)
			e->data = NULL;
	}
	if (c.pos != len || m->index + m->n_entries < m->index)
		return -EBADMSG;
	return 0;
}

static void put_client_hdr(struct cursor *c, uint8_t kind, uint64_t id)
{
	put(c, CLIENT_MAGIC, 2);
	put(c, WIRE_VERSION, 1);
	put(c, kind, 1);
	put(c, id, 8);
}

int wire_request_encode(const struct wire_request *r, uint8_t *buf, size_t size)
{
	struct cursor c = { .out = buf, .len = size };

	put_client_hdr(&c, r->kind, r->id);
	put_bytes(&c, r->body, r->len);
	return c.bad ? -EMSGSIZE : (int)c.pos;
}

static bool kind_valid(uint8_t kind)
{
	return kind == WIRE_REQ_KV || kind == WIRE_REQ_STATUS ||
	       kind == WIRE_REQ_ADMIN;
}

int wire_admin_encode(const struct wire_admin *a, uint8_t *buf, size_t size)
{
	struct cursor c = { .out = buf, .len = size };
	size_t alen = strnlen(a->addr, sizeof(a->addr));

	if (!a->op || a->op > WIRE_ADMIN_TRANSFER || !a->id ||
	    alen >= sizeof(a->addr) || (a->op == WIRE_ADMIN_ADD) != !!alen)
		return -EINVAL;
	put(&c, a->op, 1);
	put(&c, a->id, 4);
	put(&c, alen, 1);
	put_bytes(&c, a->addr, alen);
	return c.bad ? -EMSGSIZE : (int)c.pos;
}

int wire_admin_decode(struct wire_admin *a, const uint8_t *buf, size_t len)
{
	struct cursor c = { .in = buf, .len = len };
	const uint8_t *addr;
	size_t alen;

	memset(a, 0, sizeof(*a));
	a->op = (uint8_t)get(&c, 1);
	a->id = (uint32_t)get(&c, 4);
	alen = (size_t)get(&c, 1);
	if (c.bad || !a->op || a->op > WIRE_ADMIN_TRANSFER || !a->id ||
	    alen >= sizeof(a->addr) || (a->op == WIRE_ADMIN_ADD) != !!alen)
		return -EBADMSG;
	addr = get_bytes(&c, alen);
	if (!addr || c.pos != len || memchr(addr, '\0', alen))
		return -EBADMSG;
	memcpy(a->addr, addr, alen);
	return 0;
}

int wire_request_decode(struct wire_request *r, const uint8_t *buf, size_t len)
{
	struct cursor c = { .in = buf, .len = len };

	memset(r, 0, sizeof(*r));
	if (get(&c, 2) != CLIENT_MAGIC || get(&c, 1) != WIRE_VERSION)
		return -EBADMSG;
	r->kind = (uint8_t)get(&c, 1);
	r->id = get(&c, 8);
	if (c.bad || !kind_valid(r->kind))
		return -EBADMSG;
	r->body = buf + c.pos;
	r->len = len - c.pos;
	if (r->kind == WIRE_REQ_STATUS && r->len)
		return -EBADMSG;
	return 0;
}

int wire_reply_encode(const struct wire_reply *r, uint8_t *buf, size_t size)
{
	struct cursor c = { .out = buf, .len = size };
	size_t alen = strnlen(r->leader_addr, WIRE_ADDR_MAX - 1);

	put_client_hdr(&c, r->kind, r->id);
	put(&c, r->code, 1);
	put(&c, r->leader, 4);
	put(&c, alen, 1);
	put_bytes(&c, r->leader_addr, alen);
	put_bytes(&c, r->body, r->len);
	return c.bad ? -EMSGSIZE : (int)c.pos;
}

int wire_reply_decode(struct wire_reply *r, const uint8_t *buf, size_t len)
{
	struct cursor c = { .in = buf, .len = len };
	const uint8_t *addr;
	size_t alen;

	memset(r, 0, sizeof(*r));
	if (get(&c, 2) != CLIENT_MAGIC || get(&c, 1) != WIRE_VERSION)
		return -EBADMSG;
	r->kind = (uint8_t)get(&c, 1);
	r->id = get(&c, 8);
	r->code = (uint8_t)get(&c, 1);
	r->leader = (uint32_t)get(&c, 4);
	alen = (size_t)get(&c, 1);
	if (c.bad || !kind_valid(r->kind) || r->code > WIRE_BAD_REQUEST ||
	    alen >= WIRE_ADDR_MAX)
		return -EBADMSG;
	addr = get_bytes(&c, alen);
	if (!addr)
		return -EBADMSG;
	memcpy(r->leader_addr, addr, alen);
	r->leader_addr[alen] = '\0';
	if (memchr(r->leader_addr, '\0', alen))
		return -EBADMSG;
	r->body = buf + c.pos;
	r->len = len - c.pos;
	return 0;
}

#define PEER_ACTIVE	0x01
#define PEER_PROBING	0x02
#define PEER_VOTER	0x04
#define PEER_SNAPSHOT	0x08

int wire_status_encode(const struct wire_status *st, uint8_t *buf, size_t size)
{
	const struct raft_status *r = &st->raft;
	struct cursor c = { .out = buf, .len = size };

	put(&c, r->id, 4);
	put(&c, r->role, 1);
	put(&c, r->term, 8);
	put(&c, r->vote, 4);
	put(&c, r->leader, 4);
	put(&c, r->commit, 8);
	put(&c, r->first_index, 8);
	put(&c, r->last_index, 8);
	put(&c, r->last_term, 8);
	put(&c, r->persisted, 8);
	put(&c, st->applied, 8);
	put(&c, st->clock, 8);
	put(&c, st->transport, 1);
	put(&c, st->kv_keys, 8);
	put(&c, st->kv_digest, 8);
	put(&c, r->n_peers, 1);
	for (unsigned int i = 0; i < r->n_peers && i < RAFT_MAX_NODES; i++) {
		const struct raft_peer_status *p = &r->peers[i];

		put(&c, p->id, 4);
		put(&c, p->match, 8);
		put(&c, p->next, 8);
		put(&c, (p->active ? PEER_ACTIVE : 0) |
		    (p->probing ? PEER_PROBING : 0) |
		    (p->voter ? PEER_VOTER : 0) |
		    (p->snapshot ? PEER_SNAPSHOT : 0), 1);
		put(&c, p->inflight, 2);
		put(&c, p->snap_offset, 8);
	}
	put(&c, r->snap_index, 8);
	put(&c, r->snap_term, 8);
	put(&c, r->conf_index, 8);
	put(&c, r->transfer_to, 4);
	put(&c, (r->voter ? 1 : 0) | (st->hints ? 2 : 0), 1);
	put(&c, st->kv_leases, 8);
	put(&c, st->members.n, 1);
	for (unsigned int i = 0; i < st->members.n && i < RAFT_MAX_NODES; i++) {
		const struct raft_member *m = &st->members.m[i];
		size_t alen = strnlen(m->addr, sizeof(m->addr) - 1);

		put(&c, m->id, 4);
		put(&c, m->voter, 1);
		put(&c, alen, 1);
		put_bytes(&c, m->addr, alen);
	}
	put(&c, r->removed_by, 4);
	return c.bad ? -EMSGSIZE : (int)c.pos;
}

int wire_status_decode(struct wire_status *st, const uint8_t *buf, size_t len)
{
	struct raft_status *r = &st->raft;
	struct cursor c = { .in = buf, .len = len };
	uint8_t flags;

	memset(st, 0, sizeof(*st));
	r->id = (uint32_t)get(&c, 4);
	r->role = (uint8_t)get(&c, 1);
	r->term = get(&c, 8);
	r->vote = (uint32_t)get(&c, 4);
	r->leader = (uint32_t)get(&c, 4);
	r->commit = get(&c, 8);
	r->first_index = get(&c, 8);
	r->last_index = get(&c, 8);
	r->last_term = get(&c, 8);
	r->persisted = get(&c, 8);
	st->applied = get(&c, 8);
	st->clock = get(&c, 8);
	st->transport = (uint8_t)get(&c, 1);
	st->kv_keys = get(&c, 8);
	st->kv_digest = get(&c, 8);
	r->n_peers = (unsigned int)get(&c, 1);
	if (c.bad || r->role > RAFT_LEADER || r->n_peers >= RAFT_MAX_NODES)
		return -EBADMSG;
	for (unsigned int i = 0; i < r->n_peers; i++) {
		struct raft_peer_status *p = &r->peers[i];

		p->id = (uint32_t)get(&c, 4);
		p->match = get(&c, 8);
		p->next = get(&c, 8);
		flags = (uint8_t)get(&c, 1);
		p->inflight = (unsigned int)get(&c, 2);
		p->snap_offset = get(&c, 8);
		p->active = flags & PEER_ACTIVE;
		p->probing = flags & PEER_PROBING;
		p->voter = flags & PEER_VOTER;
		p->snapshot = flags & PEER_SNAPSHOT;
	}
	r->snap_index = get(&c, 8);
	r->snap_term = get(&c, 8);
	r->conf_index = get(&c, 8);
	r->transfer_to = (uint32_t)get(&c, 4);
	flags = (uint8_t)get(&c, 1);
	r->voter = flags & 1;
	st->hints = flags & 2;
	st->kv_leases = get(&c, 8);
	st->members.n = (unsigned int)get(&c, 1);
	if (c.bad || st->members.n > RAFT_MAX_NODES)
		return -EBADMSG;
	for (unsigned int i = 0; i < st->members.n; i++) {
		struct raft_member *m = &st->members.m[i];
		const uint8_t *addr;
		size_t alen;

		m->id = (uint32_t)get(&c, 4);
		m->voter = get(&c, 1);
		alen = (size_t)get(&c, 1);
		addr = get_bytes(&c, alen);
		if (c.bad || alen >= sizeof(m->addr) || memchr(addr, '\0', alen))
			return -EBADMSG;
		memcpy(m->addr, addr, alen);
	}
	r->removed_by = (uint32_t)get(&c, 4);
	if (c.bad || c.pos != len)
		return -EBADMSG;
	return 0;
}

const char *wire_code_name(uint8_t code)
{
	static const char *const names[] = {
		[WIRE_DONE] = "done",
		[WIRE_NOT_LEADER] = "not the leader",
		[WIRE_NO_LEADER] = "no leader",
		[WIRE_BUSY] = "busy",
		[WIRE_RETRY] = "leadership changed",
		[WIRE_UNAVAILABLE] = "storage failed",
		[WIRE_BAD_REQUEST] = "bad request",
	};

	return code <= WIRE_BAD_REQUEST ? names[code] : "?";
}
