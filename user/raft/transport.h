/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The datagram socket a Raft node talks to its peers through: AF_LAMPORT
 * (addressed by node id and port) or UDP (by IP address and port), with a
 * fault-injection hook that drops, duplicates and delays what it sends,
 * for hosts without netem.
 */
#ifndef LAMPORT_RAFT_TRANSPORT_H
#define LAMPORT_RAFT_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "addr.h"

struct faults {
	unsigned int drop_pct;
	unsigned int dup_pct;
	unsigned int delay_min_ms;
	unsigned int delay_max_ms;
};

struct delayed;

struct transport {
	int fd;
	bool lamport;
	int family;		/* AF_LAMPORT's number, when lamport */
	struct faults faults;
	uint64_t rng;
	struct delayed *queue;
	size_t n_queued;
	size_t queue_cap;
	uint64_t sent;
	uint64_t send_errors;
	uint64_t fault_drops;
	uint64_t fault_dups;
};

/* "drop=10,dup=5,delay=2-20" (percent, percent, milliseconds). */
int faults_parse(const char *text, struct faults *f, char *err, size_t errlen);

int transport_open_udp(struct transport *t, const struct raft_addr *bind_to,
		       char *err, size_t errlen);
/* Binds (node, port) on AF_LAMPORT: node must be this netns' node id. */
int transport_open_lamport(struct transport *t, uint32_t node, uint16_t port,
			   char *err, size_t errlen);
void transport_close(struct transport *t);

/* The address of a peer on the transport: its node id or IP address. */
void transport_peer_addr(const struct transport *t, uint32_t node,
			 uint16_t port, const struct raft_addr *ip,
			 struct raft_addr *out);

/* Sends now, later or never, as the faults say; -errno of sendto. */
int transport_send(struct transport *t, const struct raft_addr *to,
		   const void *buf, size_t len, uint64_t now_ms);
/* Sends what is due; returns ms until the next, or -1 if none. */
int transport_flush(struct transport *t, uint64_t now_ms);

#endif /* LAMPORT_RAFT_TRANSPORT_H */
