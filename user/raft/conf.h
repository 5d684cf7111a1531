/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A Raft cluster's membership: who is in it, who votes, and where each
 * member listens.  It travels in CONFIG log entries and in snapshots, as
 * this encoding (little-endian):
 *
 *	u8  version		1
 *	u8  members		1..RAFT_MAX_NODES
 *	then per member, by increasing id:
 *	u32 id			not 0
 *	u8  flags		RAFT_MEMBER_VOTER
 *	u8  address length	0..RAFT_MEMBER_ADDR_MAX - 1
 *	    address		the text a node's --peers gives ("" if unknown)
 *
 * At least one member votes.  The core reads ids and flags; the daemon
 * reads the addresses.
 */
#ifndef LAMPORT_RAFT_CONF_H
#define LAMPORT_RAFT_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RAFT_MAX_NODES		9
#define RAFT_MEMBER_ADDR_MAX	64
#define RAFT_MEMBER_VOTER	0x01
#define RAFT_CONF_MAX		(2 + RAFT_MAX_NODES * (6 + RAFT_MEMBER_ADDR_MAX))

struct raft_member {
	uint32_t id;
	bool voter;
	char addr[RAFT_MEMBER_ADDR_MAX];
};

struct raft_conf {
	unsigned int n;
	struct raft_member m[RAFT_MAX_NODES];	/* by increasing id */
};

/* Length written, -EINVAL for an invalid conf, -EMSGSIZE if size is short. */
int raft_conf_encode(const struct raft_conf *c, uint8_t *buf, size_t size);

/* Exactly len bytes: 0, or -EINVAL with nothing promised about *c. */
int raft_conf_decode(struct raft_conf *c, const uint8_t *buf, size_t len);

/*
 * Members sorted by id; -EINVAL for none, too many, id 0, a duplicate id,
 * no voter or an address too long.
 */
int raft_conf_check(struct raft_conf *c);

struct raft_member *raft_conf_find(struct raft_conf *c, uint32_t id);
const struct raft_member *raft_conf_get(const struct raft_conf *c, uint32_t id);
bool raft_conf_is_voter(const struct raft_conf *c, uint32_t id);
unsigned int raft_conf_voters(const struct raft_conf *c);
bool raft_conf_equal(const struct raft_conf *a, const struct raft_conf *b);

/*
 * A change Raft can make safely in one step (thesis 4.1): exactly one
 * member added as a non-voter, removed, or made a voter.  0, or -EINVAL
 * with *why saying what is wrong.
 */
int raft_conf_single_change(const struct raft_conf *from,
			    const struct raft_conf *to, const char **why);

#endif /* LAMPORT_RAFT_CONF_H */
