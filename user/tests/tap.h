/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Minimal TAP producer for the host unit tests: one "ok N - what" line per
 * check, the plan at the end, and an exit status telling if any failed.
 */
#ifndef LAMPORT_TAP_H
#define LAMPORT_TAP_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

struct tap_state {
	int count;
	int failed;
};

static struct tap_state tap;

__attribute__((format(printf, 2, 3)))
static inline bool tap_ok(bool pass, const char *fmt, ...)
{
	va_list ap;

	tap.count++;
	if (!pass)
		tap.failed++;
	printf("%sok %d - ", pass ? "" : "not ", tap.count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	return pass;
}

__attribute__((format(printf, 1, 2)))
static inline void tap_diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/* Prints the plan; the result is main()'s exit status. */
static inline int tap_done(void)
{
	printf("1..%d\n", tap.count);
	fflush(stdout);
	return tap.failed ? 1 : 0;
}

#endif /* LAMPORT_TAP_H */
