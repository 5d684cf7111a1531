// SPDX-License-Identifier: GPL-2.0
/*
 * The Raft core's features one by one, each in a scripted cluster where
 * the test decides which message arrives when: pre-vote, check-quorum,
 * commitment only through the current term (Figure 8), ReadIndex on a
 * deposed leader, fast backtracking, bad messages, a failed disk,
 * snapshots sent to a follower left behind, membership changes,
 * leadership transfer and failure-detector hints.
 * test_raft_sim.c checks the safety properties under random schedules.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "raft/core.h"
#include "tap.h"

#define N_MAX	5

struct qmsg {
	struct raft_msg m;
	struct raft_entry ents[64];
	uint8_t data[64][32];
};

struct cluster {
	unsigned int n;
	struct raft *r[N_MAX + 1];		/* by id, 1..n */
	bool cut[N_MAX + 1];			/* isolated */
	struct qmsg *q;
	size_t nq, capq;
	uint64_t commit[N_MAX + 1];
	uint64_t reads_ok[N_MAX + 1];		/* last read id confirmed */
	uint64_t reads_failed[N_MAX + 1];
	unsigned int appends_sent;
	unsigned int chunks;			/* snapshot chunks stored */
	unsigned int installs;
	bool (*hold)(const struct raft_msg *m);	/* kept in the queue */
};

static uint32_t leader_of(struct cluster *c);

static void enqueue(struct cluster *c, const struct raft_msg *m)
{
	struct qmsg *q;

	if (c->nq == c->capq) {
		c->capq = c->capq ? c->capq * 2 : 64;
		c->q = realloc(c->q, c->capq * sizeof(*c->q));
		if (!c->q)
			exit(2);
	}
	q = &c->q[c->nq++];
	q->m = *m;
	q->m.entries = q->ents;
	for (uint32_t i = 0; i < m->n_entries && i < 64; i++) {
		q->ents[i] = m->entries[i];
		q->ents[i].data = q->data[i];
		memcpy(q->data[i], m->entries[i].data,
		       m->entries[i].len < 32 ? m->entries[i].len : 32);
	}
	if (m->type == RAFT_MSG_APPEND)
		c->appends_sent++;
}

/* The caller's part of the contract: everything persists at once. */
static void flush(struct cluster *c, uint32_t id)
{
	for (int round = 0; round < 4; round++) {
		struct raft *r = c->r[id];
		const struct raft_entry *e;
		struct raft_output out;
		uint64_t last;

		raft_take(r, &out);
		for (size_t i = 0; i < out.n_msgs; i++)
			enqueue(c, &out.msgs[i]);
		c->commit[id] = out.commit;
		for (size_t i = 0; i < out.n_reads; i++)
			c->reads_ok[id] = out.reads[i].id;
		for (size_t i = 0; i < out.n_failed_reads; i++)
			c->reads_failed[id] = out.failed_reads[i];
		if (out.snap_complete) {
			struct raft_conf conf;
			uint32_t l = leader_of(c);

			/* The membership comes in the snapshot file. */
			if (l && !raft_conf_at(c->r[l], out.snap_index, &conf)) {
				raft_snapshot_installed(r, 0, out.snap_index,
							out.snap_term, &conf);
				c->installs++;
			}
		}
		last = raft_last_index(r);
		e = raft_entry_at(r, last);
		raft_persisted(r, last, e ? e->term : 0);
	}
}

/* Delivers what is queued (messages from or to a cut node are lost). */
static void deliver(struct cluster *c)
{
	for (int pass = 0; pass < 50 && c->nq; pass++) {
		size_t n = c->nq;
		struct qmsg *batch = malloc(n * sizeof(*batch));

		if (!batch)
			exit(2);
		memcpy(batch, c->q, n * sizeof(*batch));
		c->nq = 0;
		for (size_t i = 0; i < n; i++) {
			struct raft_msg *m = &batch[i].m;

			m->entries = batch[i].ents;
			for (uint32_t j = 0; j < m->n_entries; j++)
				batch[i].ents[j].data = batch[i].data[j];
			if (c->cut[m->from] || c->cut[m->to])
				continue;
			if (c->hold && c->hold(m)) {
				enqueue(c, m);
				c->appends_sent -= m->type == RAFT_MSG_APPEND;
				continue;
			}
			if (raft_step(c->r[m->to], m) == RAFT_STEP_CHUNK) {
				raft_snapshot_stored(c->r[m->to], 0, 0);
				c->chunks++;
			}
			flush(c, m->to);
		}
		free(batch);
	}
}

static void tick_all(struct cluster *c, unsigned int ticks)
{
	while (ticks--) {
		for (uint32_t id = 1; id <= c->n; id++) {
			raft_tick(c->r[id]);
			flush(c, id);
		}
		deliver(c);
	}
}

static struct raft_config config(unsigned int n, uint32_t id)
{
	struct raft_config cfg = { 0 };

	raft_config_default(&cfg);
	cfg.id = id;
	cfg.n_nodes = n;
	for (unsigned int i = 0; i < n; i++)
		cfg.nodes[i] = i + 1;
	cfg.seed = 1000 + id;
	return cfg;
}

static void cluster_init(struct cluster *c, unsigned int n,
			 void (*tweak)(struct raft_config *))
{
	memset(c, 0, sizeof(*c));
	c->n = n;
	for (uint32_t id = 1; id <= n; id++) {
		struct raft_config cfg = config(n, id);

		if (tweak)
			tweak(&cfg);
		c->r[id] = raft_new(&cfg);
	}
}

static void cluster_free(struct cluster *c)
{
	for (uint32_t id = 1; id <= c->n; id++)
		raft_free(c->r[id]);
	free(c->q);
}

static uint32_t leader_of(struct cluster *c)
{
	for (uint32_t id = 1; id <= c->n; id++)
		if (!c->cut[id] && raft_role(c->r[id]) == RAFT_LEADER)
			return id;
	return 0;
}

static uint32_t elect(struct cluster *c)
{
	for (int i = 0; i < 100 && !leader_of(c); i++)
		tick_all(c, 1);
	return leader_of(c);
}

static int propose(struct cluster *c, uint32_t id, const char *what)
{
	uint64_t index, term;
	int rc = raft_propose(c->r[id], what, (uint32_t)strlen(what), &index, &term);

	flush(c, id);
	return rc;
}

static void single_node(void)
{
	struct cluster c;

	cluster_init(&c, 1, NULL);
	tap_ok(elect(&c) == 1, "a 1-node cluster elects itself");
	tap_ok(!propose(&c, 1, "x") && c.commit[1] == 2,
	       "and commits once its own disk has the entry (commit %llu)",
	       (unsigned long long)c.commit[1]);
	cluster_free(&c);
}

static void replication(void)
{
	struct cluster c;
	uint32_t l;
	bool all = true;

	cluster_init(&c, 3, NULL);
	l = elect(&c);
	tap_ok(l != 0, "3 nodes elect a leader (node %u, term %llu)", l,
	       (unsigned long long)raft_term(c.r[l]));
	for (int i = 0; i < 50; i++) {
		uint64_t index, term;

		raft_propose(c.r[l], "w", 1, &index, &term);
	}
	flush(&c, l);
	tick_all(&c, 3);
	for (uint32_t id = 1; id <= 3; id++)
		all &= c.commit[id] == 51 && raft_last_index(c.r[id]) == 51;
	tap_ok(all, "50 writes committed on every node (the no-op first)");
	tap_ok(raft_entry_at(c.r[l], 1)->type == RAFT_ENTRY_NOOP,
	       "a new term starts with a no-op");
	tap_ok(c.appends_sent < 50,
	       "batched: %u APPENDs carried 2 x 50 entries", c.appends_sent);
	cluster_free(&c);
}

static void no_prevote(struct raft_config *cfg)
{
	cfg->no_prevote = true;
}

/* A node cut off campaigns in vain: with pre-vote its term stays. */
static void prevote(bool on)
{
	struct cluster c;
	uint32_t l, lone;
	uint64_t term, lone_term;

	cluster_init(&c, 3, on ? NULL : no_prevote);
	l = elect(&c);
	term = raft_term(c.r[l]);
	lone = l % 3 + 1;
	c.cut[lone] = true;
	tick_all(&c, 300);
	lone_term = raft_term(c.r[lone]);
	c.cut[lone] = false;
	tick_all(&c, 100);
	if (on) {
		tap_ok(lone_term == term,
		       "pre-vote: a node cut off for 30 election timeouts stays at term %llu (is %llu)",
		       (unsigned long long)term, (unsigned long long)lone_term);
		tap_ok(leader_of(&c) == l && raft_term(c.r[l]) == term,
		       "pre-vote: when it rejoins, the leader stays (node %u term %llu)",
		       leader_of(&c), (unsigned long long)raft_term(c.r[leader_of(&c)]));
	} else {
		tap_ok(lone_term > term + 5,
		       "without pre-vote its term climbs: %llu -> %llu",
		       (unsigned long long)term, (unsigned long long)lone_term);
		tap_ok(raft_term(c.r[leader_of(&c)]) > term,
		       "without pre-vote its return forces a new election (term %llu)",
		       (unsigned long long)raft_term(c.r[leader_of(&c)]));
	}
	cluster_free(&c);
}

static void no_check_quorum(struct raft_config *cfg)
{
	cfg->no_check_quorum = true;
}

static void check_quorum(bool on)
{
	struct cluster c;
	uint32_t l;

	cluster_init(&c, 3, on ? NULL : no_check_quorum);
	l = elect(&c);
	c.cut[l] = true;
	for (int i = 0; i < 25; i++) {
		raft_tick(c.r[l]);
		flush(&c, l);
	}
	if (on)
		tap_ok(raft_role(c.r[l]) != RAFT_LEADER,
		       "check-quorum: a leader cut off steps down within 2.5 election timeouts");
	else
		tap_ok(raft_role(c.r[l]) == RAFT_LEADER,
		       "without check-quorum it believes it leads forever");
	cluster_free(&c);
}

/* ReadIndex: an isolated leader never confirms a read; it fails it. */
static void read_index(void)
{
	struct cluster c;
	uint32_t l, l2;

	cluster_init(&c, 3, no_check_quorum);
	l = elect(&c);
	tick_all(&c, 2);
	tap_ok(!raft_read_index(c.r[l], 1), "a read asked of the leader");
	flush(&c, l);
	deliver(&c);
	tap_ok(c.reads_ok[l] == 1, "is confirmed by a quorum round");
	c.cut[l] = true;
	raft_read_index(c.r[l], 2);
	flush(&c, l);
	tick_all(&c, 100);
	l2 = leader_of(&c);
	tap_ok(c.reads_ok[l] == 1 && l2 && l2 != l,
	       "a leader cut off (and unaware, without check-quorum) never confirms a read while node %u leads",
	       l2);
	c.cut[l] = false;
	tick_all(&c, 20);
	tap_ok(c.reads_failed[l] == 2 && c.reads_ok[l] == 1,
	       "the read fails once it learns of the new term");
	tap_ok(raft_read_index(c.r[l], 3) == -EPERM, "a follower refuses reads");
	cluster_free(&c);
}

static struct raft *restored(unsigned int n, uint32_t id, uint64_t term,
			     const uint64_t *terms, size_t len,
			     void (*tweak)(struct raft_config *))
{
	struct raft_config cfg = config(n, id);
	struct raft *r;

	if (tweak)
		tweak(&cfg);
	r = raft_new(&cfg);
	raft_restore_meta(r, term, 0);
	for (size_t i = 0; i < len; i++) {
		struct raft_entry e = {
			.term = terms[i], .index = i + 1, .type = RAFT_ENTRY_COMMAND,
			.len = 1, .data = malloc(1),
		};

		e.data[0] = 'a' + (uint8_t)terms[i];
		raft_restore_entry(r, &e);
	}
	return r;
}

static void one_entry_per_append(struct raft_config *cfg)
{
	cfg->max_append_bytes = 1;
}

static struct raft *node2;

/*
 * Figure 8's trap: once node 2 has the term-2 entry, the leader's no-op
 * does not reach it (before, it may: node 2 refuses it and says where its
 * log ends).
 */
static bool hold_noop_to_2(const struct raft_msg *m)
{
	if (m->to != 2 || m->type != RAFT_MSG_APPEND ||
	    raft_last_index(node2) < 2)
		return false;
	for (uint32_t i = 0; i < m->n_entries; i++)
		if (m->entries[i].index == 3)
			return true;
	return false;
}

/*
 * Figure 8: node 1 leads term 4 with an entry of term 2 at index 2 that
 * node 2 lacks.  Once node 2 has it (a majority of 3), it must still not
 * count as committed: only the leader's own no-op at index 3 commits it.
 */
static void figure8(void)
{
	static const uint64_t t1[] = { 1, 2 }, t2[] = { 1 };
	struct cluster c;

	memset(&c, 0, sizeof(c));
	c.n = 3;
	c.r[1] = restored(3, 1, 3, t1, 2, one_entry_per_append);
	c.r[2] = restored(3, 2, 3, t2, 1, one_entry_per_append);
	c.r[3] = restored(3, 3, 3, t2, 1, one_entry_per_append);
	c.cut[3] = true;
	node2 = c.r[2];
	c.hold = hold_noop_to_2;
	for (int i = 0; i < 40 && raft_role(c.r[1]) != RAFT_LEADER; i++) {
		raft_tick(c.r[1]);
		flush(&c, 1);
		deliver(&c);
	}
	if (!tap_ok(raft_role(c.r[1]) == RAFT_LEADER && raft_term(c.r[1]) == 4,
		    "node 1 leads term 4 with entries of terms 1, 2 and its no-op")) {
		cluster_free(&c);
		return;
	}
	for (int i = 0; i < 10; i++) {
		raft_tick(c.r[1]);
		flush(&c, 1);
		deliver(&c);
	}
	tap_ok(raft_last_index(c.r[2]) == 2 && raft_commit(c.r[1]) == 0,
	       "node 2 holds the term-2 entry (a majority: last %llu), yet commit stays %llu",
	       (unsigned long long)raft_last_index(c.r[2]),
	       (unsigned long long)raft_commit(c.r[1]));
	c.hold = NULL;
	tick_all(&c, 3);
	tap_ok(raft_commit(c.r[1]) == 3,
	       "the leader's no-op of term 4 commits both (commit %llu)",
	       (unsigned long long)raft_commit(c.r[1]));
	cluster_free(&c);
}

/* A follower with 200 entries of a dead term catches up in a few probes. */
static void fast_backtracking(void)
{
	uint64_t lt[301], ft[201];
	struct cluster c;
	unsigned int before;

	for (int i = 0; i < 301; i++)
		lt[i] = i < 100 ? 1 : i < 200 ? 3 : 5;
	for (int i = 0; i < 201; i++)
		ft[i] = i < 100 ? 1 : 2;
	memset(&c, 0, sizeof(c));
	c.n = 3;
	c.r[1] = restored(3, 1, 5, lt, 301, NULL);
	c.r[2] = restored(3, 2, 5, lt, 301, NULL);
	c.r[3] = restored(3, 3, 5, ft, 201, NULL);
	c.cut[3] = true;
	elect(&c);
	c.cut[3] = false;
	before = c.appends_sent;
	tick_all(&c, 10);
	tap_ok(raft_last_index(c.r[3]) == 302 &&
	       raft_entry_at(c.r[3], 150)->term == 3,
	       "a follower's 101 entries of term 2 are replaced (last %llu)",
	       (unsigned long long)raft_last_index(c.r[3]));
	tap_ok(c.appends_sent - before < 60,
	       "in %u APPENDs, not one probe per entry", c.appends_sent - before);
	cluster_free(&c);
}

static void bad_messages(void)
{
	struct raft_config cfg = config(3, 1);
	struct raft_entry e = { .term = 1, .type = RAFT_ENTRY_COMMAND };
	struct raft_msg m = { .type = RAFT_MSG_HEARTBEAT, .from = 2, .to = 1, .term = 1 };
	struct raft *r;

	r = raft_new(&cfg);
	/* A leader's messages are taken from a node not yet known: a node
	 * that joins learns the membership from its leader.
	 */
	m.from = 9;
	m.type = RAFT_MSG_PREVOTE_REPLY;
	tap_ok(raft_step(r, &m) == -EINVAL, "a pre-vote reply from a non-member is refused");
	m.type = RAFT_MSG_APPEND_REPLY;
	tap_ok(raft_step(r, &m) == -EINVAL, "an append reply from a non-member is refused");
	m.type = RAFT_MSG_HEARTBEAT;
	m.from = 2;
	m.to = 3;
	tap_ok(raft_step(r, &m) == -EINVAL, "a message for another node is refused");
	m.to = 1;
	m.type = 77;
	tap_ok(raft_step(r, &m) == -EINVAL, "an unknown type is refused");
	m.type = RAFT_MSG_VOTE;
	m.n_entries = 1;
	m.entries = &e;
	tap_ok(raft_step(r, &m) == -EINVAL, "entries on a vote request are refused");
	tap_ok(raft_term(r) == 0, "and none of them changed the term");
	raft_free(r);

	cfg.n_nodes = 0;
	errno = 0;
	tap_ok(!raft_new(&cfg) && errno == EINVAL, "an empty cluster is refused");
	cfg = config(3, 4);
	tap_ok(!raft_new(&cfg), "a node not among the nodes is refused");
	cfg = config(3, 1);
	cfg.heartbeat_ticks = cfg.election_ticks;
	tap_ok(!raft_new(&cfg), "a heartbeat no shorter than the election timeout is refused");
	cfg = config(3, 1);
	cfg.nodes[2] = 2;
	tap_ok(!raft_new(&cfg), "a node listed twice is refused");
}

static void storage_failure(void)
{
	struct cluster c;
	uint32_t l;
	uint64_t term;

	cluster_init(&c, 3, NULL);
	l = elect(&c);
	term = raft_term(c.r[l]);
	raft_storage_failed(c.r[l]);
	flush(&c, l);
	tap_ok(raft_role(c.r[l]) != RAFT_LEADER && propose(&c, l, "x") == -EPERM,
	       "a leader whose disk failed steps down and refuses writes");
	tick_all(&c, 200);
	tap_ok(leader_of(&c) && leader_of(&c) != l,
	       "another node leads (node %u, term %llu > %llu)", leader_of(&c),
	       (unsigned long long)raft_term(c.r[leader_of(&c)]),
	       (unsigned long long)term);
	cluster_free(&c);
}

/* A follower left behind a compacted log gets the snapshot, in chunks. */
static void snapshot_install(void)
{
	struct cluster c;
	uint32_t l, f;
	uint64_t commit;
	struct raft_status st;
	bool same = true;

	cluster_init(&c, 3, NULL);
	l = elect(&c);
	f = l % 3 + 1;
	c.cut[f] = true;
	for (int i = 0; i < 40; i++)
		propose(&c, l, "w");
	tick_all(&c, 3);
	commit = c.commit[l];
	tap_ok(raft_compact(c.r[l], commit + 1, 5000, 0) == -EINVAL &&
	       !raft_compact(c.r[l], commit, 5000, 0),
	       "the leader compacts its log up to its commit index, not past it");
	raft_status(c.r[l], &st);
	tap_ok(st.first_index == commit + 1 && st.snap_index == commit &&
	       !raft_entry_at(c.r[l], commit),
	       "the entries up to %llu are gone from its log",
	       (unsigned long long)commit);
	c.cut[f] = false;
	tick_all(&c, 10);
	raft_status(c.r[f], &st);
	tap_ok(c.installs == 1 && c.chunks == 5 && st.snap_index == commit,
	       "the follower left behind installs the snapshot: %u chunks of 1024 bytes, %u installs",
	       c.chunks, c.installs);
	propose(&c, l, "after");
	tick_all(&c, 3);
	for (uint32_t id = 1; id <= 3; id++)
		same &= c.commit[id] == commit + 1 &&
			raft_last_index(c.r[id]) == commit + 1;
	tap_ok(same, "and takes the entries after it like the others (commit %llu)",
	       (unsigned long long)c.commit[f]);
	cluster_free(&c);
}

static void join_node_4(struct raft_config *cfg)
{
	if (cfg->id == 4) {
		cfg->n_nodes = 0;
		cfg->join = true;
	} else {
		cfg->n_nodes = 3;
	}
}

static struct raft_conf members(const char *spec)
{
	struct raft_conf conf = { 0 };

	/* "1 2 3 4l": ids, l for a non-voter */
	for (const char *p = spec; *p; p++) {
		if (*p >= '1' && *p <= '9') {
			conf.m[conf.n].id = (uint32_t)(*p - '0');
			conf.m[conf.n++].voter = p[1] != 'l';
		}
	}
	return conf;
}

static bool has_members(struct raft *r, const char *spec)
{
	struct raft_conf want = members(spec);
	const struct raft_conf *have = raft_membership(r);

	raft_conf_check(&want);
	return have && raft_conf_equal(have, &want);
}

static void membership(void)
{
	struct cluster c;
	struct raft_conf to;
	const char *why = "";
	uint32_t l, l2, gone;
	bool quiet, rm_told = false;
	uint64_t term;
	int rc;

	cluster_init(&c, 4, join_node_4);
	c.cut[4] = true;
	l = elect(&c);
	tick_all(&c, 2);
	to = members("1 2 3 4");
	rc = raft_change(c.r[l], &to, &why);
	tap_ok(rc == -EINVAL, "a new member cannot join as a voter at once (%s)", why);
	to = members("1 2 3 4l");
	rc = raft_change(c.r[l], &to, &why);
	tap_ok(!rc, "node 4 joins as a non-voter (%d %s)", rc, why);
	rc = raft_change(c.r[l], &to, &why);
	tap_ok(rc == -EAGAIN, "a second change waits (%s)", why);
	flush(&c, l);
	tick_all(&c, 3);
	tap_ok(has_members(c.r[l], "1 2 3 4l"),
	       "while node 4 is unreachable it stays a non-voter");
	for (int i = 0; i < 30; i++)
		propose(&c, l, "w");
	tick_all(&c, 3);
	tap_ok(c.commit[l] == raft_last_index(c.r[l]),
	       "and the 3 voters commit without it (commit %llu)",
	       (unsigned long long)c.commit[l]);
	c.cut[4] = false;
	tick_all(&c, 10);
	tap_ok(has_members(c.r[l], "1 2 3 4") && has_members(c.r[4], "1 2 3 4") &&
	       c.commit[4] == c.commit[l],
	       "once it has caught up the leader makes it a voter (commit %llu on node 4)",
	       (unsigned long long)c.commit[4]);
	gone = l == 1 ? 2 : 1;
	to = members("1 2 3 4");
	to.m[gone - 1] = to.m[--to.n];
	tap_ok(!raft_change(c.r[l], &to, &why), "node %u is removed", gone);
	flush(&c, l);
	tick_all(&c, 3);
	term = raft_term(c.r[l]);
	tap_ok(raft_membership(c.r[l])->n == 3, "the others have 3 members");
	/* The leader stops sending to it at once, so it never hears of its
	 * removal: it campaigns, and the members ignore it, but tell it that
	 * their committed membership, newer than its log, has it no more.
	 */
	tick_all(&c, 100);
	tap_ok(leader_of(&c) == l && raft_term(c.r[l]) == term,
	       "the removed node's campaigns disturb no one (leader %u, term %llu)",
	       leader_of(&c), (unsigned long long)raft_term(c.r[l]));
	tap_ok(raft_removed_by(c.r[gone]) && raft_removed_by(c.r[gone]) != gone,
	       "a member told node %u it was removed (node %u)", gone,
	       raft_removed_by(c.r[gone]));
	quiet = true;
	for (int i = 0; i < 100; i++) {
		tick_all(&c, 1);
		quiet &= raft_role(c.r[gone]) == RAFT_FOLLOWER;
	}
	tap_ok(quiet, "so it campaigns no more");
	for (uint32_t id = 1; id <= 4; id++)
		if (id != gone)
			rm_told |= raft_removed_by(c.r[id]) != 0;
	tap_ok(!rm_told, "no member was told so");
	/* The leader removes itself: it leads until that commits, then goes. */
	term = raft_term(c.r[l]);
	to = *raft_membership(c.r[l]);
	*raft_conf_find(&to, l) = to.m[--to.n];
	tap_ok(!raft_change(c.r[l], &to, &why), "the leader %u removes itself", l);
	flush(&c, l);
	tick_all(&c, 3);
	tap_ok(raft_role(c.r[l]) == RAFT_FOLLOWER,
	       "and steps down once that is committed");
	l2 = elect(&c);
	tap_ok(l2 && l2 != l && l2 != gone && raft_term(c.r[l2]) > term,
	       "the 2 remaining voters elect node %u", l2);
	cluster_free(&c);
}

static void transfer(void)
{
	struct cluster c;
	uint32_t l, t;
	uint64_t term;

	cluster_init(&c, 3, NULL);
	l = elect(&c);
	tick_all(&c, 2);
	term = raft_term(c.r[l]);
	t = l % 3 + 1;
	tap_ok(raft_transfer(c.r[l], l) == -EINVAL, "a leader cannot transfer to itself");
	tap_ok(!raft_transfer(c.r[l], t) && propose(&c, l, "w") == -EBUSY,
	       "during a transfer to node %u proposals are refused", t);
	deliver(&c);
	tick_all(&c, 1);
	tap_ok(leader_of(&c) == t && raft_term(c.r[t]) == term + 1,
	       "node %u leads at once, in term %llu (leader stickiness does not stop it)",
	       t, (unsigned long long)raft_term(c.r[t]));
	/* A transfer to a node that cannot answer is given up. */
	l = t;
	t = l % 3 + 1;
	c.cut[t] = true;
	tap_ok(!raft_transfer(c.r[l], t), "a transfer to a node cut off");
	tick_all(&c, 12);
	tap_ok(leader_of(&c) == l && !propose(&c, l, "w"),
	       "is given up after an election timeout: node %u leads and takes writes again", l);
	cluster_free(&c);
}

/* Ticks until another node leads, the leader cut off at tick 0. */
static unsigned int failover(bool hints, bool *ok)
{
	struct cluster c;
	uint32_t l;
	unsigned int ticks = 0;

	cluster_init(&c, 3, NULL);
	l = elect(&c);
	tick_all(&c, 5);
	c.cut[l] = true;
	if (hints) {
		for (uint32_t id = 1; id <= 3; id++) {
			if (id == l)
				continue;
			raft_hint_dead(c.r[id], l);
			flush(&c, id);
		}
		deliver(&c);
	}
	while (ticks < 100 && (!leader_of(&c) || leader_of(&c) == l)) {
		tick_all(&c, 1);
		ticks++;
	}
	*ok = leader_of(&c) && leader_of(&c) != l;
	cluster_free(&c);
	return ticks;
}

static void hints(void)
{
	struct cluster c;
	unsigned int with, without;
	bool ok1, ok2;
	uint32_t l, f;
	uint64_t term;

	with = failover(true, &ok1);
	without = failover(false, &ok2);
	tap_ok(ok1 && ok2 && with <= 1 && without >= 10,
	       "a dead leader is replaced in %u ticks with detector hints, %u without (election timeout 10..19)",
	       with, without);
	/* The verdicts reach the followers apart: the first pre-vote is
	 * refused by a follower that still trusts the leader, and is
	 * retried soon, not after an election timeout.
	 */
	{
		unsigned int ticks = 0;
		uint32_t f0, f1;

		cluster_init(&c, 3, NULL);
		l = elect(&c);
		tick_all(&c, 5);
		f0 = l == 1 ? 2 : 1;
		f1 = 6 - l - f0;
		/* Only f0 has the last entry: only f0 can win. */
		c.cut[f1] = true;
		propose(&c, l, "only f0");
		deliver(&c);
		c.cut[f1] = false;
		c.cut[l] = true;
		raft_hint_dead(c.r[f0], l);
		flush(&c, f0);
		deliver(&c);
		tick_all(&c, 1);
		raft_hint_dead(c.r[f1], l);
		flush(&c, f1);
		while (ticks < 100 && (!leader_of(&c) || leader_of(&c) == l)) {
			tick_all(&c, 1);
			ticks++;
		}
		/* Sooner than the shortest election timeout (10 ticks). */
		tap_ok(leader_of(&c) && leader_of(&c) != l && ticks < 10,
		       "verdicts a tick apart, the first node's pre-vote refused: node %u leads %u ticks after the second",
		       leader_of(&c), ticks);
		cluster_free(&c);
	}
	/* A false hint: the other follower still hears the leader. */
	cluster_init(&c, 3, NULL);
	l = elect(&c);
	tick_all(&c, 5);
	term = raft_term(c.r[l]);
	f = l % 3 + 1;
	raft_hint_dead(c.r[f], l);
	flush(&c, f);
	tick_all(&c, 30);
	tap_ok(leader_of(&c) == l && raft_term(c.r[l]) == term,
	       "a false hint to one follower changes nothing (leader %u, term %llu)",
	       leader_of(&c), (unsigned long long)raft_term(c.r[leader_of(&c)]));
	/* False hints to both followers cost an election, nothing more. */
	for (uint32_t id = 1; id <= 3; id++) {
		if (id == l)
			continue;
		raft_hint_dead(c.r[id], l);
		flush(&c, id);
	}
	tick_all(&c, 30);
	tap_ok(leader_of(&c) && raft_term(c.r[leader_of(&c)]) <= term + 1 &&
	       !propose(&c, leader_of(&c), "w"),
	       "false hints to both followers cost one election at most (term %llu), and writes go on",
	       (unsigned long long)raft_term(c.r[leader_of(&c)]));
	cluster_free(&c);
}

int main(void)
{
	single_node();
	replication();
	prevote(true);
	prevote(false);
	check_quorum(true);
	check_quorum(false);
	read_index();
	figure8();
	fast_backtracking();
	bad_messages();
	storage_failure();
	snapshot_install();
	membership();
	transfer();
	hints();
	return tap_done();
}
