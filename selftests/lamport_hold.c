// SPDX-License-Identifier: GPL-2.0
/*
 * lamport_hold TYPE: open an AF_LAMPORT socket of TYPE (dgram or rdm), bind
 * it to any port, say "ready" and hold it until killed. The shell tests use
 * it to unload the module and delete a netns while a socket is open.
 */

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "af_lamport.h"

int main(int argc, char **argv)
{
	struct sockaddr_lamport addr;
	int family, type, fd;

	if (argc != 2 || (strcmp(argv[1], "dgram") && strcmp(argv[1], "rdm"))) {
		fprintf(stderr, "usage: lamport_hold dgram|rdm\n");
		return 2;
	}
	type = strcmp(argv[1], "rdm") ? SOCK_DGRAM : SOCK_RDM;
	family = lamport_af_family();
	if (family < 0) {
		fprintf(stderr, "lamport_hold: %s\n", lamport_af_strerror(family));
		return 1;
	}
	fd = socket(family, type, 0);
	if (fd < 0) {
		perror("lamport_hold: socket");
		return 1;
	}
	memset(&addr, 0, sizeof(addr));
	addr.slam_family = (sa_family_t)family;
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr))) {
		perror("lamport_hold: bind");
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	for (;;)
		pause();
}
