/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Finding AF_LAMPORT: lamport.ko registers the family on a number it
 * publishes in LAMPORT_FAMILY_PARAM, so programs read it rather than
 * assume AF_LAMPORT_DEFAULT.  libc only: the lamport command, the
 * selftests and the examples build af_lamport.c as it is.
 *
 *	int fd = lamport_socket(SOCK_DGRAM);
 *
 *	if (fd < 0)
 *		fprintf(stderr, "AF_LAMPORT: %s\n", lamport_af_strerror(-errno));
 */
#ifndef LAMPORT_USER_AF_LAMPORT_H
#define LAMPORT_USER_AF_LAMPORT_H

/* struct sockaddr_lamport, SOL_LAMPORT and the rest of the socket API. */
#include <linux/lamport.h>

/*
 * The family number lamport.ko registered, or a negative errno:
 *   -ENOENT        lamport.ko is not loaded
 *   -EAFNOSUPPORT  the lamport.ko loaded has no AF_LAMPORT (no parameter)
 *   -EPROTO        the parameter does not hold a family number
 * or the error of reading the parameter.  Read anew on every call: a
 * module loaded again may have another number.
 */
int lamport_af_family(void);

/*
 * The family number in text as LAMPORT_FAMILY_PARAM holds it ("19\n"):
 * 1..65535, or -EPROTO.  Used by lamport_af_family().
 */
int lamport_af_parse(const char *text);

/*
 * socket(AF_LAMPORT, type, 0), type possibly or'ed with SOCK_NONBLOCK and
 * SOCK_CLOEXEC: the descriptor, or -1 with errno set, to what
 * lamport_af_family() returned when the family is not known.
 */
int lamport_socket(int type);

/*
 * What a negative lamport_af_family() means, in words; for any other
 * -errno (of lamport_socket(), say) strerror(errno).
 */
const char *lamport_af_strerror(int err);

#endif /* LAMPORT_USER_AF_LAMPORT_H */
