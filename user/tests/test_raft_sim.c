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

struct disk {
	uint64_t term;
	uint32_t vote;
	struct raft_entry *log;
	size_t n;
	size_t cap;
};

struct node {
	uint32_t id;
	struct raft *r;
	bool up;
	uint64_t down_until;
	int group;
	unsigned int phase;
	uint64_t applied;
	uint64_t last_term_seen;
	struct disk disk;
};

struct committed {
	uint64_t term;
	uint64_t hash;
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
		/* Leader completeness. */
		for (uint64_t idx = 1; idx <= s->max_commit; idx++) {
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

static void disk_truncate(struct disk *d, uint64_t from)
{
	while (d->n >= from) {
		free(d->log[d->n - 1].data);
		d->n--;
	}
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
		       out.commit > nd->applied;
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
			uint64_t prev = e->index > 1 ?
				nd->disk.log[e->index - 2].term : 0;

			if (e->index != nd->disk.n + 1) {
				violation(s, "node %u persists index %" PRIu64 " after %zu",
					  nd->id, e->index, nd->disk.n);
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
		last_index = nd->disk.n;
		if (last_index)
			last_term = nd->disk.log[last_index - 1].term;
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
	cfg.n_nodes = s->n;
	for (unsigned int i = 0; i < s->n; i++)
		cfg.nodes[i] = s->nodes[i].id;
	cfg.seed = rnd(s);
	/* Small batches and windows reach the edge cases sooner. */
	cfg.max_append_bytes = 100;
	cfg.max_inflight = 4;
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
	for (size_t i = 0; i < nd->disk.n; i++) {
		struct raft_entry e = copy_entry(&nd->disk.log[i]);

		if (raft_restore_entry(nd->r, &e))
			violation(s, "node %u cannot restore entry %zu", nd->id, i + 1);
	}
	nd->up = true;
	nd->applied = 0;
}

static void crash(struct sim *s, struct node *nd, uint64_t down_ms)
{
	raft_free(nd->r);
	nd->r = NULL;
	nd->up = false;
	nd->down_until = s->now + down_ms;
	s->crashes++;
	if (s->bug == STORAGE_FORGETS_VOTE)
		nd->disk.vote = 0;
	if (s->bug == STORAGE_EARLY_ACK && nd->disk.n)
		disk_truncate(&nd->disk, nd->disk.n - rnd_below(s, 3 < nd->disk.n ? 3 : (unsigned int)nd->disk.n));
	trace(s, "node %u crashes for %" PRIu64 " ms", nd->id, down_ms);
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
			if (raft_step(to->r, &sm.m))
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

static void client(struct sim *s)
{
	struct node *nd = leader(s);
	char data[64];
	uint64_t index, term;
	int len;

	if (!nd || rnd_below(s, 100) >= s->propose_pct)
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
		if (s->now % TICK_MS == nd->phase) {
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
		if (index && s->max_commit >= index) {
			bool everywhere = true;

			for (unsigned int i = 0; i < s->n; i++)
				everywhere &= s->nodes[i].applied >= index;
			if (everywhere)
				return;
		}
	}
	if (!s->violation[0])
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
	tap_ok(true, "%u nodes: %" PRIu64 " schedules, safety checked after each of %" PRIu64 " steps; %" PRIu64 " elections, %" PRIu64 " commits, %" PRIu64 " reads, %" PRIu64 " crashes, %" PRIu64 " partitions",
	       n, t.schedules, t.steps, t.elections, t.commits, t.reads,
	       t.crashes, t.partitions);
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
