// SPDX-License-Identifier: GPL-2.0
/*
 * raft_poke: sends a Raft node the datagrams it must refuse, for raft.sh.
 *
 *	raft_poke ADDR PORT KIND [CLUSTER [TO]]
 *
 * ADDR is an IPv4 address (UDP), or lamport:NODE (AF_LAMPORT datagrams to
 * that node id, sent from this netns' node).
 * KIND, to the Raft port:
 *	garbage		random bytes, sizes 0..1500
 *	truncated	a valid APPEND cut at every length
 *	unknown		a valid HEARTBEAT from node 99, of CLUSTER, to TO
 *	foreign		a valid HEARTBEAT of another cluster
 *	bigterm		a vote request from node 99 at term 2^63
 * KIND, to the client port: prints the code of the node's reply
 *	badcmd		a request whose key-value command is malformed
 *	clientgarbage	random bytes (no reply expected; prints "none")
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "af_lamport.h"
#include "raft/wire.h"

static int fd;
static struct sockaddr_storage to;
static socklen_t to_len;

static void send_bytes(const void *buf, size_t len)
{
	if (sendto(fd, buf, len, 0, (struct sockaddr *)&to, to_len) < 0)
		perror("sendto");
}

static int open_lamport(const char *node, uint16_t port)
{
	struct sockaddr_lamport *a = (struct sockaddr_lamport *)&to;

	fd = lamport_socket(SOCK_DGRAM);
	if (fd < 0) {
		fprintf(stderr, "raft_poke: AF_LAMPORT: %s\n", lamport_af_strerror(-errno));
		return -1;
	}
	a->slam_family = (sa_family_t)lamport_af_family();
	a->slam_node = (uint32_t)strtoul(node, NULL, 0);
	a->slam_port = port;
	to_len = sizeof(*a);
	return 0;
}

static int open_udp(const char *addr, uint16_t port)
{
	struct sockaddr_in *a = (struct sockaddr_in *)&to;

	a->sin_family = AF_INET;
	a->sin_port = htons(port);
	if (inet_pton(AF_INET, addr, &a->sin_addr) != 1) {
		fprintf(stderr, "raft_poke: %s is not an IPv4 address\n", addr);
		return -1;
	}
	to_len = sizeof(*a);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		perror("socket");
	return fd < 0 ? -1 : 0;
}

static void garbage(void)
{
	uint8_t buf[1500];

	srand(7);
	for (int i = 0; i < 500; i++) {
		size_t len = (size_t)rand() % sizeof(buf);

		for (size_t j = 0; j < len; j++)
			buf[j] = (uint8_t)rand();
		/* Half of them start like a real message. */
		if (i % 2 && len >= 4) {
			buf[0] = 'L';
			buf[1] = 'R';
			buf[2] = WIRE_VERSION;
		}
		send_bytes(buf, len);
	}
}

static int encode(uint64_t cluster, const struct raft_msg *m, uint8_t *buf)
{
	struct wire_peer_hdr h = { .cluster = cluster, .stamp = 1 };

	return wire_peer_encode(&h, m, buf, WIRE_DGRAM_MAX);
}

static void truncated(uint64_t cluster, uint32_t dest)
{
	uint8_t data[8] = "abcdefg", buf[WIRE_DGRAM_MAX];
	struct raft_entry e = { .term = 1, .type = RAFT_ENTRY_COMMAND, .len = 8, .data = data };
	struct raft_msg m = {
		.type = RAFT_MSG_APPEND, .from = 99, .to = dest, .term = 1,
		.n_entries = 1, .entries = &e,
	};
	int len = encode(cluster, &m, buf);

	for (int cut = 0; cut < len; cut++)
		send_bytes(buf, (size_t)cut);
}

static void one(uint64_t cluster, uint32_t dest, uint8_t type, uint32_t from,
		uint64_t term)
{
	struct raft_msg m = { .type = type, .from = from, .to = dest, .term = term };
	uint8_t buf[WIRE_DGRAM_MAX];
	int len = encode(cluster, &m, buf);

	for (int i = 0; i < 20; i++)
		send_bytes(buf, (size_t)len);
}

static int client_reply(void)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	uint8_t buf[WIRE_DGRAM_MAX];
	struct wire_reply r;
	ssize_t n;

	if (poll(&p, 1, 2000) != 1) {
		printf("none\n");
		return 0;
	}
	n = recv(fd, buf, sizeof(buf), 0);
	if (n < 0 || wire_reply_decode(&r, buf, (size_t)n)) {
		printf("undecodable\n");
		return 1;
	}
	printf("%s: %.*s\n", wire_code_name(r.code), (int)r.len, (const char *)r.body);
	return 0;
}

static int bad_command(void)
{
	uint8_t cmd[5] = { 0x12, 0, 1, 2, 3 }, buf[64];
	struct wire_request rq = {
		.kind = WIRE_REQ_KV, .id = 42, .body = cmd, .len = sizeof(cmd),
	};
	int len = wire_request_encode(&rq, buf, sizeof(buf));

	send_bytes(buf, (size_t)len);
	return client_reply();
}

int main(int argc, char **argv)
{
	uint64_t cluster = argc > 4 ? strtoull(argv[4], NULL, 16) : 0;
	uint32_t dest = argc > 5 ? (uint32_t)strtoul(argv[5], NULL, 0) : 1;
	const char *kind;

	if (argc < 4) {
		fprintf(stderr, "usage: raft_poke ADDR PORT KIND [CLUSTER [TO]]\n");
		return 2;
	}
	kind = argv[3];
	if (!strncmp(argv[1], "lamport:", 8) ?
	    open_lamport(argv[1] + 8, (uint16_t)atoi(argv[2])) :
	    open_udp(argv[1], (uint16_t)atoi(argv[2])))
		return 2;
	if (!strcmp(kind, "garbage")) {
		garbage();
	} else if (!strcmp(kind, "truncated")) {
		truncated(cluster, dest);
	} else if (!strcmp(kind, "unknown")) {
		one(cluster, dest, RAFT_MSG_HEARTBEAT, 99, 1);
	} else if (!strcmp(kind, "foreign")) {
		one(cluster ^ 0x5a5a, dest, RAFT_MSG_HEARTBEAT, 2, 1);
	} else if (!strcmp(kind, "bigterm")) {
		one(cluster, dest, RAFT_MSG_VOTE, 99, 1ULL << 63);
	} else if (!strcmp(kind, "badcmd")) {
		return bad_command();
	} else if (!strcmp(kind, "clientgarbage")) {
		garbage();
		return client_reply();
	} else {
		fprintf(stderr, "raft_poke: unknown kind %s\n", kind);
		return 2;
	}
	return 0;
}
