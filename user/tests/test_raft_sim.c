// SPDX-License-Identifier: GPL-2.0
/*
 * Deterministic simulation of the Raft core: clusters of 3 and 5 over a
 * simulated network that drops, duplicates, delays, reorders and
 * partitions, with nodes crashing and restarting from what they
 * persisted.  After every step the safety properties are checked:
 *
 *   election safety      at most one leader per term, ever
 *   log matching         an (index, term) names one entry and one
 *                        predecessor term, in every log
 *   leader completeness  a new leader holds every committed entry
 *   state machine safety every node applies the same entry at an index
 *   ReadIndex            a confirmed read's index covers every commit
 *                        any node knew of when the read was asked
 *
 * and at the end of each schedule, once the faults stop, liveness: a
 * leader commits a new entry on every node.  Each schedule is a seed; a
 * failing one replays exactly:
 *
 *	test_raft_sim [--nodes N] [--seeds COUNT] [--seed S] [-v]
 *
 * Two broken storage models (votes forgotten over a crash; entries
 * acknowledged before they were durable) must be caught: that is how we
 * know the checks can fail.
 *
 * Nodes also snapshot their state machine (a hash chain of what they
 * applied) and compact their logs at random; a lagging node is sent the
 * snapshot in chunks, which it checks against what was committed (state
 * machine safety again).  Leaders transfer leadership at random, and
 * followers get failure-detector hints, true (the leader crashed) and
 * false.  In membership schedules two of the five nodes start outside
 * the cluster and members are added and removed one at a time.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../raft/core.h"
#include "tap.h"

#define TICK_MS		10
#define MAX_NODES	5

enum storage_bug {
	STORAGE_OK,
	STORAGE_FORGETS_VOTE,	/* the vote is lost in a crash */
	STORAGE_EARLY_ACK,	/* the last synced entries are lost in a crash */
};

struct sim_msg {
	uint64_t due;
	struct raft_msg m;
};

/* A snapshot file: index, term, chain, conf length, conf, padding. */
#define SNAP_HDR	26

struct blob {
	uint8_t *data;
	size_t len;
};

struct disk {
	uint64_t term;
	uint32_t vote;
	struct raft_entry *log;		/* log[0] has index snap_index + 1 */
	size_t n;
	size_t cap;
	uint64_t snap_index;
	uint64_t snap_term;
	struct blob snap;
	uint64_t part_index, part_term;	/* a snapshot being received */
	struct blob part;
	size_t part_cap;
};

struct node {
	uint32_t id;
	struct raft *r;
	bool up;
	uint64_t down_until;
	int group;
	unsigned int phase;
	uint64_t applied;
	uint64_t chain;			/* hash of the entries applied */
	uint64_t last_term_seen;
	uint64_t hint_at;		/* a detector's verdict is due */
	uint32_t hint_about;
	struct disk disk;
};

struct committed {
	uint64_t term;
	uint64_t hash;
	uint64_t chain;
};

struct entry_id {
	uint64_t index;
	uint64_t term;
	uint64_t hash;
	uint64_t prev_term;
	bool used;
};

struct pending_read {
	uint64_t id;
	uint64_t min_index;
};

struct sim {
	uint64_t seed;
	uint64_t rng;
	unsigned int n;
	struct node nodes[MAX_NODES];
	uint64_t now;
	enum storage_bug bug;
	bool verbose;
	/* faults of this schedule */
	unsigned int drop_pct, dup_pct, max_delay;
	unsigned int crash_permille, partition_permille, propose_pct;
	unsigned int snapshot_permille, transfer_permille, hint_permille;
	unsigned int change_permille;
	unsigned int initial;		/* members at the start */
	bool faults;
	uint64_t partition_until;
	/* the network */
	struct sim_msg *msgs;
	size_t n_msgs, msgs_cap;
	/* what the checks remember */
	uint32_t *term_leader;
	size_t term_leader_cap;
	struct committed *committed;
	size_t committed_cap;
	uint64_t max_commit;
	struct entry_id *ids;
	size_t ids_cap, ids_used;
	struct pending_read *reads;
	size_t n_reads, reads_cap;
	uint64_t next_read;
	uint64_t proposals;
	/* results */
	char violation[512];
	uint64_t steps, elections, commits, reads_ok, crashes, partitions;
	uint64_t snapshots, installs, transfers, hints, changes;
};

static uint64_t rnd(struct sim *s)
{
	s->rng ^= s->rng >> 12;
	s->rng ^= s->rng << 25;
	s->rng ^= s->rng >> 27;
	return s->rng * 0x2545F4914F6CDD1DULL;
}

static unsigned int rnd_below(struct sim *s, unsigned int n)
{
	return n ? (unsigned int)(rnd(s) % n) : 0;
}

static bool chance_permille(struct sim *s, unsigned int permille)
{
	return rnd_below(s, 1000) < permille;
}

__attribute__((format(printf, 2, 3)))
static void violation(struct sim *s, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (s->violation[0])
		return;
	n = snprintf(s->violation, sizeof(s->violation), "t=%" PRIu64 "ms: ",
		     s->now);
	va_start(ap, fmt);
	vsnprintf(s->violation + n, sizeof(s->violation) - n, fmt, ap);
	va_end(ap);
}

__attribute__((format(printf, 2, 3)))
static void trace(struct sim *s, const char *fmt, ...)
{
	va_list ap;

	if (!s->verbose)
		return;
	printf("# %6" PRIu64 " ", s->now);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static void *grow(void *p, size_t *cap, size_t need, size_t size)
{
	size_t n = *cap ? *cap : 64;

	if (need <= *cap)
		return p;
	while (n < need)
		n *= 2;
	p = realloc(p, n * size);
	if (!p) {
		perror("realloc");
		exit(2);
	}
	memset((char *)p + *cap * size, 0, (n - *cap) * size);
	*cap = n;
	return p;
}

static uint64_t entry_hash(const struct raft_entry *e)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ e->type;

	for (uint32_t i = 0; i < e->len; i++)
		h = (h ^ e->data[i]) * 0x100000001b3ULL;
	return h;
}

static struct raft_entry copy_entry(const struct raft_entry *e)
{
	struct raft_entry c = *e;

	c.data = NULL;
	if (e->len) {
		c.data = malloc(e->len);
		if (!c.data)
			exit(2);
		memcpy(c.data, e->data, e->len);
	}
	return c;
}

static uint64_t chain_next(uint64_t chain, uint64_t hash)
{
	return (chain ^ hash) * 0x100000001b3ULL + 0x9E3779B97F4A7C15ULL;
}

static void put_u64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_u64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* Checks. */

static void check_entry_id(struct sim *s, const struct raft_entry *e,
			   uint64_t prev_term)
{
	uint64_t hash = entry_hash(e);
	size_t i;

	if (s->ids_used * 2 >= s->ids_cap) {
		struct entry_id *old = s->ids;
		size_t old_cap = s->ids_cap;

		s->ids_cap = old_cap ? old_cap * 2 : 1024;
		s->ids = calloc(s->ids_cap, sizeof(*s->ids));
		if (!s->ids)
			exit(2);
		s->ids_used = 0;
		for (i = 0; i < old_cap; i++)
			if (old[i].used) {
				size_t j = (old[i].index * 31 + old[i].term) % s->ids_cap;

				while (s->ids[j].used)
					j = (j + 1) % s->ids_cap;
				s->ids[j] = old[i];
				s->ids_used++;
			}
		free(old);
	}
	i = (e->index * 31 + e->term) % s->ids_cap;
	while (s->ids[i].used) {
		struct entry_id *id = &s->ids[i];

		if (id->index == e->index && id->term == e->term) {
			if (id->hash != hash || id->prev_term != prev_term)
				violation(s, "log matching: two different entries at index %" PRIu64 " term %" PRIu64,
					  e->index, e->term);
			return;
		}
		i = (i + 1) % s->ids_cap;
	}
	s->ids[i] = (struct entry_id){ e->index, e->term, hash, prev_term, true };
	s->ids_used++;
}

static void check_leaders(struct sim *s)
{
	for (unsigned int i = 0; i < s->n; i++) {
		struct node *nd = &s->nodes[i];
		uint64_t term;

		if (!nd->up || raft_role(nd->r) != RAFT_LEADER)
			continue;
		term = raft_term(nd->r);
		s->term_leader = grow(s->term_leader, &s->term_leader_cap,
				      term + 1, sizeof(*s->term_leader));
		if (s->term_leader[term] == nd->id)
			continue;
		if (s->term_leader[term]) {
			violation(s, "election safety: nodes %u and %u both leaders of term %" PRIu64,
				  s->term_leader[term], nd->id, term);
			continue;
		}
		s->term_leader[term] = nd->id;
		s->elections++;
		trace(s, "node %u leader of term %" PRIu64 " (last index %" PRIu64 ")",
		      nd->id, term, raft_last_index(nd->r));
		/* Leader completeness (what it compacted, its snapshot holds). */
		struct raft_status st;

		raft_status(nd->r, &st);
		for (uint64_t idx = st.first_index; idx <= s->max_commit; idx++) {
			const struct raft_entry *e = raft_entry_at(nd->r, idx);

			if (!e || e->term != s->committed[idx].term ||
			    entry_hash(e) != s->committed[idx].hash) {
				violation(s, "leader completeness: leader %u of term %" PRIu64 " lacks committed entry %" PRIu64,
					  nd->id, term, idx);
				break;
			}
		}
	}
}

/* A commit index reached somewhere: those entries are committed. */
static void note_commit(struct sim *s, struct node *nd, uint64_t commit)
{
	s->committed = grow(s->committed, &s->committed_cap, commit + 1,
			    sizeof(*s->committed));
	for (uint64_t i = s->max_commit + 1; i <= commit; i++) {
		const struct raft_entry *e = raft_entry_at(nd->r, i);

		if (!e) {
			violation(s, "node %u commits %" PRIu64 " beyond its log", nd->id, i);
			return;
		}
		s->committed[i].term = e->term;
		s->committed[i].hash = entry_hash(e);
		s->committed[i].chain = chain_next(i > 1 ? s->committed[i - 1].chain : 0,
						   s->committed[i].hash);
		s->commits++;
	}
	if (commit > s->max_commit)
		s->max_commit = commit;
}

static void apply(struct sim *s, struct node *nd, uint64_t commit)
{
	if (commit > raft_last_index(nd->r)) {
		violation(s, "node %u: commit %" PRIu64 " past its last entry", nd->id, commit);
		return;
	}
	note_commit(s, nd, commit);
	while (nd->applied < commit) {
		const struct raft_entry *e = raft_entry_at(nd->r, ++nd->applied);
		const struct committed *c = &s->committed[nd->applied];

		if (e->term != c->term || entry_hash(e) != c->hash) {
			violation(s, "state machine safety: node %u applies term %" PRIu64 " at %" PRIu64 ", committed was term %" PRIu64,
				  nd->id, e->term, nd->applied, c->term);
			return;
		}
		nd->chain = chain_next(nd->chain, c->hash);
		if (nd->chain != c->chain) {
			violation(s, "state machine safety: node %u's state at %" PRIu64 " is not the committed one",
				  nd->id, nd->applied);
			return;
		}
	}
}

static void check_read(struct sim *s, struct node *nd, const struct raft_read *rd)
{
	for (size_t i = 0; i < s->n_reads; i++) {
		if (s->reads[i].id != rd->id)
			continue;
		if (rd->index < s->reads[i].min_index)
			violation(s, "ReadIndex: node %u confirms read %" PRIu64 " at index %" PRIu64 ", but %" PRIu64 " was committed before it was asked",
				  nd->id, rd->id, rd->index, s->reads[i].min_index);
		s->reads[i] = s->reads[--s->n_reads];
		s->reads_ok++;
		return;
	}
	violation(s, "ReadIndex: node %u confirms unknown read %" PRIu64, nd->id, rd->id);
}

/* Storage and the network. */

static uint64_t disk_last(const struct disk *d)
{
	return d->snap_index + d->n;
}

static uint64_t disk_term(const struct disk *d, uint64_t index)
{
	if (index && index == d->snap_index)
		return d->snap_term;
	if (index <= d->snap_index || index > disk_last(d))
		return 0;
	return d->log[index - d->snap_index - 1].term;
}

static void disk_truncate(struct disk *d, uint64_t from)
{
	while (d->n && disk_last(d) >= from) {
		free(d->log[d->n - 1].data);
		d->n--;
	}
}

/* Drops the entries up to index (a snapshot holds them now). */
static void disk_compact(struct disk *d, uint64_t index)
{
	size_t k = index - d->snap_index;

	if (k > d->n)
		k = d->n;
	for (size_t i = 0; i < k; i++)
		free(d->log[i].data);
	memmove(d->log, d->log + k, (d->n - k) * sizeof(*d->log));
	d->n -= k;
}

static void disk_append(struct disk *d, const struct raft_entry *e)
{
	d->log = grow(d->log, &d->cap, d->n + 1, sizeof(*d->log));
	d->log[d->n++] = copy_entry(e);
}

static void disk_free(struct disk *d)
{
	disk_truncate(d, 1);
	free(d->log);
	free(d->snap.data);
	free(d->part.data);
	memset(d, 0, sizeof(*d));
}

static void send(struct sim *s, const struct raft_msg *m)
{
	unsigned int copies = 1;

	if (s->faults && chance_permille(s, s->drop_pct * 10))
		return;
	if (s->faults && chance_permille(s, s->dup_pct * 10))
		copies = 2;
	while (copies--) {
		struct sim_msg *sm;

		s->msgs = grow(s->msgs, &s->msgs_cap, s->n_msgs + 1, sizeof(*s->msgs));
		sm = &s->msgs[s->n_msgs++];
		sm->due = s->now + 1 + rnd_below(s, s->faults ? s->max_delay : 5);
		sm->m = *m;
		sm->m.entries = NULL;
		if (m->type == RAFT_MSG_SNAPSHOT) {
			const struct disk *d = &s->nodes[m->from - 1].disk;
			uint8_t *data;

			/* The file is read as the message leaves. */
			if (d->snap_index != m->index ||
			    m->offset + m->data_len > d->snap.len) {
				s->n_msgs--;
				return;
			}
			data = malloc(m->data_len);
			if (!data)
				exit(2);
			memcpy(data, d->snap.data + m->offset, m->data_len);
			sm->m.data = data;
		}
		if (m->n_entries) {
			sm->m.entries = malloc(m->n_entries * sizeof(*m->entries));
			if (!sm->m.entries)
				exit(2);
			for (uint32_t i = 0; i < m->n_entries; i++)
				sm->m.entries[i] = copy_entry(&m->entries[i]);
		}
	}
}

static void free_msg(struct sim_msg *sm)
{
	for (uint32_t i = 0; i < sm->m.n_entries; i++)
		free(sm->m.entries[i].data);
	free(sm->m.entries);
	free((void *)sm->m.data);
}

/* Snapshots: a header, the membership and some padding. */

static void snapshot_take(struct sim *s, struct node *nd)
{
	struct disk *d = &nd->disk;
	uint8_t conf[RAFT_CONF_MAX];
	struct raft_conf c;
	size_t pad = rnd_below(s, 3000), len;
	uint64_t index = nd->applied;
	int clen;

	if (index < d->snap_index + 5 || raft_conf_at(nd->r, index, &c))
		return;
	clen = raft_conf_encode(&c, conf, sizeof(conf));
	if (clen < 0) {
		violation(s, "node %u: membership at %" PRIu64 " does not encode", nd->id, index);
		return;
	}
	len = SNAP_HDR + (size_t)clen + pad;
	free(d->snap.data);
	d->snap.data = malloc(len);
	if (!d->snap.data)
		exit(2);
	d->snap.len = len;
	d->snap_term = disk_term(d, index);
	put_u64(d->snap.data, index);
	put_u64(d->snap.data + 8, d->snap_term);
	put_u64(d->snap.data + 16, nd->chain);
	d->snap.data[24] = (uint8_t)clen;
	d->snap.data[25] = (uint8_t)(clen >> 8);
	memcpy(d->snap.data + SNAP_HDR, conf, (size_t)clen);
	for (size_t i = 0; i < pad; i++)
		d->snap.data[SNAP_HDR + clen + i] = (uint8_t)(index + i);
	disk_compact(d, index);
	d->snap_index = index;
	if (raft_compact(nd->r, index, len, rnd_below(s, 5)))
		violation(s, "node %u cannot compact at applied %" PRIu64, nd->id, index);
	s->snapshots++;
	trace(s, "node %u snapshots at %" PRIu64 " (%zu bytes)", nd->id, index, len);
}

/* Reads a snapshot's header: 0, or -1 if it is malformed. */
static int snapshot_parse(const struct blob *b, uint64_t *index, uint64_t *term,
			  uint64_t *chain, struct raft_conf *c)
{
	size_t clen;

	if (b->len < SNAP_HDR)
		return -1;
	*index = get_u64(b->data);
	*term = get_u64(b->data + 8);
	*chain = get_u64(b->data + 16);
	clen = b->data[24] | (size_t)b->data[25] << 8;
	if (SNAP_HDR + clen > b->len)
		return -1;
	return raft_conf_decode(c, b->data + SNAP_HDR, clen) ? -1 : 0;
}

static void chunk_store(struct sim *s, struct node *nd, const struct raft_msg *m)
{
	struct disk *d = &nd->disk;

	/* Offset 0 starts the reception again, whatever the part holds. */
	if (!m->offset || m->index != d->part_index || m->log_term != d->part_term) {
		d->part_index = m->index;
		d->part_term = m->log_term;
		d->part.len = 0;
	}
	if (m->offset != d->part.len) {
		violation(s, "node %u: chunk at %" PRIu64 " to store, the part holds %zu",
			  nd->id, m->offset, d->part.len);
		return;
	}
	if (s->faults && chance_permille(s, 10)) {
		raft_snapshot_stored(nd->r, -EIO, d->part.len);
		return;
	}
	d->part.data = grow(d->part.data, &d->part_cap, d->part.len + m->data_len, 1);
	memcpy(d->part.data + d->part.len, m->data, m->data_len);
	d->part.len += m->data_len;
	raft_snapshot_stored(nd->r, 0, 0);
}

static void snapshot_install(struct sim *s, struct node *nd,
			     const struct raft_output *out)
{
	struct disk *d = &nd->disk;
	uint64_t index, term, chain;
	struct raft_conf c;

	if (d->part_index != out->snap_index || d->part.len != out->snap_total ||
	    snapshot_parse(&d->part, &index, &term, &chain, &c) ||
	    index != out->snap_index || term != out->snap_term) {
		violation(s, "node %u: the snapshot received is not the one sent", nd->id);
		return;
	}
	if (index > s->max_commit || chain != s->committed[index].chain) {
		violation(s, "state machine safety: node %u receives a snapshot at %" PRIu64 " that is not the committed state",
			  nd->id, index);
		return;
	}
	disk_truncate(d, 1);
	d->n = 0;
	free(d->snap.data);
	d->snap = d->part;
	d->snap_index = index;
	d->snap_term = term;
	d->part.data = NULL;
	d->part.len = d->part_cap = 0;
	d->part_index = d->part_term = 0;
	nd->applied = index;
	nd->chain = chain;
	raft_snapshot_installed(nd->r, 0, index, term, &c);
	s->installs++;
	trace(s, "node %u installs the snapshot at %" PRIu64, nd->id, index);
}

static void crash(struct sim *s, struct node *nd, uint64_t down_ms);

/* raft_take() and everything the daemon does with it, until quiet. */
static void process(struct sim *s, struct node *nd)
{
	for (int round = 0; round < 8 && nd->up; round++) {
		struct raft_output out;
		uint64_t last_index, last_term = 0;
		bool busy;

		raft_take(nd->r, &out);
		busy = out.meta_changed || out.n_entries || out.truncate_from ||
		       out.n_msgs || out.n_reads || out.n_failed_reads ||
		       out.commit > nd->applied || out.snap_complete;
		if (!busy)
			return;
		/* A leader's APPENDs may leave before its own disk write. */
		for (size_t i = 0; i < out.n_msgs; i++)
			if (out.msgs[i].type == RAFT_MSG_APPEND)
				send(s, &out.msgs[i]);
		if ((out.n_entries || out.meta_changed) && s->faults &&
		    chance_permille(s, 2)) {
			trace(s, "node %u crashes while persisting", nd->id);
			crash(s, nd, 20 + rnd_below(s, 300));
			return;
		}
		if (out.meta_changed) {
			nd->disk.term = out.term;
			nd->disk.vote = out.vote;
		}
		if (out.truncate_from)
			disk_truncate(&nd->disk, out.truncate_from);
		for (size_t i = 0; i < out.n_entries; i++) {
			const struct raft_entry *e = &out.entries[i];
			uint64_t prev = disk_term(&nd->disk, e->index - 1);

			if (e->index != disk_last(&nd->disk) + 1) {
				violation(s, "node %u persists index %" PRIu64 " after %" PRIu64,
					  nd->id, e->index, disk_last(&nd->disk));
				return;
			}
			check_entry_id(s, e, prev);
			disk_append(&nd->disk, e);
		}
		for (size_t i = 0; i < out.n_msgs; i++)
			if (out.msgs[i].type != RAFT_MSG_APPEND)
				send(s, &out.msgs[i]);
		apply(s, nd, out.commit);
		for (size_t i = 0; i < out.n_reads; i++)
			check_read(s, nd, &out.reads[i]);
		if (out.snap_complete)
			snapshot_install(s, nd, &out);
		else if (chance_permille(s, s->snapshot_permille))
			snapshot_take(s, nd);
		if (s->violation[0])
			return;
		last_index = disk_last(&nd->disk);
		last_term = disk_term(&nd->disk, last_index);
		raft_persisted(nd->r, last_index, last_term);
		check_leaders(s);
		if (s->violation[0])
			return;
	}
}

static struct raft_config node_config(struct sim *s, struct node *nd)
{
	struct raft_config cfg = { 0 };

	raft_config_default(&cfg);
	cfg.id = nd->id;
	if (nd->id > s->initial) {
		cfg.join = true;
	} else {
		cfg.n_nodes = s->initial;
		for (unsigned int i = 0; i < s->initial; i++)
			cfg.nodes[i] = s->nodes[i].id;
	}
	cfg.seed = rnd(s);
	/* Small batches and windows reach the edge cases sooner. */
	cfg.max_append_bytes = 100;
	cfg.max_inflight = 4;
	cfg.snapshot_chunk = 200;
	cfg.snapshot_window = 3;
	return cfg;
}

static void boot(struct sim *s, struct node *nd)
{
	struct raft_config cfg = node_config(s, nd);

	nd->r = raft_new(&cfg);
	if (!nd->r) {
		perror("raft_new");
		exit(2);
	}
	raft_restore_meta(nd->r, nd->disk.term, nd->disk.vote);
	nd->applied = 0;
	nd->chain = 0;
	if (nd->disk.snap_index) {
		uint64_t index, term;
		struct raft_conf c;

		if (snapshot_parse(&nd->disk.snap, &index, &term, &nd->chain, &c) ||
		    raft_restore_snapshot(nd->r, index, term, &c, nd->disk.snap.len))
			violation(s, "node %u cannot restore its snapshot", nd->id);
		nd->applied = index;
	}
	for (size_t i = 0; i < nd->disk.n; i++) {
		struct raft_entry e = copy_entry(&nd->disk.log[i]);

		if (raft_restore_entry(nd->r, &e))
			violation(s, "node %u cannot restore entry %" PRIu64, nd->id,
				  nd->disk.snap_index + i + 1);
	}
	if (nd->disk.part_index)
		raft_snapshot_resume(nd->r, nd->disk.part_index, nd->disk.part_term,
				     nd->disk.part.len);
	nd->up = true;
	nd->hint_at = 0;
}

static void detect_crash(struct sim *s, struct node *dead);

static void crash(struct sim *s, struct node *nd, uint64_t down_ms)
{
	detect_crash(s, nd);
	raft_free(nd->r);
	nd->r = NULL;
	nd->up = false;
	nd->down_until = s->now + down_ms;
	s->crashes++;
	if (s->bug == STORAGE_FORGETS_VOTE)
		nd->disk.vote = 0;
	if (s->bug == STORAGE_EARLY_ACK && nd->disk.n)
		disk_truncate(&nd->disk, disk_last(&nd->disk) -
			      rnd_below(s, 3 < nd->disk.n ? 3 : (unsigned int)nd->disk.n));
	trace(s, "node %u crashes for %" PRIu64 " ms", nd->id, down_ms);
}

/* The others' failure detectors declare a crashed node dead soon. */
static void detect_crash(struct sim *s, struct node *dead)
{
	for (unsigned int i = 0; i < s->n; i++) {
		struct node *nd = &s->nodes[i];

		if (nd != dead && nd->up && chance_permille(s, s->hint_permille ? 900 : 0)) {
			nd->hint_at = s->now + 30 + rnd_below(s, 20);
			nd->hint_about = dead->id;
		}
	}
}

static bool is_member(struct node *nd, uint32_t id)
{
	const struct raft_conf *c = raft_membership(nd->r);

	return c && raft_conf_get(c, id);
}

static void deliver(struct sim *s)
{
	size_t i = 0;

	while (i < s->n_msgs && !s->violation[0]) {
		struct sim_msg sm = s->msgs[i];
		struct node *to, *from;

		if (sm.due > s->now) {
			i++;
			continue;
		}
		s->msgs[i] = s->msgs[--s->n_msgs];
		to = &s->nodes[sm.m.to - 1];
		from = &s->nodes[sm.m.from - 1];
		if (to->up && to->group == from->group) {
			int rc = raft_step(to->r, &sm.m);

			/* Non-members' messages are refused, as they should. */
			if (rc == RAFT_STEP_CHUNK)
				chunk_store(s, to, &sm.m);
			else if (rc && is_member(to, from->id))
				violation(s, "node %u refuses a %s from %u", to->id,
					  raft_msg_name(sm.m.type), from->id);
			process(s, to);
			s->steps++;
		}
		free_msg(&sm);
	}
}

static struct node *leader(struct sim *s)
{
	struct node *best = NULL;

	for (unsigned int i = 0; i < s->n; i++) {
		struct node *nd = &s->nodes[i];

		if (nd->up && raft_role(nd->r) == RAFT_LEADER &&
		    (!best || raft_term(nd->r) > raft_term(best->r)))
			best = nd;
	}
	return best;
}

/* One member added (as a non-voter) or removed, at random. */
static void change(struct sim *s, struct node *nd)
{
	struct raft_conf c = *raft_membership(nd->r);
	uint32_t id = s->nodes[rnd_below(s, s->n)].id;
	struct raft_member *m = raft_conf_find(&c, id);
	const char *why;

	if (!m) {
		c.m[c.n++] = (struct raft_member){ .id = id };
	} else {
		*m = c.m[--c.n];
		if (!raft_conf_voters(&c))
			return;
	}
	if (!raft_change(nd->r, &c, &why)) {
		s->changes++;
		trace(s, "node %u %s node %u", nd->id, m ? "removes" : "adds", id);
	}
}

static void transfer(struct sim *s, struct node *nd)
{
	const struct raft_conf *c = raft_membership(nd->r);
	const struct raft_member *m = &c->m[rnd_below(s, c->n)];

	if (m->id != nd->id && m->voter && !raft_transfer(nd->r, m->id)) {
		s->transfers++;
		trace(s, "node %u transfers leadership to %u", nd->id, m->id);
	}
}

/* A follower's detector wrongly declares its leader dead. */
static void false_hint(struct sim *s)
{
	struct node *nd = &s->nodes[rnd_below(s, s->n)];

	if (!nd->up || !raft_leader(nd->r))
		return;
	raft_hint_dead(nd->r, raft_leader(nd->r));
	s->hints++;
	process(s, nd);
}

static void client(struct sim *s)
{
	struct node *nd = leader(s);
	char data[64];
	uint64_t index, term;
	int len;

	if (s->faults && chance_permille(s, s->hint_permille))
		false_hint(s);
	if (!nd)
		return;
	if (s->faults && chance_permille(s, s->change_permille)) {
		change(s, nd);
		process(s, nd);
	}
	if (s->faults && chance_permille(s, s->transfer_permille)) {
		transfer(s, nd);
		process(s, nd);
	}
	if (!nd->up || raft_role(nd->r) != RAFT_LEADER ||
	    rnd_below(s, 100) >= s->propose_pct)
		return;
	if (rnd_below(s, 4) == 0) {
		s->reads = grow(s->reads, &s->reads_cap, s->n_reads + 1, sizeof(*s->reads));
		s->reads[s->n_reads].id = ++s->next_read;
		s->reads[s->n_reads].min_index = s->max_commit;
		if (raft_read_index(nd->r, s->next_read) == 0)
			s->n_reads++;
	} else {
		len = snprintf(data, sizeof(data), "seed %" PRIu64 " op %" PRIu64,
			       s->seed, ++s->proposals);
		raft_propose(nd->r, data, (uint32_t)len, &index, &term);
	}
	process(s, nd);
}

static void faults(struct sim *s)
{
	struct node *nd = &s->nodes[rnd_below(s, s->n)];

	if (nd->up && chance_permille(s, s->crash_permille)) {
		/* A quick restart lands in the same election. */
		crash(s, nd, s->bug != STORAGE_OK ? 1 + rnd_below(s, 40) :
		      50 + rnd_below(s, 1000));
		return;
	}
	if (s->now >= s->partition_until && chance_permille(s, s->partition_permille)) {
		for (unsigned int i = 0; i < s->n; i++)
			s->nodes[i].group = (int)rnd_below(s, 2);
		s->partition_until = s->now + 100 + rnd_below(s, 1000);
		s->partitions++;
		trace(s, "partition for %" PRIu64 " ms", s->partition_until - s->now);
	} else if (s->now == s->partition_until) {
		for (unsigned int i = 0; i < s->n; i++)
			s->nodes[i].group = 0;
		trace(s, "partition healed");
	}
}

static void step_ms(struct sim *s)
{
	s->now++;
	deliver(s);
	for (unsigned int i = 0; i < s->n && !s->violation[0]; i++) {
		struct node *nd = &s->nodes[i];

		if (!nd->up) {
			if (s->now >= nd->down_until) {
				boot(s, nd);
				trace(s, "node %u restarts at term %" PRIu64 " with %zu entries",
				      nd->id, nd->disk.term, nd->disk.n);
			}
			continue;
		}
		if (nd->hint_at && s->now >= nd->hint_at) {
			nd->hint_at = 0;
			raft_hint_dead(nd->r, nd->hint_about);
			s->hints++;
			process(s, nd);
		}
		if (nd->up && s->now % TICK_MS == nd->phase) {
			raft_tick(nd->r);
			process(s, nd);
			s->steps++;
		}
	}
	if (s->violation[0])
		return;
	client(s);
	if (s->faults)
		faults(s);
	check_leaders(s);
}

static void heal(struct sim *s)
{
	s->faults = false;
	s->partition_until = 0;
	for (unsigned int i = 0; i < s->n; i++) {
		s->nodes[i].group = 0;
		if (!s->nodes[i].up)
			s->nodes[i].down_until = s->now;
	}
}

/* After the faults: a leader must commit a fresh entry everywhere. */
static void check_liveness(struct sim *s)
{
	uint64_t index = 0, term = 0;
	struct node *nd;

	s->propose_pct = 0;
	for (int t = 0; t < 3000 && !s->violation[0]; t++) {
		step_ms(s);
		nd = leader(s);
		if (!index && nd && t >= 1000 &&
		    !raft_propose(nd->r, "final", 5, &index, &term))
			process(s, nd);
		if (index && s->max_commit >= index && nd) {
			bool everywhere = true;

			for (unsigned int i = 0; i < s->n; i++)
				everywhere &= s->nodes[i].applied >= index ||
					      !is_member(nd, s->nodes[i].id);
			if (everywhere)
				return;
		}
	}
	if (s->violation[0])
		return;
	for (unsigned int i = 0; i < s->n; i++) {
		struct raft_status st;
		const struct raft_conf *c;

		nd = &s->nodes[i];
		raft_status(nd->r, &st);
		c = raft_membership(nd->r);
		trace(s, "node %u: %s term %" PRIu64 " commit %" PRIu64 " last %" PRIu64 " applied %" PRIu64 ", membership of entry %" PRIu64 ": %u members, %u voters, %s",
		      nd->id, raft_role_name(st.role), st.term, st.commit,
		      st.last_index, nd->applied, st.conf_index, c ? c->n : 0,
		      c ? raft_conf_voters(c) : 0,
		      st.voter ? "a voter" : "not a voter");
		for (unsigned int j = 0; st.role == RAFT_LEADER && j < st.n_peers; j++)
			trace(s, "  peer %u: match %" PRIu64 " next %" PRIu64 " probing %d inflight %u snapshot %d at %" PRIu64 " (snapshot %" PRIu64 ")",
			      st.peers[j].id, st.peers[j].match, st.peers[j].next,
			      st.peers[j].probing, st.peers[j].inflight,
			      st.peers[j].snapshot, st.peers[j].snap_offset,
			      st.snap_index);
	}
	violation(s, "liveness: no entry committed on every node within 2 s of the faults ending (leader %u)",
		  leader(s) ? leader(s)->id : 0);
}

static void sim_free(struct sim *s)
{
	for (unsigned int i = 0; i < s->n; i++) {
		raft_free(s->nodes[i].r);
		disk_free(&s->nodes[i].disk);
	}
	for (size_t i = 0; i < s->n_msgs; i++)
		free_msg(&s->msgs[i]);
	free(s->msgs);
	free(s->term_leader);
	free(s->committed);
	free(s->ids);
	free(s->reads);
}

struct totals {
	uint64_t schedules, steps, elections, commits, reads, crashes, partitions;
	uint64_t snapshots, installs, transfers, hints, changes;
};

/* One schedule; true when every check held. */
static bool run(unsigned int n, uint64_t seed, enum storage_bug bug,
		bool verbose, struct totals *t, char *why, size_t whylen)
{
	struct sim s;
	bool ok;

	memset(&s, 0, sizeof(s));
	s.seed = seed;
	s.rng = seed * 0x9E3779B97F4A7C15ULL + 1;
	s.n = n;
	s.bug = bug;
	s.verbose = verbose;
	s.faults = true;
	s.drop_pct = rnd_below(&s, 25);
	s.dup_pct = rnd_below(&s, 10);
	s.max_delay = 5 + rnd_below(&s, 100);
	s.crash_permille = 1 + rnd_below(&s, 4);
	s.partition_permille = rnd_below(&s, 4);
	s.propose_pct = 5 + rnd_below(&s, 40);
	s.snapshot_permille = rnd_below(&s, 30);
	s.transfer_permille = rnd_below(&s, 3);
	s.hint_permille = rnd_below(&s, 3);
	s.initial = n;
	/* Every third schedule of 5 starts with 3 members and changes them. */
	if (n == 5 && seed % 3 == 0) {
		s.initial = 3;
		s.change_permille = 2 + rnd_below(&s, 10);
	}
	/* A broken storage model shows itself through crashes. */
	if (bug != STORAGE_OK)
		s.crash_permille *= 20;
	for (unsigned int i = 0; i < n; i++) {
		s.nodes[i].id = i + 1;
		s.nodes[i].phase = rnd_below(&s, TICK_MS);
	}
	for (unsigned int i = 0; i < n; i++)
		boot(&s, &s.nodes[i]);
	trace(&s, "seed %" PRIu64 ": drop %u%% dup %u%% delay <%u ms crash %u/1000 partition %u/1000",
	      seed, s.drop_pct, s.dup_pct, s.max_delay, s.crash_permille,
	      s.partition_permille);
	for (int ms = 0; ms < 3000 && !s.violation[0]; ms++)
		step_ms(&s);
	if (!s.violation[0]) {
		heal(&s);
		check_liveness(&s);
	}
	ok = !s.violation[0];
	if (!ok)
		snprintf(why, whylen, "%s", s.violation);
	t->schedules++;
	t->steps += s.steps;
	t->elections += s.elections;
	t->commits += s.commits;
	t->reads += s.reads_ok;
	t->crashes += s.crashes;
	t->partitions += s.partitions;
	t->snapshots += s.snapshots;
	t->installs += s.installs;
	t->transfers += s.transfers;
	t->hints += s.hints;
	t->changes += s.changes;
	sim_free(&s);
	return ok;
}

static void run_many(unsigned int n, uint64_t first, uint64_t count)
{
	struct totals t = { 0 };
	char why[512];

	for (uint64_t seed = first; seed < first + count; seed++) {
		if (!run(n, seed, STORAGE_OK, false, &t, why, sizeof(why))) {
			tap_ok(false, "%u nodes, seed %" PRIu64 ": %s (replay: test_raft_sim --nodes %u --seed %" PRIu64 " -v)",
			       n, seed, why, n, seed);
			return;
		}
	}
	tap_ok(true, "%u nodes: %" PRIu64 " schedules, safety checked after each of %" PRIu64 " steps; %" PRIu64 " elections, %" PRIu64 " commits, %" PRIu64 " reads, %" PRIu64 " crashes, %" PRIu64 " partitions, %" PRIu64 " snapshots, %" PRIu64 " installed, %" PRIu64 " transfers, %" PRIu64 " detector hints, %" PRIu64 " membership changes",
	       n, t.schedules, t.steps, t.elections, t.commits, t.reads,
	       t.crashes, t.partitions, t.snapshots, t.installs, t.transfers,
	       t.hints, t.changes);
}

/* A broken storage model must be caught within count schedules. */
static void expect_caught(unsigned int n, enum storage_bug bug, const char *what,
			  uint64_t count)
{
	struct totals t = { 0 };
	char why[512] = "";

	for (uint64_t seed = 1; seed <= count; seed++) {
		if (!run(n, seed, bug, false, &t, why, sizeof(why))) {
			tap_ok(true, "%s is caught: seed %" PRIu64 ": %s", what, seed, why);
			return;
		}
	}
	tap_ok(false, "%s is caught in %" PRIu64 " schedules", what, count);
}

int main(int argc, char **argv)
{
	uint64_t seeds = 2000, seed = 0;
	unsigned int nodes = 0;
	bool verbose = false;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-v"))
			verbose = true;
		else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
			seed = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--seeds") && i + 1 < argc)
			seeds = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--nodes") && i + 1 < argc)
			nodes = (unsigned int)strtoul(argv[++i], NULL, 0);
		else {
			fprintf(stderr, "usage: %s [--nodes 3|5] [--seeds N] [--seed S] [-v]\n", argv[0]);
			return 2;
		}
	}
	if (nodes && (nodes < 1 || nodes > MAX_NODES)) {
		fprintf(stderr, "--nodes: 1..%d\n", MAX_NODES);
		return 2;
	}
	if (seed) {
		struct totals t = { 0 };
		char why[512] = "";
		unsigned int n = nodes ? nodes : 3;
		bool ok = run(n, seed, STORAGE_OK, verbose, &t, why, sizeof(why));

		tap_ok(ok, "%u nodes, seed %" PRIu64 ": %" PRIu64 " steps, %" PRIu64 " elections, %" PRIu64 " commits%s%s",
		       n, seed, t.steps, t.elections, t.commits,
		       ok ? "" : ": ", why);
		return tap_done();
	}
	if (!nodes || nodes == 3)
		run_many(3, 1, seeds);
	if (!nodes || nodes == 5)
		run_many(5, 1, seeds);
	if (!nodes) {
		expect_caught(3, STORAGE_FORGETS_VOTE, "a vote forgotten in a crash", 10000);
		expect_caught(3, STORAGE_EARLY_ACK, "an entry acknowledged before it was durable", 10000);
	}
	return tap_done();
}

