/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Persistence of one Raft node, in a directory of its own: its term and
 * vote ("meta") and its log ("seg-<first index, 16 hex digits>.log" files,
 * append-only).  The Raft core keeps the whole log in memory; this writes
 * it and reads it back at start.  storage.c describes the file formats.
 *
 * One process at a time: rstore_open() takes an flock on the directory.
 * Not thread-safe: one caller at a time.
 *
 * Errors are negative errnos, described in words by rstore_error().
 *
 * A failed system call in a call that writes (rstore_save_meta,
 * rstore_append, rstore_truncate, rstore_sync) breaks the store: what was
 * written since the last successful rstore_sync() may or may not be on
 * disk (and after a failed fsync the kernel may have dropped the pages, so
 * a second fsync proves nothing).  Every later call of those four returns
 * the same error (-EINVAL for bad arguments and -ENOMEM break nothing).
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

#include "entry.h"

/* A new segment starts once the current one has reached this size. */
#define RSTORE_SEGMENT_BYTES	(8u << 20)

struct rstore;

struct rstore_meta {
	uint64_t cluster_id;
	uint32_t node_id;
	uint64_t term;
	uint32_t vote;		/* node voted for in term; 0 = none */
};

/*
 * Called by rstore_open() for each entry of the log, in index order.
 * e->data is malloc'd and now belongs to the callee.  Returns 0, or a
 * negative errno to make the open fail with it.
 */
typedef int (*rstore_load_fn)(void *arg, struct raft_entry *e);

/*
 * Opens dir (creating it, not its parents, and a fresh meta with term 0 if
 * it has no meta) and loads its log through load (may be NULL).
 * segment_bytes: 0 for RSTORE_SEGMENT_BYTES.
 *
 * A torn last record (a crash while appending) is cut off and described
 * in warn ("" if nothing was cut).  Refused, with the files untouched:
 * -EEXIST  a dir of another cluster_id or node_id;
 * -EUCLEAN a damaged meta, segments without a meta, a missing segment, a
 *          bad record anywhere but at the tail (err names file and offset);
 * -EPROTONOSUPPORT a meta of another version;
 * -EBUSY   a dir another rstore has open.
 * Other errors are those of the system calls, or load's own.
 *
 * On success, sets *out and *meta and returns 0.  On failure, returns a
 * negative errno and says why in err; entries already handed to load are
 * to be dropped.  err and warn may be NULL.
 */
int rstore_open(const char *dir, uint64_t cluster_id, uint32_t node_id,
		uint32_t segment_bytes, rstore_load_fn load, void *arg,
		struct rstore **out, struct rstore_meta *meta,
		char *err, size_t errlen, char *warn, size_t warnlen);

/* Replaces term and vote; durable on return. */
int rstore_save_meta(struct rstore *s, uint64_t term, uint32_t vote);

/*
 * Writes n entries (write(2), not yet durable).  The first index must be
 * rstore_last_index() + 1, the next ones consecutive, terms non-decreasing,
 * data at most RAFT_ENTRY_DATA_MAX bytes; else -EINVAL and nothing written.
 */
int rstore_append(struct rstore *s, const struct raft_entry *e, size_t n);

/*
 * Drops the entries from from_index (> 0) on, as a Raft log conflict does;
 * nothing if from_index is past the last.  Durable on return, so that the
 * entries appended next never mix with the dropped ones on disk.
 */
int rstore_truncate(struct rstore *s, uint64_t from_index);

/* Makes every rstore_append() so far durable. */
int rstore_sync(struct rstore *s);

uint64_t rstore_last_index(const struct rstore *s);

/* The last failure in words, naming the file and the cause; "" if none. */
const char *rstore_error(const struct rstore *s);

/* Closes s (NULL is fine); does not sync. */
void rstore_close(struct rstore *s);

#endif /* LAMPORT_RAFT_STORAGE_H */
