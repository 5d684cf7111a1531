/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Persistence of one Raft node, in a directory of its own: its term and
 * vote ("meta"), its log ("seg-<first index, 16 hex digits>.log" files,
 * append-only) and its snapshot ("snap-<index>-<term>.snap", the state
 * machine at an index, after which the log up to it is compacted away).
 * The Raft core keeps the log in memory; this writes it and reads it back
 * at start.  storage.c describes the file formats.
 *
 * One process at a time: rstore_open() takes an flock on the directory.
 * Not thread-safe: one caller at a time.
 *
 * Errors are negative errnos, described in words by rstore_error().
 *
 * A failed system call in a call that writes the log or the meta
 * (rstore_save_meta, rstore_append, rstore_truncate, rstore_sync, and
 * the parts of rstore_snapshot_save and rstore_recv_finish said below)
 * breaks the store: what was written since the last successful
 * rstore_sync() may or may not be on disk (and after a failed fsync the
 * kernel may have dropped the pages, so a second fsync proves nothing).
 * Every later call of those six returns the same error (-EINVAL for bad
 * arguments and -ENOMEM break nothing).
 * rstore_error() and rstore_last_index() still answer; the latter counts
 * entries written whole, durable or not.  The caller must believe durable
 * only what a successful rstore_sync() (or rstore_save_meta()) covered,
 * stop acting on the rest (step down, refuse writes), then rstore_close()
 * and rstore_open() again, which reloads what really is on disk: the
 * entries synced and, possibly, some appended after them.
 */
#ifndef LAMPORT_RAFT_STORAGE_H
#define LAMPORT_RAFT_STORAGE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "entry.h"

/* A new segment starts once the current one has reached this size. */
#define RSTORE_SEGMENT_BYTES	(8u << 20)

/* What a snapshot may hold. */
#define RSTORE_SNAP_CONF_MAX	(64u << 10)
#define RSTORE_SNAP_DATA_MAX	(1u << 30)

struct rstore;

struct rstore_meta {
	uint64_t cluster_id;
	uint32_t node_id;
	uint64_t term;
	uint32_t vote;		/* node voted for in term; 0 = none */
};

/*
 * Called by rstore_open2() for each entry of the log, in index order.
 * e->data is malloc'd and now belongs to the callee.  Returns 0, or a
 * negative errno to make the open fail with it.
 */
typedef int (*rstore_load_fn)(void *arg, struct raft_entry *e);

/*
 * Called with a snapshot: the state machine at index (of term) whose
 * membership is conf.  conf and data are malloc'd and now belong to the
 * callee (NULL when their length is 0), whatever it returns: 0, or a
 * negative errno that the call handing them over then returns.
 */
typedef int (*rstore_snap_fn)(void *arg, uint64_t index, uint64_t term,
			      uint8_t *conf, uint32_t conf_len,
			      uint8_t *data, size_t data_len);

/*
 * Opens dir (creating it, not its parents, and a fresh meta with term 0 if
 * it has no meta) and loads it: the newest valid snapshot through snap,
 * then the log entries after it, in index order, through load (either may
 * be NULL; both get arg).  segment_bytes: 0 for RSTORE_SEGMENT_BYTES.
 *
 * Described in warn ("" if nothing), separated by "; ", open anyway:
 * - a torn last record (a crash while appending): cut off;
 * - a snapshot file that is damaged (or of another cluster or version):
 *   skipped, the next older one is tried;
 * - a log that does not go on from the snapshot (a crash while
 *   rstore_recv_finish() replaced it): dropped.
 * Entries up to the snapshot still in the log are not handed to load.
 * Refused, with the files untouched:
 * -EEXIST  a dir of another cluster_id or node_id;
 * -EUCLEAN a damaged meta, segments or snapshots without a meta, a missing
 *          segment, a bad record anywhere but at the tail (err names file
 *          and offset), a log starting after the snapshot's index + 1 (err
 *          names the missing entries);
 * -EPROTONOSUPPORT a meta of another version;
 * -EBUSY   a dir another rstore has open.
 * Other errors are those of the system calls, or snap's or load's own.
 *
 * On success, sets *out and *meta and returns 0.  On failure, returns a
 * negative errno and says why in err; what was already handed to snap and
 * load is to be dropped.  err and warn may be NULL.
 */
int rstore_open2(const char *dir, uint64_t cluster_id, uint32_t node_id,
		 uint32_t segment_bytes, rstore_snap_fn snap,
		 rstore_load_fn load, void *arg, struct rstore **out,
		 struct rstore_meta *meta, char *err, size_t errlen,
		 char *warn, size_t warnlen);

/* rstore_open2() without a snapshot callback. */
int rstore_open(const char *dir, uint64_t cluster_id, uint32_t node_id,
		uint32_t segment_bytes, rstore_load_fn load, void *arg,
		struct rstore **out, struct rstore_meta *meta,
		char *err, size_t errlen, char *warn, size_t warnlen);

/* Replaces term and vote; durable on return. */
int rstore_save_meta(struct rstore *s, uint64_t term, uint32_t vote);

/*
 * Writes n entries (write(2), not yet durable).  The first index must be
 * rstore_last_index() + 1 (the snapshot's + 1 if no entry follows it), the
 * next ones consecutive, terms non-decreasing (from the snapshot's), data
 * at most RAFT_ENTRY_DATA_MAX bytes; else -EINVAL and nothing written.
 */
int rstore_append(struct rstore *s, const struct raft_entry *e, size_t n);

/*
 * Drops the entries from from_index on, as a Raft log conflict does;
 * nothing if from_index is past the last.  -EINVAL if from_index is not
 * past the snapshot (and not 0).  Durable on return, so that the
 * entries appended next never mix with the dropped ones on disk.
 */
int rstore_truncate(struct rstore *s, uint64_t from_index);

/* Makes every rstore_append() so far durable. */
int rstore_sync(struct rstore *s);

/* The last entry's index, or the snapshot's if no entry follows it. */
uint64_t rstore_last_index(const struct rstore *s);

/*
 * Saves the state machine at index, of term (that entry's), durably:
 * written to snap-....tmp, fsync'd, renamed, the directory fsync'd.  Then
 * compacts: unlinks the segments all of whose entries are up to index (the
 * last segment stays) and every other snapshot file.  conf and data are
 * opaque here, at most RSTORE_SNAP_CONF_MAX and RSTORE_SNAP_DATA_MAX bytes.
 *
 * -EINVAL, breaking nothing: index not past the snapshot or past the last
 * entry, term not that entry's, too much conf or data.  A failure writing
 * the new file leaves the previous snapshot in place and the store whole;
 * only a failed fsync of the directory breaks the store (as it may have
 * lost segments created since the last rstore_sync()).  0 once the new
 * snapshot is durable: a failure to unlink the files it made obsolete is
 * not one (they are harmless, and the next save tries again).
 */
int rstore_snapshot_save(struct rstore *s, uint64_t index, uint64_t term,
			 const void *conf, uint32_t conf_len,
			 const void *data, size_t data_len);

/* The snapshot's index, term and file size (each may be NULL); -ENOENT. */
int rstore_snapshot_info(const struct rstore *s, uint64_t *index,
			 uint64_t *term, uint64_t *file_size);

/*
 * Up to len bytes of the snapshot file, verbatim (what a follower's
 * rstore_recv_write() takes), from offset: the bytes read, 0 at its end;
 * -ESTALE if the snapshot is no longer the one at index, -ENOENT if there
 * is none.
 */
ssize_t rstore_snapshot_read(struct rstore *s, uint64_t index,
			     uint64_t offset, void *buf, size_t len);

/*
 * Receiving the leader's snapshot file (at index, of term), in chunks, into
 * "recv-<index>-<term>.part"; resumable, across a restart too.  None of
 * these break the store, or need it whole, but rstore_recv_finish().
 *
 * rstore_recv_write() appends len bytes at offset, which must be the
 * bytes received so far (else -ERANGE and nothing written; the caller
 * asks for what rstore_recv_state() says).  A part of another index or
 * term is discarded first: reception restarts at 0.  Chunks are not
 * fsync'd: after a crash the part may hold garbage, which the final check
 * catches.  -ESTALE for a snapshot not past this store's, -EFBIG for a
 * file larger than a snapshot can be.
 */
int rstore_recv_write(struct rstore *s, uint64_t index, uint64_t term,
		      uint64_t offset, const void *data, size_t len);

/* The part being received: its index, term and bytes so far; -ENOENT. */
int rstore_recv_state(const struct rstore *s, uint64_t *index,
		      uint64_t *term, uint64_t *offset);

/*
 * The part is whole, total bytes (-ERANGE, nothing done, if fewer were
 * received): fsyncs it, checks it (magic, version, lengths, crcs, this
 * store's cluster id, the part's index and term), renames it to its
 * snap-... name, fsyncs the directory, then replaces the whole log by an
 * empty one starting at index + 1 and unlinks the other snapshots: durable
 * on return.  Then hands the snapshot to snap (may be NULL), whose error
 * it returns; the snapshot is installed all the same.
 *
 * -EBADMSG (rstore_error() says why) for a part that fails the check,
 * -ESTALE if it is not past this store's snapshot: the part is unlinked,
 * nothing else changes.  A failed fsync of the directory, or a failure
 * while replacing the log, breaks the store (a reopen finishes the job:
 * see rstore_open2()).
 */
int rstore_recv_finish(struct rstore *s, uint64_t total, rstore_snap_fn snap,
		       void *arg);

/* The last failure in words, naming the file and the cause; "" if none. */
const char *rstore_error(const struct rstore *s);

/* Closes s (NULL is fine); does not sync. */
void rstore_close(struct rstore *s);

#endif /* LAMPORT_RAFT_STORAGE_H */
