// SPDX-License-Identifier: GPL-2.0
/*
 * happened_before: Lamport's happened-before on AF_LAMPORT datagrams.  Run
 * "happened_before NODE_ID PEER_ID..." in the network namespace of every
 * node, all within 5 s.  The nodes form a ring in id order; the lowest has
 * a local event and sends to the next, which receives and sends on, until
 * the ring closes.  Each event prints with its Lamport clock, and each node
 * checks that its receive's clock exceeds the stamp: exit 0 if so, 1 if not
 * or on an error, 2 on a usage error.  A datagram to a port not yet bound
 * is lost, so the others first tell the starter they are bound, from a
 * second socket whose clock plays no part.  Built by "make -C user", or
 *	cc -std=c11 -D_GNU_SOURCE -Iinclude/uapi -Iuser \
 *		user/examples/happened_before.c user/af_lamport.c
 */

#include <errno.h>
#include <stdalign.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "af_lamport.h"

#define STORY_PORT	7000	/* the messages of the story */
#define READY_PORT	7001	/* "I am bound", to the starter */
#define TIMEOUT_MS	5000	/* for any message */
#define READY_EVERY_MS	100
#define MAX_NODES	64

static int family;
static uint32_t self, prev, next, starter;
static unsigned int nodes;

static void fail(const char *what)
{
	fprintf(stderr, "happened_before: node %u: %s: %s\n", self, what,
		lamport_af_strerror(-errno));
	exit(1);
}

static int cmp_id(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

/* The ring of the (distinct, non-zero) ids given, in id order. */
static bool parse_ring(int argc, char **argv)
{
	uint32_t ids[MAX_NODES];
	unsigned long long id;
	unsigned int i;
	char *end;

	for (nodes = 0; nodes + 1 < (unsigned int)argc; nodes++) {
		errno = 0;
		id = strtoull(argv[nodes + 1], &end, 0);
		if (nodes == MAX_NODES || errno || *end || !id || id > UINT32_MAX ||
		    argv[nodes + 1][0] < '0' || argv[nodes + 1][0] > '9')
			return false;
		ids[nodes] = id;
	}
	if (nodes < 2)
		return false;
	self = ids[0];
	qsort(ids, nodes, sizeof(ids[0]), cmp_id);
	for (i = 0; i < nodes; i++) {
		if (i && ids[i] == ids[i - 1])
			return false;
		if (ids[i] == self) {
			prev = ids[(i + nodes - 1) % nodes];
			next = ids[(i + 1) % nodes];
		}
	}
	starter = ids[0];
	return true;
}

/* A datagram socket bound to port (0: not bound), receiving for ms at most. */
static int open_socket(uint16_t port, int ms)
{
	struct timeval tv = { ms / 1000, ms % 1000 * 1000 };
	struct sockaddr_lamport sa = { family, port, self };
	int fd = lamport_socket(SOCK_DGRAM);

	if (fd < 0)
		fail("AF_LAMPORT socket");
	if (port && bind(fd, (struct sockaddr *)&sa, sizeof(sa)))
		fail("bind");
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)))
		fail("SO_RCVTIMEO");
	return fd;
}

static uint64_t clock_of(int fd)
{
	socklen_t len = sizeof(uint64_t);
	uint64_t clock;

	if (getsockopt(fd, SOL_LAMPORT, LAMPORT_CLOCK, &clock, &len))
		fail("LAMPORT_CLOCK");
	return clock;
}

/* Sends text to port of node to; returns the stamp it carries. */
static uint64_t send_to(int fd, uint32_t to, uint16_t port, const char *text)
{
	struct sockaddr_lamport sa = { family, port, to };

	if (sendto(fd, text, strlen(text), 0, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		fail("sendto");
	return clock_of(fd);	/* the send ticked and stamped with the clock */
}

/* One message: its sender and stamp; -1 with errno EAGAIN on a timeout. */
static int recv_from(int fd, uint32_t *from, struct lamport_stamp *st)
{
	alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(*st))];
	struct sockaddr_lamport sa = { 0 };
	char data[64];
	struct iovec iov = { data, sizeof(data) };
	struct msghdr msg = {
		.msg_name = &sa, .msg_namelen = sizeof(sa), .msg_iov = &iov,
		.msg_iovlen = 1, .msg_control = control,
		.msg_controllen = sizeof(control),
	};
	struct cmsghdr *c;

	if (recvmsg(fd, &msg, 0) < 0)
		return -1;
	*from = sa.slam_node;
	for (c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level == SOL_LAMPORT && c->cmsg_type == LAMPORT_CMSG_STAMP) {
			memcpy(st, CMSG_DATA(c), sizeof(*st));
			return 0;
		}
	}
	errno = EPROTO;		/* every message carries its stamp */
	return -1;
}

/* The starter: waits until every other node has said it is bound. */
static void wait_ready(void)
{
	uint32_t from, seen[MAX_NODES];
	int fd = open_socket(READY_PORT, TIMEOUT_MS);
	unsigned int i, count = 0;
	struct lamport_stamp st;

	while (count < nodes - 1) {
		if (recv_from(fd, &from, &st))
			fail("waiting for the other nodes");
		for (i = 0; i < count && seen[i] != from; i++)
			;
		if (i == count)
			seen[count++] = from;
	}
	close(fd);
}

/* The others: say "ready" to the starter until a message comes to fd. */
static void recv_announcing(int fd, uint32_t *from, struct lamport_stamp *st)
{
	int ready = open_socket(0, 0), tries = TIMEOUT_MS / READY_EVERY_MS;

	do {
		send_to(ready, starter, READY_PORT, "ready");
		if (!recv_from(fd, from, st))
			break;
		if ((errno != EAGAIN && errno != EWOULDBLOCK) || !--tries)
			fail("waiting for a message");
	} while (true);
	close(ready);
}

static void received(uint32_t from, const struct lamport_stamp *st)
{
	printf("node %u: recv from %u stamp %llu clock %llu\n", self, from,
	       (unsigned long long)st->stamp, (unsigned long long)st->clock);
	if (from != prev) {
		errno = EPROTO;
		fail("the message is not from the previous node");
	}
}

int main(int argc, char **argv)
{
	struct lamport_stamp st = { 0 };
	uint64_t local = 0;
	uint32_t from = 0;
	bool holds;
	int fd;

	if (!parse_ring(argc, argv)) {
		fprintf(stderr, "usage: happened_before NODE_ID PEER_ID... (distinct, non-zero)\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	family = lamport_af_family();
	if (family < 0) {
		errno = -family;
		fail("AF_LAMPORT");
	}
	fd = open_socket(STORY_PORT, self == starter ? TIMEOUT_MS : READY_EVERY_MS);
	if (self == starter) {
		wait_ready();
		if (setsockopt(fd, SOL_LAMPORT, LAMPORT_TICK, NULL, 0))
			fail("LAMPORT_TICK");
		local = clock_of(fd);
		printf("node %u: local event clock %llu\n", self, (unsigned long long)local);
	} else {
		recv_announcing(fd, &from, &st);
		received(from, &st);
	}
	printf("node %u: send to %u stamp %llu\n", self, next,
	       (unsigned long long)send_to(fd, next, STORY_PORT, "happened before"));
	if (self == starter) {
		if (recv_from(fd, &from, &st))
			fail("waiting for the ring to close");
		received(from, &st);
	}
	close(fd);

	/* On the starter, the local event happened before the last send too. */
	holds = st.stamp < st.clock && (self != starter || local < st.stamp);
	printf("node %u: happened-before %s: ", self, holds ? "holds" : "VIOLATED");
	if (self == starter)
		printf("local event clock %llu < ", (unsigned long long)local);
	printf("stamp %llu < clock %llu\n", (unsigned long long)st.stamp,
	       (unsigned long long)st.clock);
	return holds ? 0 : 1;
}
