/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A Raft log entry, as the core, the storage and the wire all see it.
 */
#ifndef LAMPORT_RAFT_ENTRY_H
#define LAMPORT_RAFT_ENTRY_H

#include <stdint.h>

enum raft_entry_type {
	RAFT_ENTRY_NOOP = 1,	/* a new leader's first entry of its term */
	RAFT_ENTRY_COMMAND,	/* an operation for the state machine */
	RAFT_ENTRY_CONFIG,	/* a new membership (conf.h) */
};

/* Bytes of command data an entry may carry (fits one 1400-byte message). */
#define RAFT_ENTRY_DATA_MAX	1280

/* What an entry costs a message beyond its data, at most. */
#define RAFT_ENTRY_OVERHEAD	16

struct raft_entry {
	uint64_t term;
	uint64_t index;
	uint8_t type;		/* enum raft_entry_type */
	uint32_t len;
	uint8_t *data;		/* len bytes, malloc'd; NULL when len is 0 */
};

#endif /* LAMPORT_RAFT_ENTRY_H */
