/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Hints from lamport.ko's failure detector to a Raft node: the peer state
 * changes the module multicasts on the "events" group of the "lamport"
 * generic netlink family, in the node's network namespace.
 *
 *	struct raft_hints *h;
 *	char err[128];
 *
 *	if (raft_hints_open(&h, err, sizeof(err)) == 0) {
 *		... poll raft_hints_fd(h) for POLLIN, then
 *		raft_hints_read(h, on_peer_state, arg);
 *		...
 *		raft_hints_close(h);
 *	}
 *
 * A peer's id is the lamport node id of the peer, which is also the Raft
 * id of the node there (AF_LAMPORT addresses Raft nodes by node id).
 * Hints only hasten what timeouts would do anyway: a lost one (an overrun
 * of the socket) costs time, never safety.
 */
#ifndef LAMPORT_RAFT_HINT_H
#define LAMPORT_RAFT_HINT_H

#include <stddef.h>
#include <stdint.h>

struct raft_hints;

/*
 * Called for each event: peer went from old_state to new_state, both
 * enum lamport_peer_state (LAMPORT_PEER_ALIVE, _SUSPECT, _DEAD, ...).
 */
typedef void raft_hint_fn(void *arg, uint32_t peer, uint8_t old_state,
			  uint8_t new_state);

/*
 * Subscribes, in the caller's current network namespace, to the events
 * of its lamport node.  0 with *out set, or with *out NULL and the reason
 * in err (errlen bytes, may be 0):
 *   -ENOENT      no "lamport" family: lamport.ko is not loaded
 *   -EOPNOTSUPP  the family has no "events" group (another module version)
 *   -ENOMEM, or the error of the netlink socket or of the request.
 */
int raft_hints_open(struct raft_hints **out, char *err, size_t errlen);

/* The socket to poll for POLLIN; never blocks when read through the below. */
int raft_hints_fd(const struct raft_hints *h);

/*
 * Hands every event waiting on the socket to fn(arg, ...), without
 * blocking, in the order the kernel sent them.  Returns the number of
 * events handed (0: none was waiting), or after handing what could be
 * read:
 *   -ENOBUFS  the socket overran and events were lost since the last
 *             call: the caller should not rely on having seen every
 *             change (nothing else is wrong; keep reading);
 *   -errno    the socket failed.
 * Messages that are not well-formed events are skipped and counted.
 */
int raft_hints_read(struct raft_hints *h, raft_hint_fn *fn, void *arg);

/* Events handed, malformed messages skipped, overruns, since the open. */
struct raft_hints_stats {
	uint64_t events;
	uint64_t malformed;
	uint64_t overruns;
};

void raft_hints_get_stats(const struct raft_hints *h,
			  struct raft_hints_stats *st);

/* Closes the socket and frees h; NULL is allowed. */
void raft_hints_close(struct raft_hints *h);

#endif /* LAMPORT_RAFT_HINT_H */
