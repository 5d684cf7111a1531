// SPDX-License-Identifier: GPL-2.0
/*
 * The Raft core (see core.h).  Follows the Raft paper and Ongaro's thesis:
 * pre-vote (9.6), check-quorum and leader stickiness (4.2.3, 9.6),
 * ReadIndex (6.4), commitment only through an entry of the leader's own
 * term (3.6.2, "Figure 8"), a no-op at the start of each term, membership
 * changes one server at a time with new servers as non-voters first (4.1,
 * 4.2.1), leadership transfer (3.10), snapshots sent in chunks (5.1, 5.3).
 *
 * Every APPEND is built in raft_take(), so its entries point into the log
 * that cannot change before the caller's next call: no copies.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

#define RAFT_INFLIGHT_MAX	256

struct raft_peer {
	uint32_t id;
	bool voter;
	uint64_t match;
	uint64_t next;
	bool active;
	bool probing;
	bool probe_sent;
	bool acked;			/* a reply since the last heartbeat */
	uint64_t read_ack;		/* newest ReadIndex round confirmed */
	unsigned int inflight;
	uint64_t inflight_last[RAFT_INFLIGHT_MAX];	/* ring */
	unsigned int inflight_head;
	/* sending the snapshot snap_index: go-back-N over its bytes */
	bool snapshot;
	bool snap_progress;		/* acknowledged since the last heartbeat */
	uint64_t snap_index;
	uint64_t snap_acked;
	uint64_t snap_sent;
};

struct raft_pending_read {
	uint64_t id;
	uint64_t index;
	uint64_t ctx;			/* 0: waits for the term's first commit */
};

struct raft {
	struct raft_config cfg;
	uint8_t role;
	uint64_t term;
	uint32_t vote;
	uint32_t leader;
	bool meta_dirty;
	bool storage_failed;

	/* log[i] has index log_start + i */
	struct raft_entry *log;
	size_t log_len;
	size_t log_cap;
	uint64_t log_start;
	uint64_t start_term;		/* of entry log_start - 1 */
	uint64_t commit;
	uint64_t stable;		/* handed to storage */
	uint64_t persisted;		/* durable here, as storage said */
	uint64_t truncate_from;

	unsigned int elapsed;
	unsigned int timeout;
	unsigned int heartbeat_elapsed;
	uint32_t granted[RAFT_MAX_NODES];	/* votes of this election */
	unsigned int n_granted;
	uint32_t refused[RAFT_MAX_NODES];
	unsigned int n_refused;
	uint64_t rng;

	/* membership: conf is the newest in the log (entry conf_index, 0
	 * when it is base_conf, the one in force before log_start)
	 */
	struct raft_conf conf;
	bool has_conf;
	uint64_t conf_index;
	struct raft_conf base_conf;
	bool has_base_conf;
	bool conf_changed;
	uint32_t removed_by;	/* see removed_for_good() */

	uint64_t snap_index;
	uint64_t snap_term;
	uint64_t snap_bytes;

	/* the snapshot being received, and the chunk being stored */
	uint64_t recv_index;
	uint64_t recv_term;
	uint64_t recv_offset;
	uint64_t recv_total;
	bool chunk_pending;
	uint32_t chunk_from;
	uint64_t chunk_end;
	bool snap_complete;

	uint32_t transfer_to;
	unsigned int transfer_elapsed;
	bool transfer_sent;
	/* pre-votes retried quickly after a hint: another node's verdict
	 * may come a little later than ours
	 */
	unsigned int hint_rounds;

	struct raft_peer peers[RAFT_MAX_NODES];
	unsigned int n_peers;
	bool heartbeat_due;

	struct raft_pending_read *pending;
	size_t n_pending;
	size_t pending_cap;
	uint64_t read_ctx;

	/* what raft_take() hands out; cleared by the next event */
	bool taken;
	struct raft_msg *msgs;
	size_t n_msgs;
	size_t msgs_cap;
	struct raft_read *reads;
	size_t n_reads;
	size_t reads_cap;
	uint64_t *failed;
	size_t n_failed;
	size_t failed_cap;
	bool oom;
};

void raft_config_default(struct raft_config *cfg)
{
	cfg->election_ticks = 10;
	cfg->heartbeat_ticks = 2;
	cfg->max_append_bytes = 1300;
	cfg->max_inflight = 64;
	cfg->max_uncommitted = 8192;
	cfg->snapshot_chunk = 1024;
	cfg->snapshot_window = 16;
	cfg->hint_spacing = 3;
}

static int grow(void **array, size_t *cap, size_t need, size_t size)
{
	size_t n = *cap ? *cap : 16;
	void *p;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	p = realloc(*array, n * size);
	if (!p)
		return -ENOMEM;
	*array = p;
	*cap = n;
	return 0;
}

static uint64_t next_random(struct raft *r)
{
	/* xorshift64*: enough to spread election timeouts */
	r->rng ^= r->rng >> 12;
	r->rng ^= r->rng << 25;
	r->rng ^= r->rng >> 27;
	return r->rng * 0x2545F4914F6CDD1DULL;
}

static void reset_election_timer(struct raft *r)
{
	unsigned int base = r->cfg.election_ticks;

	r->elapsed = 0;
	r->timeout = base + (unsigned int)(next_random(r) % base);
}

static unsigned int quorum(const struct raft *r)
{
	return raft_conf_voters(&r->conf) / 2 + 1;
}

static bool self_voter(const struct raft *r)
{
	return r->has_conf && raft_conf_is_voter(&r->conf, r->cfg.id);
}

static struct raft_peer *peer_of(struct raft *r, uint32_t id)
{
	for (unsigned int i = 0; i < r->n_peers; i++)
		if (r->peers[i].id == id)
			return &r->peers[i];
	return NULL;
}

static bool config_valid(const struct raft_config *cfg)
{
	struct raft_conf c;

	if (!cfg->id)
		return false;
	if (!cfg->election_ticks || !cfg->heartbeat_ticks ||
	    cfg->heartbeat_ticks >= cfg->election_ticks)
		return false;
	if (!cfg->max_inflight || cfg->max_inflight > RAFT_INFLIGHT_MAX ||
	    !cfg->max_append_bytes || !cfg->max_uncommitted ||
	    !cfg->snapshot_chunk || !cfg->snapshot_window)
		return false;
	if (cfg->join)
		return !cfg->bootstrap && !cfg->n_nodes;
	if (cfg->bootstrap) {
		c = *cfg->bootstrap;
		return !raft_conf_check(&c) && raft_conf_get(&c, cfg->id);
	}
	if (!cfg->n_nodes || cfg->n_nodes > RAFT_MAX_NODES)
		return false;
	for (unsigned int i = 0; i < cfg->n_nodes; i++) {
		if (!cfg->nodes[i])
			return false;
		for (unsigned int j = 0; j < i; j++)
			if (cfg->nodes[j] == cfg->nodes[i])
				return false;
	}
	for (unsigned int i = 0; i < cfg->n_nodes; i++)
		if (cfg->nodes[i] == cfg->id)
			return true;
	return false;
}

static uint64_t last_index(const struct raft *r)
{
	return r->log_start + r->log_len - 1;
}

/*
 * The membership in force changed (an entry appended or dropped, a
 * snapshot): the peers follow it, each keeping its progress.
 */
static void set_conf(struct raft *r, const struct raft_conf *c, uint64_t index)
{
	struct raft_peer old[RAFT_MAX_NODES];
	unsigned int n_old = r->n_peers;

	if (r->has_conf && r->conf_index == index && raft_conf_equal(&r->conf, c))
		return;
	memcpy(old, r->peers, sizeof(old));
	r->conf = *c;
	r->has_conf = true;
	r->conf_index = index;
	r->conf_changed = true;
	r->n_peers = 0;
	for (unsigned int i = 0; i < c->n; i++) {
		struct raft_peer *p = &r->peers[r->n_peers];
		unsigned int j;

		if (c->m[i].id == r->cfg.id)
			continue;
		for (j = 0; j < n_old && old[j].id != c->m[i].id; j++)
			;
		if (j < n_old) {
			*p = old[j];
		} else {
			memset(p, 0, sizeof(*p));
			p->id = c->m[i].id;
			p->next = last_index(r) + 1;
			p->probing = true;
			p->active = true;
		}
		p->voter = c->m[i].voter;
		r->n_peers++;
	}
}

static void clear_conf(struct raft *r)
{
	r->has_conf = false;
	r->conf_index = 0;
	r->n_peers = 0;
	r->conf_changed = true;
}

struct raft *raft_new(const struct raft_config *cfg)
{
	struct raft *r;

	if (!config_valid(cfg)) {
		errno = EINVAL;
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->cfg = *cfg;
	r->cfg.bootstrap = NULL;
	r->log_start = 1;
	r->rng = cfg->seed ^ ((uint64_t)cfg->id << 32) ^ 0x9E3779B97F4A7C15ULL;
	if (!r->rng)
		r->rng = 1;
	if (cfg->bootstrap) {
		r->base_conf = *cfg->bootstrap;
		raft_conf_check(&r->base_conf);
		r->has_base_conf = true;
	} else if (!cfg->join) {
		r->base_conf.n = cfg->n_nodes;
		for (unsigned int i = 0; i < cfg->n_nodes; i++) {
			r->base_conf.m[i].id = cfg->nodes[i];
			r->base_conf.m[i].voter = true;
		}
		raft_conf_check(&r->base_conf);
		r->has_base_conf = true;
	}
	if (r->has_base_conf)
		set_conf(r, &r->base_conf, 0);
	r->role = RAFT_FOLLOWER;
	reset_election_timer(r);
	return r;
}

static void free_entries(struct raft *r, size_t from)
{
	for (size_t i = from; i < r->log_len; i++)
		free(r->log[i].data);
	r->log_len = from;
}

void raft_free(struct raft *r)
{
	if (!r)
		return;
	free_entries(r, 0);
	free(r->log);
	free(r->pending);
	free(r->msgs);
	free(r->reads);
	free(r->failed);
	free(r);
}

/* The log. */

uint64_t raft_last_index(const struct raft *r)
{
	return last_index(r);
}

const struct raft_entry *raft_entry_at(const struct raft *r, uint64_t index)
{
	if (index < r->log_start || index > raft_last_index(r))
		return NULL;
	return &r->log[index - r->log_start];
}

static uint64_t term_at(const struct raft *r, uint64_t index)
{
	const struct raft_entry *e = raft_entry_at(r, index);

	if (e)
		return e->term;
	if (index && index == r->snap_index)
		return r->snap_term;
	return index && index + 1 == r->log_start ? r->start_term : 0;
}

static uint64_t last_term(const struct raft *r)
{
	return term_at(r, raft_last_index(r));
}

/* A CONFIG entry is in force as soon as it is in the log. */
static void entry_added(struct raft *r, const struct raft_entry *e)
{
	struct raft_conf c;

	if (e->type == RAFT_ENTRY_CONFIG && !raft_conf_decode(&c, e->data, e->len))
		set_conf(r, &c, e->index);
}

static void reload_conf(struct raft *r)
{
	for (uint64_t i = last_index(r); i >= r->log_start && i; i--) {
		const struct raft_entry *e = raft_entry_at(r, i);
		struct raft_conf c;

		if (e->type == RAFT_ENTRY_CONFIG &&
		    !raft_conf_decode(&c, e->data, e->len)) {
			set_conf(r, &c, i);
			return;
		}
	}
	if (r->has_base_conf)
		set_conf(r, &r->base_conf, 0);
	else
		clear_conf(r);
}

static int log_push(struct raft *r, uint64_t term, uint8_t type,
		    const void *data, uint32_t len)
{
	struct raft_entry *e;
	uint8_t *copy = NULL;

	if (grow((void **)&r->log, &r->log_cap, r->log_len + 1, sizeof(*r->log)))
		return -ENOMEM;
	if (len) {
		copy = malloc(len);
		if (!copy)
			return -ENOMEM;
		memcpy(copy, data, len);
	}
	e = &r->log[r->log_len++];
	e->term = term;
	e->index = raft_last_index(r);
	e->type = type;
	e->len = len;
	e->data = copy;
	entry_added(r, e);
	return 0;
}

/* Drops index and everything after it: never a committed entry. */
static void log_truncate(struct raft *r, uint64_t index)
{
	free_entries(r, index - r->log_start);
	if (r->stable >= index) {
		r->stable = index - 1;
		if (!r->truncate_from || r->truncate_from > index)
			r->truncate_from = index;
	}
	if (r->persisted >= index)
		r->persisted = index - 1;
	if (r->conf_index >= index)
		reload_conf(r);
}

void raft_restore_meta(struct raft *r, uint64_t term, uint32_t vote)
{
	r->term = term;
	r->vote = vote;
}

int raft_restore_entry(struct raft *r, struct raft_entry *e)
{
	if (e->index != raft_last_index(r) + 1 || e->term < last_term(r) ||
	    e->term > r->term) {
		free(e->data);
		return -EINVAL;
	}
	if (grow((void **)&r->log, &r->log_cap, r->log_len + 1, sizeof(*r->log))) {
		free(e->data);
		return -ENOMEM;
	}
	r->log[r->log_len++] = *e;
	r->stable = r->persisted = e->index;
	entry_added(r, e);
	return 0;
}

int raft_restore_snapshot(struct raft *r, uint64_t index, uint64_t term,
			  const struct raft_conf *conf, uint64_t bytes)
{
	struct raft_conf c = *conf;

	if (r->log_len || r->snap_index || !index || !term || term > r->term ||
	    !bytes || raft_conf_check(&c))
		return -EINVAL;
	r->log_start = index + 1;
	r->start_term = term;
	r->snap_index = index;
	r->snap_term = term;
	r->snap_bytes = bytes;
	r->base_conf = c;
	r->has_base_conf = true;
	set_conf(r, &c, 0);
	r->commit = r->stable = r->persisted = index;
	return 0;
}

void raft_snapshot_resume(struct raft *r, uint64_t index, uint64_t term,
			  uint64_t offset)
{
	r->recv_index = index;
	r->recv_term = term;
	r->recv_offset = offset;
	r->recv_total = 0;	/* the first chunk says */
}

/* Output. */

static void begin(struct raft *r)
{
	if (!r->taken)
		return;
	r->taken = false;
	r->n_msgs = 0;
	r->n_reads = 0;
	r->n_failed = 0;
}

static struct raft_msg *new_msg(struct raft *r, uint8_t type, uint32_t to)
{
	struct raft_msg *m;

	if (grow((void **)&r->msgs, &r->msgs_cap, r->n_msgs + 1, sizeof(*m))) {
		r->oom = true;
		return NULL;
	}
	m = &r->msgs[r->n_msgs++];
	memset(m, 0, sizeof(*m));
	m->type = type;
	m->from = r->cfg.id;
	m->to = to;
	m->term = r->term;
	return m;
}

static struct raft_msg *reply(struct raft *r, const struct raft_msg *in,
			       uint8_t type, uint64_t term, bool ok)
{
	struct raft_msg *m = new_msg(r, type, in->from);

	if (m) {
		m->term = term;
		m->ok = ok;
	}
	return m;
}

static void read_ready(struct raft *r, uint64_t id, uint64_t index)
{
	if (grow((void **)&r->reads, &r->reads_cap, r->n_reads + 1,
		 sizeof(*r->reads))) {
		r->oom = true;
		return;
	}
	r->reads[r->n_reads].id = id;
	r->reads[r->n_reads++].index = index;
}

static void read_failed(struct raft *r, uint64_t id)
{
	if (grow((void **)&r->failed, &r->failed_cap, r->n_failed + 1,
		 sizeof(*r->failed))) {
		r->oom = true;
		return;
	}
	r->failed[r->n_failed++] = id;
}

static void fail_pending_reads(struct raft *r)
{
	for (size_t i = 0; i < r->n_pending; i++)
		read_failed(r, r->pending[i].id);
	r->n_pending = 0;
}

/* Roles. */

static void set_term(struct raft *r, uint64_t term)
{
	if (term == r->term)
		return;
	r->term = term;
	r->vote = 0;
	r->meta_dirty = true;
}

static void become_follower(struct raft *r, uint64_t term, uint32_t leader)
{
	if (r->role == RAFT_LEADER || r->leader != leader)
		fail_pending_reads(r);
	set_term(r, term);
	r->role = RAFT_FOLLOWER;
	r->leader = leader;
	r->transfer_to = 0;
	if (leader) {
		r->hint_rounds = 0;
		r->removed_by = 0;	/* a leader counts it in again */
	}
	reset_election_timer(r);
}

static void become_leader(struct raft *r)
{
	uint64_t next = raft_last_index(r) + 1;

	r->role = RAFT_LEADER;
	r->leader = r->cfg.id;
	r->hint_rounds = 0;
	r->elapsed = 0;
	r->heartbeat_elapsed = 0;
	for (unsigned int i = 0; i < r->n_peers; i++) {
		struct raft_peer *p = &r->peers[i];

		p->match = 0;
		p->next = next;
		p->active = true;
		p->probing = true;
		p->probe_sent = false;
		p->acked = false;
		p->read_ack = 0;
		p->inflight = 0;
		p->snapshot = false;
	}
	r->transfer_to = 0;
	if (log_push(r, r->term, RAFT_ENTRY_NOOP, NULL, 0))
		r->oom = true;
	r->heartbeat_due = true;
}

static bool has_id(const uint32_t *ids, unsigned int n, uint32_t id)
{
	for (unsigned int i = 0; i < n; i++)
		if (ids[i] == id)
			return true;
	return false;
}

/* Counts only the voters of the membership in force now. */
static unsigned int count_voters(const struct raft *r, const uint32_t *ids,
				 unsigned int n)
{
	unsigned int votes = 0;

	for (unsigned int i = 0; i < n; i++)
		votes += raft_conf_is_voter(&r->conf, ids[i]);
	return votes;
}

static bool tally(struct raft *r, uint32_t from, bool granted)
{
	uint32_t *ids = granted ? r->granted : r->refused;
	unsigned int *n = granted ? &r->n_granted : &r->n_refused;

	if (!raft_conf_is_voter(&r->conf, from))
		return false;
	if (!has_id(ids, *n, from) && *n < RAFT_MAX_NODES)
		ids[(*n)++] = from;
	return count_voters(r, r->granted, r->n_granted) >= quorum(r);
}

static bool refused(const struct raft *r)
{
	return count_voters(r, r->refused, r->n_refused) >= quorum(r);
}

static void reset_tally(struct raft *r)
{
	r->n_granted = r->n_refused = 0;
}

static void request_votes(struct raft *r, uint8_t type, uint64_t term,
			  uint8_t flags)
{
	for (unsigned int i = 0; i < r->n_peers; i++) {
		struct raft_msg *m;

		if (!r->peers[i].voter)
			continue;
		m = new_msg(r, type, r->peers[i].id);
		if (!m)
			return;
		m->flags = flags;
		m->term = term;
		m->index = raft_last_index(r);
		m->log_term = last_term(r);
	}
}

static void campaign(struct raft *r, uint8_t flags)
{
	r->role = RAFT_CANDIDATE;
	set_term(r, r->term + 1);
	r->vote = r->cfg.id;
	r->meta_dirty = true;
	r->leader = 0;
	reset_tally(r);
	reset_election_timer(r);
	/* After a hint, a split vote is retried soon, at random. */
	if (r->hint_rounds)
		r->timeout = r->cfg.hint_spacing *
			     (2 + (unsigned int)(next_random(r) % 4));
	if (tally(r, r->cfg.id, true)) {
		become_leader(r);
		return;
	}
	request_votes(r, RAFT_MSG_VOTE, r->term, flags);
}

static void start_election(struct raft *r)
{
	if (r->cfg.no_prevote) {
		campaign(r, 0);
		return;
	}
	fail_pending_reads(r);
	r->role = RAFT_PRECANDIDATE;
	r->leader = 0;
	reset_tally(r);
	reset_election_timer(r);
	if (r->hint_rounds) {
		r->hint_rounds--;
		r->timeout = 2 * r->cfg.hint_spacing;
	}
	if (tally(r, r->cfg.id, true)) {
		campaign(r, 0);
		return;
	}
	request_votes(r, RAFT_MSG_PREVOTE, r->term + 1, 0);
}

/*
 * A leader that removed itself can lose its place before the change
 * commits (check-quorum, a crash); the remaining voters may lack the
 * change and the rest of its log, so it may campaign again, counting the
 * new membership's votes, to commit it.
 */
static bool can_campaign(const struct raft *r)
{
	struct raft_conf prev;

	if (r->storage_failed || r->removed_by)
		return false;
	if (self_voter(r))
		return true;
	return r->has_conf && r->conf_index > r->commit &&
	       !raft_conf_at(r, r->conf_index - 1, &prev) &&
	       raft_conf_is_voter(&prev, r->cfg.id);
}

/* Ticks. */

static bool quorum_active(struct raft *r)
{
	unsigned int active = self_voter(r);

	for (unsigned int i = 0; i < r->n_peers; i++) {
		active += r->peers[i].voter && r->peers[i].active;
		r->peers[i].active = false;
	}
	return active >= quorum(r);
}

static void maybe_promote(struct raft *r);

static void tick_leader(struct raft *r)
{
	if (r->transfer_to && ++r->transfer_elapsed >= r->cfg.election_ticks)
		r->transfer_to = 0;	/* the target did not make it */
	maybe_promote(r);
	if (++r->heartbeat_elapsed >= r->cfg.heartbeat_ticks) {
		r->heartbeat_elapsed = 0;
		r->heartbeat_due = true;
	}
	if (++r->elapsed < r->cfg.election_ticks)
		return;
	r->elapsed = 0;
	if (!r->cfg.no_check_quorum && !quorum_active(r))
		become_follower(r, r->term, 0);
}

void raft_tick(struct raft *r)
{
	begin(r);
	if (r->role == RAFT_LEADER) {
		tick_leader(r);
		return;
	}
	if (++r->elapsed >= r->timeout && can_campaign(r))
		start_election(r);
}

/* Elections. */

static bool log_up_to_date(const struct raft *r, const struct raft_msg *m)
{
	uint64_t lt = last_term(r);

	return m->log_term > lt ||
	       (m->log_term == lt && m->index >= raft_last_index(r));
}

/* Leader stickiness: a follower that hears from a live leader ignores
 * candidates, so a node that rejoins after a partition cannot depose it.
 */
static bool leader_is_alive(const struct raft *r)
{
	if (r->role == RAFT_LEADER)
		return true;
	return r->leader && r->elapsed < r->cfg.election_ticks;
}

/*
 * A node removed while cut off never receives the entry that removed it
 * and would campaign forever.  A membership without it that is committed
 * (no later leader can lack it) and newer than all of its log (so not one
 * it has yet to learn it was added to) says it is out for good.
 */
static bool removed_for_good(const struct raft *r, const struct raft_msg *m)
{
	return r->has_conf && r->conf_index && r->conf_index <= r->commit &&
	       r->conf_index > m->index && !raft_conf_get(&r->conf, m->from);
}

static void handle_prevote(struct raft *r, const struct raft_msg *m)
{
	bool grant = m->term > r->term && log_up_to_date(r, m) &&
		     !leader_is_alive(r) && !r->storage_failed;
	struct raft_msg *out;

	out = reply(r, m, RAFT_MSG_PREVOTE_REPLY, grant ? m->term : r->term,
		    grant);
	if (out && !grant && removed_for_good(r, m))
		out->flags |= RAFT_MSG_F_REMOVED;
}

static void handle_vote(struct raft *r, const struct raft_msg *m)
{
	bool grant = m->term == r->term && log_up_to_date(r, m) &&
		     (!r->vote || r->vote == m->from) && !r->storage_failed;

	if (grant) {
		r->vote = m->from;
		r->meta_dirty = true;
		reset_election_timer(r);
	}
	reply(r, m, RAFT_MSG_VOTE_REPLY, r->term, grant);
}

static void handle_prevote_reply(struct raft *r, const struct raft_msg *m)
{
	if (r->role != RAFT_PRECANDIDATE || (m->ok && m->term != r->term + 1))
		return;
	if (!m->ok && (m->flags & RAFT_MSG_F_REMOVED)) {
		r->removed_by = m->from;
		become_follower(r, r->term, 0);
		return;
	}
	if (tally(r, m->from, m->ok))
		campaign(r, 0);
	else if (refused(r))
		become_follower(r, r->term, 0);
}

static void handle_vote_reply(struct raft *r, const struct raft_msg *m)
{
	if (r->role != RAFT_CANDIDATE)
		return;
	if (tally(r, m->from, m->ok))
		become_leader(r);
	else if (refused(r))
		become_follower(r, r->term, 0);
}

/* Snapshots. */

static void snapshot_reply(struct raft *r, uint32_t to, bool ok)
{
	struct raft_msg *m = new_msg(r, RAFT_MSG_SNAPSHOT_REPLY, to);

	if (!m)
		return;
	m->index = r->recv_index;
	m->log_term = r->recv_term;
	m->offset = r->recv_offset;
	m->ok = ok;
}

/* Our log matches the leader's up to match (it needs no snapshot). */
static void ack_match(struct raft *r, uint32_t to, uint64_t index,
		      uint64_t match)
{
	struct raft_msg *m = new_msg(r, RAFT_MSG_APPEND_REPLY, to);

	if (!m)
		return;
	m->ok = true;
	m->index = index;
	m->hint_index = match;
}

static int handle_snapshot(struct raft *r, const struct raft_msg *m)
{
	if (r->storage_failed || r->chunk_pending || !m->index || !m->log_term ||
	    !m->data_len || m->offset >= m->total ||
	    m->data_len > m->total - m->offset)
		return 0;
	/* Committed entries match every leader's log; an entry of the
	 * snapshot's index and term, all those before it (log matching).
	 */
	if (m->index <= r->commit) {
		ack_match(r, m->from, m->index, r->commit);
		return 0;
	}
	if (term_at(r, m->index) == m->log_term) {
		ack_match(r, m->from, m->index, m->index);
		return 0;
	}
	/* Two nodes' snapshots at one index may differ: the size tells. */
	if (m->index != r->recv_index || m->log_term != r->recv_term ||
	    (r->recv_total && r->recv_total != m->total) ||
	    r->recv_offset > m->total) {
		if (m->offset) {
			/* Another snapshot: the leader starts it again. */
			r->recv_index = m->index;
			r->recv_term = m->log_term;
			r->recv_offset = 0;
			r->recv_total = 0;
			snapshot_reply(r, m->from, false);
			return 0;
		}
		r->recv_index = m->index;
		r->recv_term = m->log_term;
		r->recv_offset = 0;
	}
	if (m->offset != r->recv_offset) {
		snapshot_reply(r, m->from, false);
		return 0;
	}
	r->recv_total = m->total;
	r->chunk_pending = true;
	r->chunk_from = m->from;
	r->chunk_end = m->offset + m->data_len;
	return RAFT_STEP_CHUNK;
}

void raft_snapshot_stored(struct raft *r, int err, uint64_t offset)
{
	begin(r);
	if (!r->chunk_pending)
		return;
	r->chunk_pending = false;
	r->recv_offset = err ? offset : r->chunk_end;
	snapshot_reply(r, r->chunk_from, !err);
	if (!err && r->recv_offset == r->recv_total)
		r->snap_complete = true;
}

void raft_snapshot_installed(struct raft *r, int err, uint64_t index,
			     uint64_t term, const struct raft_conf *conf)
{
	struct raft_conf c;

	begin(r);
	if (conf)
		c = *conf;
	if (err || !conf || raft_conf_check(&c) || index != r->recv_index ||
	    term != r->recv_term || index <= r->commit) {
		r->recv_index = r->recv_term = r->recv_offset = 0;
		return;
	}
	free_entries(r, 0);
	r->log_start = index + 1;
	r->start_term = term;
	r->snap_index = index;
	r->snap_term = term;
	r->snap_bytes = r->recv_total;
	r->base_conf = c;
	r->has_base_conf = true;
	reload_conf(r);
	r->commit = r->stable = r->persisted = index;
	r->truncate_from = 0;
	r->recv_index = r->recv_term = r->recv_offset = r->recv_total = 0;
	if (r->leader)
		ack_match(r, r->leader, index, index);
}

static void send_snapshot(struct raft *r, struct raft_peer *p)
{
	uint64_t chunk = r->cfg.snapshot_chunk;
	uint64_t limit;

	if (!p->snapshot || p->snap_index != r->snap_index) {
		p->snapshot = true;
		p->snap_index = r->snap_index;
		p->snap_acked = p->snap_sent = 0;
		p->snap_progress = true;
	}
	limit = p->snap_acked + r->cfg.snapshot_window * chunk;
	while (p->snap_sent < r->snap_bytes && p->snap_sent < limit) {
		struct raft_msg *m = new_msg(r, RAFT_MSG_SNAPSHOT, p->id);
		uint64_t left = r->snap_bytes - p->snap_sent;

		if (!m)
			return;
		m->index = r->snap_index;
		m->log_term = r->snap_term;
		m->offset = p->snap_sent;
		m->total = r->snap_bytes;
		m->data_len = (uint32_t)(left < chunk ? left : chunk);
		p->snap_sent += m->data_len;
	}
}

static void handle_snapshot_reply(struct raft *r, struct raft_peer *p,
				  const struct raft_msg *m)
{
	p->active = true;
	if (!p->snapshot || m->index != p->snap_index ||
	    m->log_term != r->snap_term || m->offset > r->snap_bytes)
		return;
	if (m->ok && m->offset > p->snap_acked)
		p->snap_progress = true;
	if (m->ok ? m->offset > p->snap_acked : m->offset != p->snap_acked)
		p->snap_acked = m->offset;
	if (p->snap_sent < p->snap_acked)
		p->snap_sent = p->snap_acked;
}

/* No progress for a heartbeat: send again from what was acknowledged. */
static void snapshot_heartbeat(struct raft *r, struct raft_peer *p)
{
	if (!p->snap_progress) {
		if (p->snap_acked >= r->snap_bytes)
			p->snap_acked = 0;	/* whole, but not installed */
		p->snap_sent = p->snap_acked;
	}
	p->snap_progress = false;
}

int raft_compact(struct raft *r, uint64_t index, uint64_t bytes, uint64_t keep)
{
	struct raft_conf base;
	bool have_base;
	uint64_t start;
	size_t drop;

	begin(r);
	if (index > r->commit || index <= r->snap_index || index < r->log_start ||
	    !bytes)
		return -EINVAL;
	start = index > keep ? index - keep + 1 : 1;
	if (start < r->log_start)
		start = r->log_start;
	have_base = !raft_conf_at(r, start - 1, &base);
	r->start_term = term_at(r, start - 1);
	r->snap_term = term_at(r, index);
	r->snap_index = index;
	r->snap_bytes = bytes;
	drop = start - r->log_start;
	for (size_t i = 0; i < drop; i++)
		free(r->log[i].data);
	memmove(r->log, r->log + drop, (r->log_len - drop) * sizeof(*r->log));
	r->log_len -= drop;
	r->log_start = start;
	if (have_base) {
		r->base_conf = base;
		r->has_base_conf = true;
	}
	if (r->conf_index < start)
		r->conf_index = 0;
	return 0;
}

/* Membership. */

static int push_conf(struct raft *r, const struct raft_conf *c)
{
	uint8_t buf[RAFT_CONF_MAX];
	int len = raft_conf_encode(c, buf, sizeof(buf));

	if (len < 0)
		return len;
	return log_push(r, r->term, RAFT_ENTRY_CONFIG, buf, (uint32_t)len);
}

static bool may_change_conf(const struct raft *r)
{
	return r->role == RAFT_LEADER && !r->storage_failed && !r->transfer_to &&
	       r->conf_index <= r->commit && term_at(r, r->commit) == r->term;
}

int raft_change(struct raft *r, const struct raft_conf *to, const char **why)
{
	struct raft_conf c = *to;

	begin(r);
	*why = "";
	if (r->role != RAFT_LEADER) {
		*why = "not the leader";
		return -EPERM;
	}
	if (r->storage_failed)
		return -EIO;
	if (raft_conf_check(&c)) {
		*why = "not a valid membership";
		return -EINVAL;
	}
	if (!may_change_conf(r)) {
		*why = r->transfer_to ? "a leadership transfer is under way" :
		       r->conf_index > r->commit ?
		       "another membership change is under way" :
		       "the new leader has not committed an entry of its term yet";
		return -EAGAIN;
	}
	if (raft_conf_single_change(&r->conf, &c, why))
		return -EINVAL;
	if (last_index(r) - r->commit >= r->cfg.max_uncommitted)
		return -EBUSY;
	return push_conf(r, &c) ? -ENOMEM : 0;
}

/* A non-voter that has caught up becomes a voter. */
static void maybe_promote(struct raft *r)
{
	if (!may_change_conf(r))
		return;
	for (unsigned int i = 0; i < r->n_peers; i++) {
		struct raft_peer *p = &r->peers[i];
		struct raft_conf c;

		if (p->voter || !p->match || p->match < r->commit)
			continue;
		c = r->conf;
		raft_conf_find(&c, p->id)->voter = true;
		if (push_conf(r, &c))
			r->oom = true;
		return;
	}
}

int raft_conf_at(const struct raft *r, uint64_t index, struct raft_conf *out)
{
	uint64_t i = index < last_index(r) ? index : last_index(r);

	if (index + 1 < r->log_start)
		return -ENOENT;
	for (; i >= r->log_start && i; i--) {
		const struct raft_entry *e = raft_entry_at(r, i);

		if (e->type == RAFT_ENTRY_CONFIG &&
		    !raft_conf_decode(out, e->data, e->len))
			return 0;
	}
	if (!r->has_base_conf)
		return -ENOENT;
	*out = r->base_conf;
	return 0;
}

const struct raft_conf *raft_membership(const struct raft *r)
{
	return r->has_conf ? &r->conf : NULL;
}

uint64_t raft_snapshot_index(const struct raft *r)
{
	return r->snap_index;
}

/* Leadership transfer and failure hints. */

static void maybe_timeout_now(struct raft *r, struct raft_peer *p)
{
	if (r->transfer_to != p->id || r->transfer_sent ||
	    p->match != last_index(r))
		return;
	if (new_msg(r, RAFT_MSG_TIMEOUT_NOW, p->id))
		r->transfer_sent = true;
}

int raft_transfer(struct raft *r, uint32_t id)
{
	struct raft_peer *p;

	begin(r);
	if (r->role != RAFT_LEADER)
		return -EPERM;
	p = peer_of(r, id);
	if (!p || !p->voter)
		return -EINVAL;
	if (r->transfer_to)
		return -EAGAIN;
	r->transfer_to = id;
	r->transfer_elapsed = 0;
	r->transfer_sent = false;
	maybe_timeout_now(r, p);
	return 0;
}

void raft_hint_dead(struct raft *r, uint32_t id)
{
	unsigned int rank = 0;

	begin(r);
	if (r->role == RAFT_LEADER || !id || r->leader != id)
		return;
	/* The leader is presumed gone: pre-votes are granted again. */
	r->leader = 0;
	r->elapsed = r->cfg.election_ticks;
	if (!can_campaign(r))
		return;
	for (unsigned int i = 0; i < r->conf.n; i++)
		rank += r->conf.m[i].voter && r->conf.m[i].id != id &&
			r->conf.m[i].id < r->cfg.id;
	r->hint_rounds = 5;
	if (!rank) {
		start_election(r);
		return;
	}
	r->timeout = r->elapsed + rank * r->cfg.hint_spacing;
}

/* Replication, follower side. */

/*
 * Fast backtracking: the hint is our last entry that may match the
 * leader's log, the last one of a term no newer than the leader's entry
 * at the probe.  The leader does the same search in its own log, so each
 * rejection moves the probe back by at least a whole term.
 */
static void reject_append(struct raft *r, const struct raft_msg *m)
{
	struct raft_msg *out = new_msg(r, RAFT_MSG_APPEND_REPLY, m->from);
	uint64_t last = raft_last_index(r);
	uint64_t hint = m->index < last ? m->index : last;

	if (!out)
		return;
	while (hint > r->commit && term_at(r, hint) > m->log_term)
		hint--;
	out->index = m->index;
	out->hint_index = hint;
	out->hint_term = term_at(r, hint);
}

static int accept_entries(struct raft *r, const struct raft_msg *m)
{
	for (uint32_t i = 0; i < m->n_entries; i++) {
		const struct raft_entry *e = &m->entries[i];
		uint64_t index = m->index + 1 + i;

		/* Committed entries match every leader's. */
		if (index <= r->commit)
			continue;
		if (index <= raft_last_index(r)) {
			if (term_at(r, index) == e->term)
				continue;
			log_truncate(r, index);
		}
		if (log_push(r, e->term, e->type, e->data, e->len))
			return -ENOMEM;
	}
	return 0;
}

static void handle_append(struct raft *r, const struct raft_msg *m)
{
	uint64_t match = m->index + m->n_entries;
	struct raft_msg *out;

	if (r->storage_failed)
		return;
	if (m->index > r->commit && term_at(r, m->index) != m->log_term) {
		reject_append(r, m);
		return;
	}
	if (accept_entries(r, m)) {
		r->oom = true;
		return;
	}
	if (m->commit > r->commit && match > r->commit)
		r->commit = m->commit < match ? m->commit : match;
	out = new_msg(r, RAFT_MSG_APPEND_REPLY, m->from);
	if (!out)
		return;
	out->ok = true;
	out->index = m->index;
	out->hint_index = match > r->commit ? match : r->commit;
}

static void handle_heartbeat(struct raft *r, const struct raft_msg *m)
{
	struct raft_msg *out;

	if (m->commit > r->commit && m->commit <= raft_last_index(r))
		r->commit = m->commit;
	out = new_msg(r, RAFT_MSG_HEARTBEAT_REPLY, m->from);
	if (!out)
		return;
	out->ok = true;
	out->read_ctx = m->read_ctx;
}

/* Replication, leader side. */

static uint64_t self_match(const struct raft *r)
{
	return r->persisted;
}

static int cmp_u64_desc(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? 1 : x > y ? -1 : 0;
}

static void start_read_round(struct raft *r);

static void maybe_commit(struct raft *r)
{
	uint64_t match[RAFT_MAX_NODES];
	unsigned int n = 0;
	uint64_t candidate;
	bool first;

	if (self_voter(r))
		match[n++] = self_match(r);
	for (unsigned int i = 0; i < r->n_peers; i++)
		if (r->peers[i].voter)
			match[n++] = r->peers[i].match;
	if (n < quorum(r))
		return;
	qsort(match, n, sizeof(match[0]), cmp_u64_desc);
	candidate = match[quorum(r) - 1];
	/* Only an entry of this term commits the ones before it. */
	if (candidate <= r->commit || term_at(r, candidate) != r->term)
		return;
	first = term_at(r, r->commit) != r->term;
	r->commit = candidate;
	/* A leader that removed itself leaves once the change commits. */
	if (!self_voter(r) && r->commit >= r->conf_index) {
		become_follower(r, r->term, 0);
		return;
	}
	if (first)
		start_read_round(r);
}

static void free_inflight(struct raft_peer *p, uint64_t upto)
{
	while (p->inflight && p->inflight_last[p->inflight_head] <= upto) {
		p->inflight_head = (p->inflight_head + 1) % RAFT_INFLIGHT_MAX;
		p->inflight--;
	}
}

static void handle_append_reply(struct raft *r, struct raft_peer *p,
				const struct raft_msg *m)
{
	uint64_t last = raft_last_index(r);
	uint64_t probe;

	p->active = true;
	p->acked = true;
	if (!m->ok) {
		if (!m->index)
			return;		/* index 0 matches everywhere */
		/* Stale rejections answer probes already superseded. */
		if (p->probing ? m->index != p->next - 1 : m->index <= p->match)
			return;
		p->probing = true;
		p->probe_sent = false;
		p->inflight = 0;
		probe = m->hint_index < m->index ? m->hint_index : m->index - 1;
		if (probe > last)
			probe = last;
		while (probe && term_at(r, probe) > m->hint_term)
			probe--;
		/* Below match only if the follower lost what it acknowledged
		 * (a disk that lied): wrong for commits, so not kept.
		 */
		if (probe < p->match)
			p->match = probe;
		p->next = probe + 1;
		return;
	}
	if (m->hint_index > last)
		return;
	if (m->hint_index > p->match)
		p->match = m->hint_index;
	if (p->snapshot && p->match >= p->snap_index)
		p->snapshot = false;
	free_inflight(p, p->match);
	if (p->probing) {
		p->probing = false;
		p->probe_sent = false;
		p->inflight = 0;
		p->next = p->match + 1;
	} else if (p->next <= p->match) {
		p->next = p->match + 1;
	}
	maybe_commit(r);
	if (r->role != RAFT_LEADER)
		return;
	maybe_timeout_now(r, p);
	maybe_promote(r);
}

static void resolve_reads(struct raft *r)
{
	size_t kept = 0;

	for (size_t i = 0; i < r->n_pending; i++) {
		struct raft_pending_read *rd = &r->pending[i];
		unsigned int acks = self_voter(r);

		if (rd->ctx) {
			for (unsigned int j = 0; j < r->n_peers; j++)
				acks += r->peers[j].voter &&
					r->peers[j].read_ack >= rd->ctx;
		}
		if (rd->ctx && acks >= quorum(r))
			read_ready(r, rd->id, rd->index);
		else
			r->pending[kept++] = *rd;
	}
	r->n_pending = kept;
}

static void handle_heartbeat_reply(struct raft *r, struct raft_peer *p,
				   const struct raft_msg *m)
{
	p->active = true;
	if (m->read_ctx > p->read_ack)
		p->read_ack = m->read_ctx;
	if (p->snapshot) {
		snapshot_heartbeat(r, p);
	} else if (p->match < raft_last_index(r)) {
		if (p->probing) {
			p->probe_sent = false;
		} else if (!p->acked) {
			/* Nothing acknowledged for a heartbeat: lost, resend. */
			p->probing = true;
			p->probe_sent = false;
			p->inflight = 0;
			p->next = p->match + 1;
		}
	}
	p->acked = false;
	resolve_reads(r);
}

/* Messages. */

static bool from_a_leader(uint8_t type)
{
	return type == RAFT_MSG_APPEND || type == RAFT_MSG_HEARTBEAT ||
	       type == RAFT_MSG_SNAPSHOT || type == RAFT_MSG_TIMEOUT_NOW;
}

/* Returns false if the message is to be dropped. */
static bool check_term(struct raft *r, const struct raft_msg *m)
{
	if (m->term > r->term) {
		switch (m->type) {
		case RAFT_MSG_PREVOTE:
			return true;
		case RAFT_MSG_PREVOTE_REPLY:
			if (m->ok)
				return true;
			break;
		case RAFT_MSG_VOTE:
			if (!r->cfg.no_check_quorum && leader_is_alive(r) &&
			    !(m->flags & RAFT_MSG_F_TRANSFER))
				return false;
			break;
		default:
			break;
		}
		become_follower(r, m->term,
				from_a_leader(m->type) ? m->from : 0);
		return true;
	}
	if (m->term < r->term) {
		/* Tell a deposed leader or a stale candidate the term. */
		if (from_a_leader(m->type) && m->type != RAFT_MSG_TIMEOUT_NOW)
			reply(r, m, m->type + 1, r->term, false);
		else if (m->type == RAFT_MSG_PREVOTE || m->type == RAFT_MSG_VOTE)
			reply(r, m, m->type + 1, r->term, false);
		return false;
	}
	if (from_a_leader(m->type)) {
		if (r->role != RAFT_FOLLOWER || r->leader != m->from)
			become_follower(r, m->term, m->from);
		reset_election_timer(r);
	}
	return true;
}

int raft_step(struct raft *r, const struct raft_msg *m)
{
	struct raft_peer *p;

	begin(r);
	if (m->to != r->cfg.id || m->from == r->cfg.id || !m->type ||
	    m->type > RAFT_MSG_TYPE_MAX)
		return -EINVAL;
	/*
	 * Requests are answered whoever sends them (thesis 4.1): a leader
	 * may not be a member yet to a node that joins, and a leader that
	 * removed itself may campaign to commit that.  Only the replies of
	 * non-members are dropped.
	 */
	p = peer_of(r, m->from);
	if (!p && !from_a_leader(m->type) && m->type != RAFT_MSG_PREVOTE &&
	    m->type != RAFT_MSG_VOTE)
		return -EINVAL;
	if ((m->n_entries && m->type != RAFT_MSG_APPEND) ||
	    (m->data_len && m->type != RAFT_MSG_SNAPSHOT))
		return -EINVAL;
	if (!check_term(r, m))
		return 0;

	switch (m->type) {
	case RAFT_MSG_PREVOTE:
		handle_prevote(r, m);
		break;
	case RAFT_MSG_VOTE:
		handle_vote(r, m);
		break;
	case RAFT_MSG_PREVOTE_REPLY:
		handle_prevote_reply(r, m);
		break;
	case RAFT_MSG_VOTE_REPLY:
		handle_vote_reply(r, m);
		break;
	case RAFT_MSG_APPEND:
		handle_append(r, m);
		break;
	case RAFT_MSG_HEARTBEAT:
		handle_heartbeat(r, m);
		break;
	case RAFT_MSG_APPEND_REPLY:
		if (r->role == RAFT_LEADER)
			handle_append_reply(r, p, m);
		break;
	case RAFT_MSG_HEARTBEAT_REPLY:
		if (r->role == RAFT_LEADER)
			handle_heartbeat_reply(r, p, m);
		break;
	case RAFT_MSG_SNAPSHOT:
		return handle_snapshot(r, m);
	case RAFT_MSG_SNAPSHOT_REPLY:
		if (r->role == RAFT_LEADER)
			handle_snapshot_reply(r, p, m);
		break;
	case RAFT_MSG_TIMEOUT_NOW:
		if (r->role == RAFT_FOLLOWER && r->leader == m->from &&
		    can_campaign(r))
			campaign(r, RAFT_MSG_F_TRANSFER);
		break;
	}
	return 0;
}

/* Client requests. */

int raft_propose(struct raft *r, const void *data, uint32_t len,
		 uint64_t *index, uint64_t *term)
{
	begin(r);
	if (r->role != RAFT_LEADER)
		return -EPERM;
	if (r->storage_failed)
		return -EIO;
	if (len > RAFT_ENTRY_DATA_MAX)
		return -EMSGSIZE;
	if (r->transfer_to)
		return -EBUSY;
	if (raft_last_index(r) - r->commit >= r->cfg.max_uncommitted)
		return -EBUSY;
	if (log_push(r, r->term, RAFT_ENTRY_COMMAND, data, len))
		return -ENOMEM;
	*index = raft_last_index(r);
	*term = r->term;
	return 0;
}

static void start_read_round(struct raft *r)
{
	bool waiting = false;

	for (size_t i = 0; i < r->n_pending; i++) {
		if (r->pending[i].ctx)
			continue;
		waiting = true;
		r->pending[i].index = r->commit;
	}
	if (!waiting)
		return;
	r->read_ctx++;
	for (size_t i = 0; i < r->n_pending; i++)
		if (!r->pending[i].ctx)
			r->pending[i].ctx = r->read_ctx;
	r->heartbeat_due = true;
	resolve_reads(r);
}

int raft_read_index(struct raft *r, uint64_t id)
{
	struct raft_pending_read *rd;

	begin(r);
	if (r->role != RAFT_LEADER)
		return -EPERM;
	if (grow((void **)&r->pending, &r->pending_cap, r->n_pending + 1,
		 sizeof(*rd)))
		return -ENOMEM;
	rd = &r->pending[r->n_pending++];
	rd->id = id;
	rd->index = 0;
	rd->ctx = 0;
	/* Until an entry of its term commits, a new leader does not know
	 * the commit index: the read waits for it (thesis 6.4, step 1).
	 */
	if (term_at(r, r->commit) == r->term)
		start_read_round(r);
	return 0;
}

void raft_persisted(struct raft *r, uint64_t index, uint64_t term)
{
	begin(r);
	if (index <= r->persisted || index > r->stable ||
	    term_at(r, index) != term)
		return;
	r->persisted = index;
	if (r->role == RAFT_LEADER)
		maybe_commit(r);
}

void raft_storage_failed(struct raft *r)
{
	begin(r);
	r->storage_failed = true;
	if (r->role != RAFT_FOLLOWER)
		become_follower(r, r->term, 0);
}

void raft_storage_ok(struct raft *r)
{
	begin(r);
	r->storage_failed = false;
}

/* raft_take(): building the APPENDs. */

static void send_append(struct raft *r, struct raft_peer *p)
{
	uint64_t last = raft_last_index(r);
	struct raft_msg *m = new_msg(r, RAFT_MSG_APPEND, p->id);
	size_t bytes = 0;
	uint32_t n = 0;

	if (!m)
		return;
	m->index = p->next - 1;
	m->log_term = term_at(r, m->index);
	m->commit = r->commit;
	if (p->next <= last) {
		m->entries = &r->log[p->next - r->log_start];
		while (p->next + n <= last) {
			bytes += m->entries[n].len + RAFT_ENTRY_OVERHEAD;
			if (n && bytes > r->cfg.max_append_bytes)
				break;
			n++;
		}
	}
	m->n_entries = n;
	if (p->probing) {
		p->probe_sent = true;
		return;
	}
	p->next += n;
	p->inflight_last[(p->inflight_head + p->inflight) % RAFT_INFLIGHT_MAX] =
		p->next - 1;
	p->inflight++;
}

static void replicate(struct raft *r, struct raft_peer *p)
{
	uint64_t last = raft_last_index(r);

	if (p->next < r->log_start) {
		send_snapshot(r, p);
		return;
	}
	p->snapshot = false;
	if (p->probing) {
		if (!p->probe_sent)
			send_append(r, p);
		return;
	}
	while (p->next <= last && p->inflight < r->cfg.max_inflight)
		send_append(r, p);
}

static void send_heartbeats(struct raft *r)
{
	for (unsigned int i = 0; i < r->n_peers; i++) {
		struct raft_peer *p = &r->peers[i];
		struct raft_msg *m = new_msg(r, RAFT_MSG_HEARTBEAT, p->id);

		if (!m)
			return;
		m->commit = p->match < r->commit ? p->match : r->commit;
		m->read_ctx = r->read_ctx;
	}
}

void raft_take(struct raft *r, struct raft_output *out)
{
	begin(r);
	if (r->role == RAFT_LEADER) {
		for (unsigned int i = 0; i < r->n_peers; i++)
			replicate(r, &r->peers[i]);
		if (r->heartbeat_due)
			send_heartbeats(r);
		if (!r->n_peers)
			resolve_reads(r);
	}
	r->heartbeat_due = false;

	memset(out, 0, sizeof(*out));
	out->meta_changed = r->meta_dirty;
	out->term = r->term;
	out->vote = r->vote;
	out->truncate_from = r->truncate_from;
	if (r->stable < raft_last_index(r)) {
		out->entries = &r->log[r->stable + 1 - r->log_start];
		out->n_entries = raft_last_index(r) - r->stable;
	}
	out->msgs = r->msgs;
	out->n_msgs = r->n_msgs;
	out->commit = r->commit;
	out->reads = r->reads;
	out->n_reads = r->n_reads;
	out->failed_reads = r->failed;
	out->n_failed_reads = r->n_failed;
	out->conf_changed = r->conf_changed;
	out->snap_complete = r->snap_complete;
	out->snap_index = r->recv_index;
	out->snap_term = r->recv_term;
	out->snap_total = r->recv_total;

	r->conf_changed = false;
	r->snap_complete = false;
	r->meta_dirty = false;
	r->truncate_from = 0;
	r->stable = raft_last_index(r);
	r->taken = true;
}

/* Queries. */

uint64_t raft_commit(const struct raft *r)
{
	return r->commit;
}

uint64_t raft_term(const struct raft *r)
{
	return r->term;
}

uint8_t raft_role(const struct raft *r)
{
	return r->role;
}

uint32_t raft_leader(const struct raft *r)
{
	return r->leader;
}

uint32_t raft_removed_by(const struct raft *r)
{
	return r->removed_by;
}

void raft_status(const struct raft *r, struct raft_status *st)
{
	memset(st, 0, sizeof(*st));
	st->id = r->cfg.id;
	st->role = r->role;
	st->term = r->term;
	st->vote = r->vote;
	st->leader = r->leader;
	st->commit = r->commit;
	st->first_index = r->log_start;
	st->last_index = raft_last_index(r);
	st->last_term = last_term(r);
	st->persisted = r->persisted;
	st->snap_index = r->snap_index;
	st->snap_term = r->snap_term;
	st->conf_index = r->conf_index;
	st->transfer_to = r->transfer_to;
	st->voter = self_voter(r);
	st->removed_by = r->removed_by;
	st->n_peers = r->n_peers;
	for (unsigned int i = 0; i < r->n_peers; i++) {
		const struct raft_peer *p = &r->peers[i];

		st->peers[i].id = p->id;
		st->peers[i].voter = p->voter;
		st->peers[i].snapshot = p->snapshot;
		st->peers[i].snap_offset = p->snap_acked;
		st->peers[i].match = p->match;
		st->peers[i].next = p->next;
		st->peers[i].active = p->active;
		st->peers[i].probing = p->probing;
		st->peers[i].inflight = p->inflight;
	}
}

const char *raft_role_name(uint8_t role)
{
	static const char *const names[] = {
		[RAFT_FOLLOWER] = "follower",
		[RAFT_PRECANDIDATE] = "precandidate",
		[RAFT_CANDIDATE] = "candidate",
		[RAFT_LEADER] = "leader",
	};

	return role < 4 ? names[role] : "?";
}

const char *raft_msg_name(uint8_t type)
{
	static const char *const names[] = {
		[RAFT_MSG_PREVOTE] = "prevote",
		[RAFT_MSG_PREVOTE_REPLY] = "prevote-reply",
		[RAFT_MSG_VOTE] = "vote",
		[RAFT_MSG_VOTE_REPLY] = "vote-reply",
		[RAFT_MSG_APPEND] = "append",
		[RAFT_MSG_APPEND_REPLY] = "append-reply",
		[RAFT_MSG_HEARTBEAT] = "heartbeat",
		[RAFT_MSG_HEARTBEAT_REPLY] = "heartbeat-reply",
		[RAFT_MSG_SNAPSHOT] = "snapshot",
		[RAFT_MSG_SNAPSHOT_REPLY] = "snapshot-reply",
		[RAFT_MSG_TIMEOUT_NOW] = "timeout-now",
	};

	return type && type <= RAFT_MSG_TYPE_MAX ? names[type] : "?";
}
