/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Addresses of Raft nodes as people write them: "198.18.0.1:7001",
 * "[fd00::1]:7001", ":7001" (127.0.0.1).  Shared by the nodes (their
 * --peers) and the clients (their --server lists).
 */
#ifndef LAMPORT_RAFT_ADDR_H
#define LAMPORT_RAFT_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* The longest address text, its NUL included. */
#define RAFT_ADDR_MAX	64

/* An IPv4 (sockaddr_in) or IPv6 (sockaddr_in6) address and port. */
struct raft_addr {
	struct sockaddr_storage sa;
	socklen_t len;
};

/*
 * "198.18.0.1:7001", "[fd00::1]:7001" or ":7001" (127.0.0.1): 0, or
 * -EINVAL with *why saying what is wrong ("port is out of range").
 */
int raft_addr_parse(const char *text, struct raft_addr *a, const char **why);

/* "198.18.0.1:7001" or "[fd00::1]:7001"; fits in RAFT_ADDR_MAX bytes. */
void raft_addr_format(const struct raft_addr *a, char *buf, size_t size);

bool raft_addr_equal(const struct raft_addr *a, const struct raft_addr *b);

/*
 * A comma-separated list of addresses into addrs: their count, -EINVAL
 * with the wrong item copied to bad and *why, or -E2BIG beyond max (bad
 * then holds the first item too many).
 */
int raft_addr_list_parse(const char *list, struct raft_addr *addrs, size_t max,
			 char *bad, size_t badlen, const char **why);

/* An IPv4-mapped IPv6 address becomes the IPv4 one: one form to compare. */
void raft_addr_canon(struct raft_addr *a);

uint16_t raft_addr_port(const struct raft_addr *a);
void raft_addr_set_port(struct raft_addr *a, uint16_t port);

#endif /* LAMPORT_RAFT_ADDR_H */

