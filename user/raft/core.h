/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The Raft core: an I/O-free state machine.  Events go in (a message, a
 * tick, a client proposal or read, "entries up to here are durable"); the
 * actions they cause come out of raft_take():
 *
 *	raft_step(r, msg); raft_tick(r); raft_propose(r, ...); ...
 *	raft_take(r, &out);
 *	1. if out.meta_changed: persist (term, vote), durably
 *	2. drop entries >= out.truncate_from (if not 0), append out.entries,
 *	   make them durable; then raft_persisted(r, last index, its term)
 *	3. send out.msgs (a leader's RAFT_MSG_APPEND may go before 1 and 2:
 *	   a leader counts itself only through raft_persisted())
 *	4. apply entries up to out.commit (raft_entry_at), answer out.reads
 *	5. if out.snap_complete: install the received snapshot, then
 *	   raft_snapshot_installed()
 *
 * Snapshots: once the state machine is saved at an applied index,
 * raft_compact() drops the log up to there.  A follower that needs what
 * was dropped gets the snapshot file in RAFT_MSG_SNAPSHOT chunks: the core
 * says which bytes (offset, data_len), the caller fills data in from the
 * file when it sends them.  At the follower, raft_step() returns
 * RAFT_STEP_CHUNK for a chunk to store; the caller stores m->data and
 * tells raft_snapshot_stored().
 *
 * Everything out points into r and stays valid until the next call into
 * r.  No sockets, files, clocks or randomness of its own: the seed comes
 * with the configuration, so a run is replayed exactly.
 */
#ifndef LAMPORT_RAFT_CORE_H
#define LAMPORT_RAFT_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "entry.h"

enum raft_role {
	RAFT_FOLLOWER,
	RAFT_PRECANDIDATE,
	RAFT_CANDIDATE,
	RAFT_LEADER,
};

enum raft_msg_type {
	RAFT_MSG_PREVOTE = 1,
	RAFT_MSG_PREVOTE_REPLY,
	RAFT_MSG_VOTE,
	RAFT_MSG_VOTE_REPLY,
	RAFT_MSG_APPEND,
	RAFT_MSG_APPEND_REPLY,
	RAFT_MSG_HEARTBEAT,
	RAFT_MSG_HEARTBEAT_REPLY,
	RAFT_MSG_SNAPSHOT,
	RAFT_MSG_SNAPSHOT_REPLY,
	RAFT_MSG_TIMEOUT_NOW,		/* leadership transfer: campaign now */
	RAFT_MSG_TYPE_MAX = RAFT_MSG_TIMEOUT_NOW,
};

/* (PRE)VOTE of a leadership transfer: leader stickiness does not apply. */
#define RAFT_MSG_F_TRANSFER	0x01
/*
 * PREVOTE_REPLY: the candidate is not in the sender's membership, which is
 * committed and newer than the candidate's whole log: it was removed.
 */
#define RAFT_MSG_F_REMOVED	0x02

/* raft_step(): the RAFT_MSG_SNAPSHOT chunk is to be stored now. */
#define RAFT_STEP_CHUNK		1

struct raft_msg {
	uint8_t type;		/* enum raft_msg_type */
	uint8_t flags;		/* RAFT_MSG_F_* */
	uint32_t from;
	uint32_t to;
	uint64_t term;
	/* (PRE)VOTE: the candidate's last entry.  APPEND: the entry before
	 * entries[].  APPEND_REPLY: the follower's last entry.
	 * SNAPSHOT(_REPLY): the snapshot's last entry.
	 */
	uint64_t index;
	uint64_t log_term;
	/* APPEND, HEARTBEAT: the leader's commit index. */
	uint64_t commit;
	/* (PRE)VOTE_REPLY, APPEND_REPLY: granted / accepted. */
	bool ok;
	/* APPEND_REPLY: accepted: the last index now matching the leader's;
	 * rejected: where the leader should retry (fast backtracking):
	 * hint_term is the follower's term at hint_index, 0 when the
	 * follower's log is shorter than the leader's probe.
	 */
	uint64_t hint_index;
	uint64_t hint_term;
	/* HEARTBEAT(_REPLY): the ReadIndex round it confirms. */
	uint64_t read_ctx;
	uint32_t n_entries;
	struct raft_entry *entries;
	/* SNAPSHOT: data_len bytes at offset of the total-byte file.
	 * SNAPSHOT_REPLY: offset is how many the follower holds; ok says
	 * whether the chunk was stored (false: it was not where expected).
	 */
	uint64_t offset;
	uint64_t total;
	uint32_t data_len;
	const uint8_t *data;
};

struct raft_config {
	uint32_t id;			/* this node, not 0 */
	/* The first membership, until the log or a snapshot says otherwise:
	 * bootstrap if set, else the voters nodes[] (this node included).
	 * join: none; the node waits for a leader to add it.
	 */
	uint32_t nodes[RAFT_MAX_NODES];
	unsigned int n_nodes;
	const struct raft_conf *bootstrap;
	bool join;
	unsigned int election_ticks;	/* timeout: random in [n, 2n) ticks */
	unsigned int heartbeat_ticks;
	bool no_prevote;		/* tests show what pre-vote prevents */
	bool no_check_quorum;
	uint64_t seed;
	size_t max_append_bytes;	/* entries per APPEND, in bytes of data
					 * plus RAFT_ENTRY_OVERHEAD each
					 */
	unsigned int max_inflight;	/* APPEND messages unacknowledged */
	uint64_t max_uncommitted;	/* proposals refused (EBUSY) past it */
	uint32_t snapshot_chunk;	/* bytes per RAFT_MSG_SNAPSHOT */
	unsigned int snapshot_window;	/* chunks unacknowledged */
	unsigned int hint_spacing;	/* ticks between hinted campaigns */
};

/* Fills in the defaults (everything but id, the membership and seed). */
void raft_config_default(struct raft_config *cfg);

struct raft_read {
	uint64_t id;		/* the caller's */
	uint64_t index;		/* serve it once applied reaches this */
};

struct raft_output {
	bool meta_changed;
	uint64_t term;
	uint32_t vote;
	uint64_t truncate_from;	/* 0: nothing to drop */
	const struct raft_entry *entries;
	size_t n_entries;
	const struct raft_msg *msgs;
	size_t n_msgs;
	uint64_t commit;
	const struct raft_read *reads;	/* confirmed: serve when applied */
	size_t n_reads;
	const uint64_t *failed_reads;	/* leadership lost: retry elsewhere */
	size_t n_failed_reads;
	bool conf_changed;		/* raft_membership() is new */
	bool snap_complete;		/* the received snapshot is whole */
	uint64_t snap_index;
	uint64_t snap_term;
	uint64_t snap_total;
};

struct raft_peer_status {
	uint32_t id;
	bool voter;
	bool snapshot;		/* being sent the snapshot */
	uint64_t snap_offset;	/* bytes of it acknowledged */
	uint64_t match;
	uint64_t next;
	bool active;		/* heard from in this election period */
	bool probing;		/* one APPEND at a time until a match */
	unsigned int inflight;
};

struct raft_status {
	uint32_t id;
	uint8_t role;
	uint64_t term;
	uint32_t vote;
	uint32_t leader;	/* 0: unknown */
	uint64_t commit;
	uint64_t first_index;
	uint64_t last_index;
	uint64_t last_term;
	uint64_t persisted;
	uint64_t snap_index;	/* 0: no snapshot */
	uint64_t snap_term;
	uint64_t conf_index;	/* entry of the membership in force; 0: base */
	uint32_t transfer_to;	/* leadership transfer under way */
	bool voter;
	/* A member said this node was removed: it no longer campaigns. */
	uint32_t removed_by;
	unsigned int n_peers;
	struct raft_peer_status peers[RAFT_MAX_NODES];
};

struct raft;

/* NULL with errno EINVAL (a configuration out of range) or ENOMEM. */
struct raft *raft_new(const struct raft_config *cfg);
void raft_free(struct raft *r);

/*
 * Restoring persisted state, before the first event: the metadata, then
 * every entry in index order from 1 (the core takes e->data).
 */
void raft_restore_meta(struct raft *r, uint64_t term, uint32_t vote);
/* A snapshot (before the entries, which then start after it). */
int raft_restore_snapshot(struct raft *r, uint64_t index, uint64_t term,
			  const struct raft_conf *conf, uint64_t bytes);
int raft_restore_entry(struct raft *r, struct raft_entry *e);
/* A snapshot reception that a restart interrupted. */
void raft_snapshot_resume(struct raft *r, uint64_t index, uint64_t term,
			  uint64_t offset);

/* Events. */
void raft_tick(struct raft *r);
/* -EINVAL for a message the core cannot take (unknown sender, bad type). */
int raft_step(struct raft *r, const struct raft_msg *m);
/*
 * A new command at the leader: 0 and its index and term, or -EPERM (not
 * the leader: raft_leader() may know who is), -EMSGSIZE (data too large),
 * -EBUSY (too many uncommitted entries), -EIO (storage failed).
 */
int raft_propose(struct raft *r, const void *data, uint32_t len,
		 uint64_t *index, uint64_t *term);
/* A linearizable read: confirmed later in out.reads, or failed. EPERM. */
int raft_read_index(struct raft *r, uint64_t id);
/*
 * The state machine was saved, durably, at index (applied, so committed):
 * the snapshot file holds bytes.  Entries up to index - keep are dropped.
 * -EINVAL for an index not committed or not past the last snapshot.
 */
int raft_compact(struct raft *r, uint64_t index, uint64_t bytes,
		 uint64_t keep);
/*
 * After RAFT_STEP_CHUNK: 0 when the chunk was stored, else a negative
 * errno and offset, the bytes the reception really holds.
 */
void raft_snapshot_stored(struct raft *r, int err, uint64_t offset);
/*
 * After out.snap_complete: 0 when the snapshot replaced the state machine
 * and the log (conf: its membership), else a negative errno; the leader
 * then sends it again.
 */
void raft_snapshot_installed(struct raft *r, int err, uint64_t index,
			     uint64_t term, const struct raft_conf *conf);
/*
 * A membership change at the leader (conf.h: one member at a time, a new
 * one as a non-voter, promoted by the leader once it has caught up).
 * -EPERM not the leader, -EAGAIN not yet (no entry of this term committed,
 * a change or a transfer under way), -EINVAL (*why) not a single change,
 * -EBUSY, -EIO as raft_propose().
 */
int raft_change(struct raft *r, const struct raft_conf *to, const char **why);
/*
 * Leadership transfer to voter id: proposals are refused (-EBUSY) until it
 * is done or an election timeout has passed.  -EPERM not the leader,
 * -EINVAL not another voter, -EAGAIN a transfer already under way.
 */
int raft_transfer(struct raft *r, uint32_t id);
/*
 * A failure detector says node id is dead.  If it is this follower's
 * leader, the leader is presumed gone and the node campaigns at once (the
 * others after hint_spacing ticks each, by id, to avoid a split vote).
 * Only a hint: a wrong one costs at most an election.
 */
void raft_hint_dead(struct raft *r, uint32_t id);

/* Entries up to index, of term, are durable on this node. */
void raft_persisted(struct raft *r, uint64_t index, uint64_t term);
/*
 * Persisting failed (a full disk): a leader steps down, and the node
 * neither votes nor accepts entries until raft_storage_ok().
 */
void raft_storage_failed(struct raft *r);
void raft_storage_ok(struct raft *r);

/* Actions. */
void raft_take(struct raft *r, struct raft_output *out);

/* Queries. */
const struct raft_entry *raft_entry_at(const struct raft *r, uint64_t index);
uint64_t raft_last_index(const struct raft *r);
uint64_t raft_commit(const struct raft *r);
uint64_t raft_term(const struct raft *r);
uint8_t raft_role(const struct raft *r);
uint32_t raft_leader(const struct raft *r);
/* 0, or the member that said this node was removed (it no longer campaigns). */
uint32_t raft_removed_by(const struct raft *r);
void raft_status(const struct raft *r, struct raft_status *st);
/* The membership in force (the newest in the log); NULL if none yet. */
const struct raft_conf *raft_membership(const struct raft *r);
/* The membership in force at index: 0, or -ENOENT (compacted, unknown). */
int raft_conf_at(const struct raft *r, uint64_t index, struct raft_conf *out);
uint64_t raft_snapshot_index(const struct raft *r);

const char *raft_role_name(uint8_t role);
const char *raft_msg_name(uint8_t type);

#endif /* LAMPORT_RAFT_CORE_H */
