// SPDX-License-Identifier: GPL-2.0
/*
 * raft/wire.c: node-to-node messages of every type with 0 to the most
 * entries a datagram holds, refused when too large; every truncation and
 * trailing byte refused, fields out of range refused; the client request,
 * reply and status; 100k random and mutated datagrams through every
 * decoder, whatever they decode to encoding back to the same bytes.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "raft/kv.h"
#include "raft/wire.h"
#include "tap.h"

#define FUZZ_ROUNDS	100000
#define MAX_NOOPS	((WIRE_DGRAM_MAX - WIRE_PEER_HDR) / WIRE_ENTRY_HDR)

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

/* xorshift64*: the same datagrams every run, so a failure replays. */
static uint64_t rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static void fill_random(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)rng();
}

static const struct wire_peer_hdr hdr = {
	.cluster = 0x1122334455667788ULL, .stamp = 0xfedcba9876543210ULL,
	.incarnation = 0x0badc0ffee0ddf00ULL,
};

static struct raft_msg msg_of(uint8_t type)
{
	struct raft_msg m = {
		.type = type, .from = 1, .to = 0xfffffffe, .term = 77,
		.index = 1000, .log_term = 76, .commit = 999, .ok = type & 1,
		.hint_index = 0x0102030405060708ULL, .hint_term = 5,
		.read_ctx = UINT64_MAX,
	};

	/* Snapshot messages put their offset and total in the hint fields. */
	if (type == RAFT_MSG_SNAPSHOT || type == RAFT_MSG_SNAPSHOT_REPLY) {
		m.hint_index = m.hint_term = 0;
		m.offset = 0x0102030405060708ULL;
		m.total = m.offset + 7;
	}
	if (type == RAFT_MSG_SNAPSHOT) {
		m.data = (const uint8_t *)"chunk";
		m.data_len = 5;
	}
	if (type == RAFT_MSG_VOTE)
		m.flags = RAFT_MSG_F_TRANSFER;
	if (type == RAFT_MSG_PREVOTE_REPLY)
		m.flags = RAFT_MSG_F_REMOVED;
	return m;
}

static bool entries_equal(const struct raft_msg *a, const struct raft_msg *b)
{
	for (uint32_t i = 0; i < a->n_entries; i++) {
		const struct raft_entry *x = &a->entries[i];
		const struct raft_entry *y = &b->entries[i];

		if (x->term != y->term || x->type != y->type ||
		    x->len != y->len || y->index != b->index + 1 + i)
			return false;
		if (x->len && memcmp(x->data, y->data, x->len))
			return false;
		if (!y->len && y->data)
			return false;
	}
	return true;
}

static bool msgs_equal(const struct raft_msg *a, const struct raft_msg *b)
{
	return a->type == b->type && a->from == b->from && a->to == b->to &&
	       a->term == b->term && a->index == b->index &&
	       a->log_term == b->log_term && a->commit == b->commit &&
	       a->ok == b->ok && a->hint_index == b->hint_index &&
	       a->hint_term == b->hint_term && a->read_ctx == b->read_ctx &&
	       a->flags == b->flags && a->offset == b->offset &&
	       a->total == b->total && a->data_len == b->data_len &&
	       (!a->data_len || !memcmp(a->data, b->data, a->data_len)) &&
	       a->n_entries == b->n_entries && entries_equal(a, b);
}

/* Encodes, decodes, compares: the length, or -1 after a failed check. */
static int round_trip(const struct raft_msg *m, uint8_t *buf, const char *what)
{
	struct raft_entry ents[WIRE_MAX_ENTRIES];
	struct wire_peer_hdr h;
	struct raft_msg out;
	int len;

	len = wire_peer_encode(&hdr, m, buf, WIRE_DGRAM_MAX);
	if (!tap_ok(len > 0 && len <= WIRE_DGRAM_MAX, "%s: encodes (%d bytes)",
		    what, len))
		return -1;
	if (!tap_ok(!wire_peer_decode(&h, &out, ents, buf, (size_t)len) &&
		    h.cluster == hdr.cluster && h.stamp == hdr.stamp &&
		    h.incarnation == hdr.incarnation &&
		    msgs_equal(m, &out), "%s: decodes to the same", what))
		return -1;
	return len;
}

/* Every prefix and every longer datagram refused. */
static void refuses_truncated_and_trailing(const uint8_t *buf, size_t len,
					   const char *what)
{
	struct raft_entry ents[WIRE_MAX_ENTRIES];
	uint8_t longer[WIRE_DGRAM_MAX + 8];
	struct wire_peer_hdr h;
	struct raft_msg out;
	size_t bad = 0;

	for (size_t n = 0; n < len; n++)
		bad += wire_peer_decode(&h, &out, ents, buf, n) != -EBADMSG;
	memcpy(longer, buf, len);
	for (unsigned int extra = 1; extra <= 8; extra++) {
		for (unsigned int v = 0; v < 256; v += 51) {
			memset(longer + len, (int)v, extra);
			bad += wire_peer_decode(&h, &out, ents, longer,
						len + extra) != -EBADMSG;
		}
	}
	tap_ok(!bad, "%s: every truncation and trailing byte refused (%zu not)",
	       what, bad);
}

static void test_types(void)
{
	uint8_t buf[WIRE_DGRAM_MAX];
	char what[64];
	int len;

	for (uint8_t type = 1; type <= RAFT_MSG_TYPE_MAX; type++) {
		struct raft_msg m = msg_of(type);

		snprintf(what, sizeof(what), "message type %u", type);
		len = round_trip(&m, buf, what);
		tap_ok(len == WIRE_PEER_HDR + (int)m.data_len,
		       "%s: %d bytes, the header only%s", what, len,
		       m.data_len ? " and its data" : "");
		if (len > 0)
			refuses_truncated_and_trailing(buf, (size_t)len, what);
	}
}

static uint8_t data[WIRE_MAX_ENTRIES + 1][RAFT_ENTRY_DATA_MAX];

static void make_entries(struct raft_entry *e, unsigned int n, uint32_t len)
{
	for (unsigned int i = 0; i < n; i++) {
		e[i] = (struct raft_entry){
			.term = 1 + i % 77, .type = RAFT_ENTRY_COMMAND,
			.len = len, .data = len ? data[i] : NULL,
		};
		fill_random(data[i], len);
	}
}

static void test_append_counts(void)
{
	static const unsigned int counts[] = { 0, 1, 2, 5, 17 };
	struct raft_entry ents[WIRE_MAX_ENTRIES];
	uint8_t buf[WIRE_DGRAM_MAX];
	char what[64];
	int len;

	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		struct raft_msg m = msg_of(RAFT_MSG_APPEND);

		make_entries(ents, counts[i], 40);
		if (counts[i] > 1)
			ents[1].len = 0;	/* an empty command */
		if (counts[i] > 2)
			ents[2] = (struct raft_entry){
				.term = 3, .type = RAFT_ENTRY_NOOP,
			};
		m.n_entries = counts[i];
		m.entries = counts[i] ? ents : NULL;
		snprintf(what, sizeof(what), "append with %u entries",
			 counts[i]);
		len = round_trip(&m, buf, what);
		if (len > 0 && counts[i] <= 2)
			refuses_truncated_and_trailing(buf, (size_t)len, what);
	}
}

static void test_append_limits(void)
{
	struct raft_entry ents[WIRE_MAX_ENTRIES + 1];
	uint8_t buf[WIRE_DGRAM_MAX], big[4 * WIRE_DGRAM_MAX];
	struct raft_msg m = msg_of(RAFT_MSG_APPEND);
	int len;

	make_entries(ents, 1, RAFT_ENTRY_DATA_MAX);
	m.entries = ents;
	m.n_entries = 1;
	len = round_trip(&m, buf, "one entry of RAFT_ENTRY_DATA_MAX bytes");
	if (len > 0)
		refuses_truncated_and_trailing(buf, (size_t)len,
					       "one largest entry");

	make_entries(ents, 2, RAFT_ENTRY_DATA_MAX);
	ents[1].len = WIRE_DGRAM_MAX - WIRE_PEER_HDR - 2 * WIRE_ENTRY_HDR -
		      RAFT_ENTRY_DATA_MAX;
	m.n_entries = 2;
	len = round_trip(&m, buf, "two entries filling WIRE_DGRAM_MAX");
	tap_ok(len == WIRE_DGRAM_MAX, "exactly WIRE_DGRAM_MAX bytes (%d)", len);
	ents[1].len++;
	tap_ok(wire_peer_encode(&hdr, &m, buf, sizeof(buf)) == -EMSGSIZE,
	       "one byte more: -EMSGSIZE");
	ents[1].len = RAFT_ENTRY_DATA_MAX;
	tap_ok(wire_peer_encode(&hdr, &m, buf, sizeof(buf)) == -EMSGSIZE,
	       "two largest entries: -EMSGSIZE");

	for (unsigned int i = 0; i <= WIRE_MAX_ENTRIES; i++)
		ents[i] = (struct raft_entry){ .term = 9,
					       .type = RAFT_ENTRY_NOOP };
	m.n_entries = MAX_NOOPS;
	round_trip(&m, buf, "the most empty entries a datagram holds");
	m.n_entries = MAX_NOOPS + 1;
	tap_ok(wire_peer_encode(&hdr, &m, buf, sizeof(buf)) == -EMSGSIZE,
	       "one empty entry more: -EMSGSIZE");
	m.n_entries = WIRE_MAX_ENTRIES + 1;
	tap_ok(wire_peer_encode(&hdr, &m, big, sizeof(big)) == -EMSGSIZE,
	       "more than WIRE_MAX_ENTRIES entries: -EMSGSIZE, even with room");
	m.n_entries = 0;
	tap_ok(wire_peer_encode(&hdr, &m, buf, WIRE_PEER_HDR - 1) == -EMSGSIZE,
	       "a buffer short of the header: -EMSGSIZE");
}

static void refuses(const struct raft_msg *m, void (*change)(uint8_t *buf),
		    const char *what);

static void test_snapshot_refusals(void)
{
	struct raft_msg m = msg_of(RAFT_MSG_SNAPSHOT);
	struct raft_conf conf = { .n = 2, .m = { { .id = 1, .voter = true },
						 { .id = 7, .addr = "fd00::7" } } };
	struct raft_entry e = { .term = 5, .type = RAFT_ENTRY_CONFIG };
	uint8_t cbuf[RAFT_CONF_MAX];
	uint8_t buf[WIRE_DGRAM_MAX];
	int clen;

	m.offset = 7;
	m.total = 7;
	refuses(&m, NULL, "a snapshot chunk at its end");
	m.offset = 0;
	m.total = 4;
	refuses(&m, NULL, "a snapshot chunk past its total");
	m.data_len = 0;
	m.total = 10;
	refuses(&m, NULL, "an empty snapshot chunk");
	clen = raft_conf_encode(&conf, cbuf, sizeof(cbuf));
	e.data = cbuf;
	e.len = (uint32_t)clen;
	m = msg_of(RAFT_MSG_APPEND);
	m.entries = &e;
	m.n_entries = 1;
	tap_ok(clen > 0 && round_trip(&m, buf, "a membership entry") > 0,
	       "a membership entry of %d bytes goes through", clen);
}

/* Encodes m, lets change() spoil it, checks the decoder refuses it. */
static void refuses(const struct raft_msg *m, void (*change)(uint8_t *buf),
		    const char *what)
{
	struct raft_entry ents[WIRE_MAX_ENTRIES];
	uint8_t buf[WIRE_DGRAM_MAX];
	struct wire_peer_hdr h;
	struct raft_msg out;
	int len;

	len = wire_peer_encode(&hdr, m, buf, sizeof(buf));
	if (change)
		change(buf);
	tap_ok(len > 0 && wire_peer_decode(&h, &out, ents, buf, (size_t)len) ==
	       -EBADMSG, "refused: %s", what);
}

static void bad_magic(uint8_t *buf)
{
	buf[0] ^= 1;
}

static void bad_version(uint8_t *buf)
{
	buf[2] = WIRE_PEER_VERSION + 1;
}

static void type_zero(uint8_t *buf)
{
	buf[3] = 0;
}

static void type_too_high(uint8_t *buf)
{
	buf[3] = RAFT_MSG_TYPE_MAX + 1;
}

static void unknown_flag(uint8_t *buf)
{
	buf[WIRE_PEER_HDR - 3] |= 0x08;
}

static void too_many_entries(uint8_t *buf)
{
	buf[WIRE_PEER_HDR - 2] = (uint8_t)(WIRE_MAX_ENTRIES + 1);
	buf[WIRE_PEER_HDR - 1] = (uint8_t)((WIRE_MAX_ENTRIES + 1) >> 8);
}

static void test_refusals(void)
{
	struct raft_msg m = msg_of(RAFT_MSG_HEARTBEAT);
	struct raft_entry e = { .term = 5, .type = RAFT_ENTRY_COMMAND, .len = 3,
				.data = (uint8_t *)"abc" };

	refuses(&m, bad_magic, "a wrong magic");
	refuses(&m, bad_version, "another version");
	refuses(&m, type_zero, "type 0");
	refuses(&m, type_too_high, "a type above RAFT_MSG_TYPE_MAX");
	refuses(&m, unknown_flag, "an unknown flag");
	refuses(&m, too_many_entries, "more than WIRE_MAX_ENTRIES entries");
	m.entries = &e;
	m.n_entries = 1;
	refuses(&m, NULL, "entries in a heartbeat");
	m.type = RAFT_MSG_APPEND;
	e.type = 4;
	refuses(&m, NULL, "an entry of unknown type");
	e.type = RAFT_ENTRY_CONFIG;
	refuses(&m, NULL, "a membership entry that does not decode");
	e.type = RAFT_ENTRY_NOOP;
	refuses(&m, NULL, "a noop with data");
	e.type = RAFT_ENTRY_COMMAND;
	e.term = 0;
	refuses(&m, NULL, "an entry of term 0");
	e.term = m.term + 1;
	refuses(&m, NULL, "an entry of a term above the message's");
	e.term = m.term;
	m.index = UINT64_MAX;
	refuses(&m, NULL, "entries past the last index");
	test_snapshot_refusals();
}

static void test_request(void)
{
	struct wire_request r = {
		.kind = WIRE_REQ_KV, .id = 0x0123456789abcdefULL,
		.body = (const uint8_t *)"command", .len = 7,
	}, out;
	uint8_t buf[WIRE_DGRAM_MAX];
	size_t bad = 0;
	int len;

	len = wire_request_encode(&r, buf, sizeof(buf));
	tap_ok(len == WIRE_CLIENT_HDR + 7 &&
	       !wire_request_decode(&out, buf, (size_t)len) &&
	       out.kind == r.kind && out.id == r.id && out.len == 7 &&
	       !memcmp(out.body, "command", 7), "kv request round trip");
	for (size_t n = 0; n < WIRE_CLIENT_HDR; n++)
		bad += wire_request_decode(&out, buf, n) != -EBADMSG;
	tap_ok(!bad, "a request's header truncated anywhere: refused");
	tap_ok(wire_request_encode(&r, buf, WIRE_CLIENT_HDR + 6) == -EMSGSIZE,
	       "a request larger than the buffer: -EMSGSIZE");

	r = (struct wire_request){ .kind = WIRE_REQ_STATUS, .id = 1 };
	len = wire_request_encode(&r, buf, sizeof(buf));
	tap_ok(len == WIRE_CLIENT_HDR && !wire_request_decode(&out, buf, 12) &&
	       out.kind == WIRE_REQ_STATUS && out.id == 1 && !out.len,
	       "status request round trip");
	tap_ok(wire_request_decode(&out, buf, 13) == -EBADMSG,
	       "a status request with a body: refused");
	buf[3] = 0;
	tap_ok(wire_request_decode(&out, buf, 12) == -EBADMSG,
	       "kind 0: refused");
	buf[3] = WIRE_REQ_ADMIN + 1;
	tap_ok(wire_request_decode(&out, buf, 12) == -EBADMSG,
	       "an unknown kind: refused");
	buf[3] = WIRE_REQ_STATUS;
	buf[2]++;
	tap_ok(wire_request_decode(&out, buf, 12) == -EBADMSG,
	       "another version: refused");
	buf[2]--;
	buf[1] ^= 0x40;
	tap_ok(wire_request_decode(&out, buf, 12) == -EBADMSG,
	       "a peer message's magic: refused");
}

static bool replies_equal(const struct wire_reply *a,
			  const struct wire_reply *b)
{
	return a->kind == b->kind && a->code == b->code && a->id == b->id &&
	       a->leader == b->leader &&
	       !strcmp(a->leader_addr, b->leader_addr) && a->len == b->len &&
	       (!a->len || !memcmp(a->body, b->body, a->len));
}

static void test_reply_codes(void)
{
	static const char *const addrs[] = {
		"", "198.18.0.1:7001", "[fd00::1]:7001",
		/* WIRE_ADDR_MAX - 1 bytes, the most */
		"0123456789012345678901234567890"
		"12345678901234567890123456789012",
	};
	struct wire_reply r, out;
	uint8_t buf[WIRE_DGRAM_MAX];
	size_t bad = 0, wrong = 0, head;
	int len;

	for (uint8_t code = WIRE_DONE; code <= WIRE_BAD_REQUEST; code++) {
		for (size_t i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
			r = (struct wire_reply){
				.kind = WIRE_REQ_KV, .code = code, .id = rng(),
				.leader = code, .body = (const uint8_t *)"xyz",
				.len = code & 1 ? 3 : 0,
			};
			strcpy(r.leader_addr, addrs[i]);
			len = wire_reply_encode(&r, buf, sizeof(buf));
			head = WIRE_REPLY_HDR + strlen(addrs[i]);
			wrong += len != (int)(head + r.len) ||
				 wire_reply_decode(&out, buf, (size_t)len) ||
				 !replies_equal(&r, &out);
			for (size_t n = 0; n < head; n++)
				bad += wire_reply_decode(&out, buf, n) !=
				       -EBADMSG;
		}
	}
	tap_ok(!wrong, "replies of every code, with addresses of 0..63 "
	       "bytes, round trip");
	tap_ok(!bad, "a reply cut in its header or address: refused");
	tap_ok(!strcmp(wire_code_name(WIRE_NOT_LEADER), "not the leader") &&
	       !strcmp(wire_code_name(200), "?"), "wire_code_name()");
}

static void test_reply_refusals(void)
{
	struct wire_reply r = {
		.kind = WIRE_REQ_KV, .code = WIRE_NOT_LEADER, .id = 5,
		.leader = 2, .leader_addr = "198.18.0.2:7001",
	}, out;
	uint8_t buf[WIRE_DGRAM_MAX];
	int len;

	len = wire_reply_encode(&r, buf, sizeof(buf));
	buf[12] = WIRE_BAD_REQUEST + 1;
	tap_ok(wire_reply_decode(&out, buf, (size_t)len) == -EBADMSG,
	       "an unknown code: refused");
	buf[12] = WIRE_NOT_LEADER;
	buf[19] = '\0';
	tap_ok(wire_reply_decode(&out, buf, (size_t)len) == -EBADMSG,
	       "a NUL in the address: refused");
	buf[19] = '9';
	buf[17] = WIRE_ADDR_MAX;
	memset(buf + WIRE_REPLY_HDR, 'a', WIRE_ADDR_MAX);
	tap_ok(wire_reply_decode(&out, buf, WIRE_REPLY_HDR + WIRE_ADDR_MAX) ==
	       -EBADMSG, "an address of WIRE_ADDR_MAX bytes: refused");
	buf[17] = 15;
	buf[3] = WIRE_REQ_ADMIN + 1;
	tap_ok(wire_reply_decode(&out, buf, (size_t)len) == -EBADMSG,
	       "an unknown kind: refused");
	tap_ok(wire_reply_encode(&r, buf, WIRE_REPLY_HDR) == -EMSGSIZE,
	       "a reply larger than the buffer: -EMSGSIZE");
}

static struct wire_status status_of(unsigned int peers)
{
	struct wire_status st = {
		.raft = {
			.id = 3, .role = RAFT_LEADER, .term = 12, .vote = 3,
			.leader = 3, .commit = 500, .first_index = 1,
			.last_index = 505, .last_term = 12, .persisted = 504,
			.n_peers = peers, .removed_by = peers,
		},
		.applied = 499, .clock = 1ULL << 40,
		.transport = WIRE_TRANSPORT_LAMPORT, .kv_keys = 42,
		.kv_digest = 0xdeadbeefcafef00dULL,
	};

	for (unsigned int i = 0; i < peers; i++)
		st.raft.peers[i] = (struct raft_peer_status){
			.id = 10 + i, .match = 400 + i, .next = 401 + i,
			.active = i & 1, .probing = i & 2, .inflight = i * 3,
		};
	return st;
}

static bool statuses_equal(const struct wire_status *a,
			   const struct wire_status *b)
{
	const struct raft_status *x = &a->raft, *y = &b->raft;

	if (x->id != y->id || x->role != y->role || x->term != y->term ||
	    x->vote != y->vote || x->leader != y->leader ||
	    x->commit != y->commit || x->first_index != y->first_index ||
	    x->last_index != y->last_index || x->last_term != y->last_term ||
	    x->persisted != y->persisted || x->n_peers != y->n_peers ||
	    x->removed_by != y->removed_by ||
	    a->applied != b->applied || a->clock != b->clock ||
	    a->transport != b->transport || a->kv_keys != b->kv_keys ||
	    a->kv_digest != b->kv_digest)
		return false;
	for (unsigned int i = 0; i < x->n_peers; i++) {
		const struct raft_peer_status *p = &x->peers[i];
		const struct raft_peer_status *q = &y->peers[i];

		if (p->id != q->id || p->match != q->match ||
		    p->next != q->next || p->active != q->active ||
		    p->probing != q->probing || p->inflight != q->inflight)
			return false;
	}
	return true;
}

static void test_status(void)
{
	uint8_t buf[WIRE_DGRAM_MAX + 1];
	struct wire_status st, out;
	size_t bad = 0, wrong = 0;
	int len;

	for (unsigned int peers = 0; peers < RAFT_MAX_NODES; peers++) {
		st = status_of(peers);
		len = wire_status_encode(&st, buf, WIRE_DGRAM_MAX);
		wrong += len <= 0 ||
			 wire_status_decode(&out, buf, (size_t)len) ||
			 !statuses_equal(&st, &out);
		for (int n = 0; n < len; n++)
			bad += wire_status_decode(&out, buf, (size_t)n) !=
			       -EBADMSG;
		buf[len] = 0;
		bad += wire_status_decode(&out, buf, (size_t)len + 1) !=
		       -EBADMSG;
	}
	tap_ok(!wrong, "statuses with 0..%d peers round trip",
	       RAFT_MAX_NODES - 1);
	tap_ok(!bad, "a status truncated anywhere or with a trailing byte: "
	       "refused");

	st = status_of(2);
	len = wire_status_encode(&st, buf, sizeof(buf));
	buf[4] = RAFT_LEADER + 1;
	tap_ok(wire_status_decode(&out, buf, (size_t)len) == -EBADMSG,
	       "a status with an unknown role: refused");
	st = status_of(RAFT_MAX_NODES);
	len = wire_status_encode(&st, buf, sizeof(buf));
	tap_ok(len > 0 &&
	       wire_status_decode(&out, buf, (size_t)len) == -EBADMSG,
	       "a status with RAFT_MAX_NODES peers: refused");
	tap_ok(wire_status_encode(&st, buf, 10) == -EMSGSIZE,
	       "a status larger than the buffer: -EMSGSIZE");
}

/* Valid datagrams of every kind, to mutate. */
static size_t make_seed(unsigned int kind, uint8_t *buf)
{
	struct raft_entry ents[4];
	struct raft_msg m = msg_of((uint8_t)(1 + kind % RAFT_MSG_TYPE_MAX));
	struct wire_reply rep = {
		.kind = WIRE_REQ_KV, .id = 9, .leader_addr = "198.18.0.3:7001",
		.body = (const uint8_t *)"abcdefghijklmnopqrstuvwx", .len = 24,
	};
	struct wire_request req = { .kind = WIRE_REQ_KV, .id = 3,
				    .body = (const uint8_t *)"body", .len = 4 };
	struct wire_status st = status_of(kind % RAFT_MAX_NODES);

	switch (kind % 4) {
	case 0:
		if (m.type == RAFT_MSG_APPEND) {
			make_entries(ents, 4, (uint32_t)(kind % 50));
			m.entries = ents;
			m.n_entries = 4;
		}
		return (size_t)wire_peer_encode(&hdr, &m, buf, WIRE_DGRAM_MAX);
	case 1:
		return (size_t)wire_request_encode(&req, buf, WIRE_DGRAM_MAX);
	case 2:
		rep.code = (uint8_t)(kind % (WIRE_BAD_REQUEST + 1));
		return (size_t)wire_reply_encode(&rep, buf, WIRE_DGRAM_MAX);
	default:
		return (size_t)wire_status_encode(&st, buf, WIRE_DGRAM_MAX);
	}
}

static void mutate(uint8_t *buf, size_t *len)
{
	unsigned int n = 1 + (unsigned int)(rng() % 4);

	while (n--) {
		switch (rng() % 4) {
		case 0:
			if (*len)
				buf[rng() % *len] ^=
					(uint8_t)(1u << (rng() % 8));
			break;
		case 1:
			if (*len)
				buf[rng() % *len] = (uint8_t)rng();
			break;
		case 2:
			*len = *len ? (size_t)(rng() % *len) : 0;
			break;
		default:
			if (*len < WIRE_DGRAM_MAX)
				buf[(*len)++] = (uint8_t)rng();
			break;
		}
	}
}

/* What decodes must encode back to the same bytes (a status: same fields). */
static bool decoders_consistent(const uint8_t *buf, size_t len)
{
	static struct raft_entry ents[WIRE_MAX_ENTRIES];
	uint8_t again[WIRE_DGRAM_MAX + 64];
	struct wire_status st, st2;
	struct wire_request req;
	struct wire_reply rep;
	struct wire_peer_hdr h;
	struct kv_result res;
	struct raft_msg m;
	struct kv_cmd cmd;
	int n;

	if (!wire_peer_decode(&h, &m, ents, buf, len)) {
		n = wire_peer_encode(&h, &m, again, sizeof(again));
		if (n != (int)len || memcmp(again, buf, len))
			return false;
	}
	if (!wire_request_decode(&req, buf, len)) {
		n = wire_request_encode(&req, again, sizeof(again));
		if (n != (int)len || memcmp(again, buf, len))
			return false;
	}
	if (!wire_reply_decode(&rep, buf, len)) {
		n = wire_reply_encode(&rep, again, sizeof(again));
		if (n != (int)len || memcmp(again, buf, len))
			return false;
	}
	if (!wire_status_decode(&st, buf, len)) {
		n = wire_status_encode(&st, again, sizeof(again));
		if (n <= 0 || wire_status_decode(&st2, again, (size_t)n) ||
		    !statuses_equal(&st, &st2))
			return false;
	}
	if (!kv_decode(&cmd, buf, len)) {
		n = kv_encode(&cmd, again, sizeof(again));
		if (n != (int)len || memcmp(again, buf, len))
			return false;
	}
	n = kv_result_decode(&res, buf, len);
	return n < 0 || (size_t)n <= len;
}

static void test_fuzz(void)
{
	static uint8_t buf[WIRE_DGRAM_MAX];
	size_t len, wrong = 0, decoded = 0;
	struct raft_entry ents[WIRE_MAX_ENTRIES];
	struct wire_peer_hdr h;
	struct raft_msg m;

	for (unsigned int i = 0; i < FUZZ_ROUNDS; i++) {
		if (i % 2) {
			len = (size_t)(rng() % (WIRE_DGRAM_MAX + 1));
			fill_random(buf, len);
			/* Past the magic and version half of the time. */
			if (len >= 3 && i % 4 == 1) {
				buf[0] = 'L';
				buf[1] = i % 8 == 1 ? 'R' : 'K';
				buf[2] = WIRE_VERSION;
			}
		} else {
			len = make_seed(i / 2, buf);
			mutate(buf, &len);
		}
		decoded += !wire_peer_decode(&h, &m, ents, buf, len);
		wrong += !decoders_consistent(buf, len);
	}
	tap_ok(!wrong, "%d random and mutated datagrams: no crash, whatever "
	       "decodes encodes back the same (%zu not)", FUZZ_ROUNDS, wrong);
	tap_diag("%zu of them decoded as peer messages", decoded);
}

int main(void)
{
	test_types();
	test_append_counts();
	test_append_limits();
	test_refusals();
	test_request();
	test_reply_codes();
	test_reply_refusals();
	test_status();
	test_fuzz();
	return tap_done();
}
