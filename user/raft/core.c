// SPDX-License-Identifier: GPL-2.0
/*
 * The Raft core (see core.h).  Follows the Raft paper and Ongaro's thesis:
 * pre-vote (9.6), check-quorum and leader stickiness (4.2.3, 9.6),
 * ReadIndex (6.4), commitment only through an entry of the leader's own
 * term (3.6.2, "Figure 8"), a no-op at the start of each term.
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
	uint64_t commit;
	uint64_t stable;		/* handed to storage */
	uint64_t persisted;		/* durable here, as storage said */
	uint64_t truncate_from;

	unsigned int elapsed;
	unsigned int timeout;
	unsigned int heartbeat_elapsed;
	uint32_t votes;			/* bit per cfg.nodes[] slot */
	uint32_t refusals;
	uint64_t rng;

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
	return r->cfg.n_nodes / 2 + 1;
}

static int node_slot(const struct raft *r, uint32_t id)
{
	for (unsigned int i = 0; i < r->cfg.n_nodes; i++)
		if (r->cfg.nodes[i] == id)
			return (int)i;
	return -1;
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
	bool self = false;

	if (!cfg->id || !cfg->n_nodes || cfg->n_nodes > RAFT_MAX_NODES)
		return false;
	if (!cfg->election_ticks || !cfg->heartbeat_ticks ||
	    cfg->heartbeat_ticks >= cfg->election_ticks)
		return false;
	if (!cfg->max_inflight || cfg->max_inflight > RAFT_INFLIGHT_MAX ||
	    !cfg->max_append_bytes || !cfg->max_uncommitted)
		return false;
	for (unsigned int i = 0; i < cfg->n_nodes; i++) {
		if (!cfg->nodes[i])
			return false;
		for (unsigned int j = 0; j < i; j++)
			if (cfg->nodes[j] == cfg->nodes[i])
				return false;
		self |= cfg->nodes[i] == cfg->id;
	}
	return self;
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
	r->log_start = 1;
	r->rng = cfg->seed ^ ((uint64_t)cfg->id << 32) ^ 0x9E3779B97F4A7C15ULL;
	if (!r->rng)
		r->rng = 1;
	for (unsigned int i = 0; i < cfg->n_nodes; i++) {
		if (cfg->nodes[i] == cfg->id)
			continue;
		r->peers[r->n_peers++].id = cfg->nodes[i];
	}
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
	return r->log_start + r->log_len - 1;
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

	return e ? e->term : 0;
}

static uint64_t last_term(const struct raft *r)
{
	return term_at(r, raft_last_index(r));
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
	return 0;
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

static void reply(struct raft *r, const struct raft_msg *in, uint8_t type,
		  uint64_t term, bool ok)
{
	struct raft_msg *m = new_msg(r, type, in->from);

	if (!m)
		return;
	m->term = term;
	m->ok = ok;
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
	reset_election_timer(r);
}

static void become_leader(struct raft *r)
{
	uint64_t next = raft_last_index(r) + 1;

	r->role = RAFT_LEADER;
	r->leader = r->cfg.id;
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
	}
	if (log_push(r, r->term, RAFT_ENTRY_NOOP, NULL, 0))
		r->oom = true;
	r->heartbeat_due = true;
}

static bool tally(struct raft *r, uint32_t from, bool granted)
{
	int slot = node_slot(r, from);

	if (slot < 0)
		return false;
	if (granted)
		r->votes |= 1u << slot;
	else
		r->refusals |= 1u << slot;
	return (unsigned int)__builtin_popcount(r->votes) >= quorum(r);
}

static bool refused(const struct raft *r)
{
	return (unsigned int)__builtin_popcount(r->refusals) >= quorum(r);
}

static void request_votes(struct raft *r, uint8_t type, uint64_t term)
{
	for (unsigned int i = 0; i < r->n_peers; i++) {
		struct raft_msg *m = new_msg(r, type, r->peers[i].id);

		if (!m)
			return;
		m->term = term;
		m->index = raft_last_index(r);
		m->log_term = last_term(r);
	}
}

static void campaign(struct raft *r)
{
	r->role = RAFT_CANDIDATE;
	set_term(r, r->term + 1);
	r->vote = r->cfg.id;
	r->meta_dirty = true;
	r->leader = 0;
	r->votes = r->refusals = 0;
	reset_election_timer(r);
	if (tally(r, r->cfg.id, true)) {
		become_leader(r);
		return;
	}
	request_votes(r, RAFT_MSG_VOTE, r->term);
}

static void start_election(struct raft *r)
{
	if (r->cfg.no_prevote) {
		campaign(r);
		return;
	}
	fail_pending_reads(r);
	r->role = RAFT_PRECANDIDATE;
	r->leader = 0;
	r->votes = r->refusals = 0;
	reset_election_timer(r);
	if (tally(r, r->cfg.id, true)) {
		campaign(r);
		return;
	}
	request_votes(r, RAFT_MSG_PREVOTE, r->term + 1);
}

static bool can_campaign(const struct raft *r)
{
	return !r->storage_failed && node_slot(r, r->cfg.id) >= 0;
}

/* Ticks. */

static bool quorum_active(struct raft *r)
{
	unsigned int active = 1;

	for (unsigned int i = 0; i < r->n_peers; i++) {
		active += r->peers[i].active;
		r->peers[i].active = false;
	}
	return active >= quorum(r);
}

static void tick_leader(struct raft *r)
{
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

static void handle_prevote(struct raft *r, const struct raft_msg *m)
{
	bool grant = m->term > r->term && log_up_to_date(r, m) &&
		     !leader_is_alive(r) && !r->storage_failed;

	reply(r, m, RAFT_MSG_PREVOTE_REPLY, grant ? m->term : r->term, grant);
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
	if (tally(r, m->from, m->ok))
		campaign(r);
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

	match[n++] = self_match(r);
	for (unsigned int i = 0; i < r->n_peers; i++)
		match[n++] = r->peers[i].match;
	qsort(match, n, sizeof(match[0]), cmp_u64_desc);
	candidate = match[quorum(r) - 1];
	/* Only an entry of this term commits the ones before it. */
	if (candidate <= r->commit || term_at(r, candidate) != r->term)
		return;
	first = term_at(r, r->commit) != r->term;
	r->commit = candidate;
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
		while (probe > p->match && term_at(r, probe) > m->hint_term)
			probe--;
		p->next = (probe > p->match ? probe : p->match) + 1;
		return;
	}
	if (m->hint_index > last)
		return;
	if (m->hint_index > p->match)
		p->match = m->hint_index;
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
}

static void resolve_reads(struct raft *r)
{
	size_t kept = 0;

	for (size_t i = 0; i < r->n_pending; i++) {
		struct raft_pending_read *rd = &r->pending[i];
		unsigned int acks = 1;

		if (rd->ctx) {
			for (unsigned int j = 0; j < r->n_peers; j++)
				acks += r->peers[j].read_ack >= rd->ctx;
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
	if (p->match < raft_last_index(r)) {
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
	return type == RAFT_MSG_APPEND || type == RAFT_MSG_HEARTBEAT;
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
			if (!r->cfg.no_check_quorum && leader_is_alive(r))
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
		if (from_a_leader(m->type))
			reply(r, m, m->type == RAFT_MSG_APPEND ?
			      RAFT_MSG_APPEND_REPLY : RAFT_MSG_HEARTBEAT_REPLY,
			      r->term, false);
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
	p = peer_of(r, m->from);
	if (!p)
		return -EINVAL;
	if (m->n_entries && m->type != RAFT_MSG_APPEND)
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
	st->n_peers = r->n_peers;
	for (unsigned int i = 0; i < r->n_peers; i++) {
		const struct raft_peer *p = &r->peers[i];

		st->peers[i].id = p->id;
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
	};

	return type && type <= RAFT_MSG_TYPE_MAX ? names[type] : "?";
}
