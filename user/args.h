/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Command line helpers in the style of iproute2.  The error printers write
 * one line to stderr and return -1, so that parsers can "return invarg(...)".
 */
#ifndef LAMPORT_USER_ARGS_H
#define LAMPORT_USER_ARGS_H

#include <stdbool.h>
#include <stdint.h>

/* True when arg is a non-empty prefix of word: "sh" matches "show". */
bool matches(const char *arg, const char *word);

/*
 * Parses a whole string as an unsigned number, decimal or 0x-prefixed hex
 * (leading zeros stay decimal, not octal).  No sign, blank or trailing
 * character is allowed.  Returns 0, -EINVAL or -ERANGE; *out is only
 * written on success.
 */
int parse_u32(const char *s, uint32_t *out);
int parse_u64(const char *s, uint64_t *out);

/* Error: argument "<arg>" is wrong: <msg> */
int invarg(const char *msg, const char *arg);
/* Error: argument "<key>" needs a value */
int needarg(const char *key);
/* Error: argument "<key>" is required */
int missarg(const char *key);
/* Error: duplicate "<key>": "<arg>" is the second value. */
int duparg(const char *key, const char *arg);
/* Error: <what> "<arg>" is unknown, try "<help>". */
int unknarg(const char *what, const char *arg, const char *help);

#endif /* LAMPORT_USER_ARGS_H */
