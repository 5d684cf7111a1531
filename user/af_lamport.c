// SPDX-License-Identifier: GPL-2.0
/*
 * Finding AF_LAMPORT.  Kept to libc: the selftests and the examples build
 * this file on its own.
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/lamport.h>

#include "af_lamport.h"

#define LAMPORT_MODULE_DIR	"/sys/module/lamport"

int lamport_af_parse(const char *text)
{
	int family = 0;
	const char *p;

	for (p = text; *p >= '0' && *p <= '9'; p++) {
		family = family * 10 + (*p - '0');
		if (family > 65535)	/* sa_family_t */
			return -EPROTO;
	}
	if (p == text || family == 0)
		return -EPROTO;
	if (*p == '\n')
		p++;
	return *p ? -EPROTO : family;
}

/* The parameter missing: no module, or one without AF_LAMPORT. */
static int lamport_af_missing(void)
{
	return access(LAMPORT_MODULE_DIR, F_OK) ? -ENOENT : -EAFNOSUPPORT;
}

int lamport_af_family(void)
{
	char text[16];
	ssize_t len;
	int fd, err;

	fd = open(LAMPORT_FAMILY_PARAM, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? lamport_af_missing() : -errno;
	len = read(fd, text, sizeof(text) - 1);
	err = errno;
	close(fd);
	if (len < 0)
		return -err;
	text[len] = '\0';
	return lamport_af_parse(text);
}

int lamport_socket(int type)
{
	int family = lamport_af_family();

	if (family < 0) {
		errno = -family;
		return -1;
	}
	return socket(family, type, 0);
}

const char *lamport_af_strerror(int err)
{
	switch (err) {
	case -ENOENT:
		return "lamport.ko is not loaded (no " LAMPORT_FAMILY_PARAM ")";
	case -EAFNOSUPPORT:
		return "AF_LAMPORT is not registered (a lamport.ko without it?)";
	case -EPROTO:
		return LAMPORT_FAMILY_PARAM " holds no family number";
	}
	return strerror(-err);
}
