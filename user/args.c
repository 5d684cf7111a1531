// SPDX-License-Identifier: GPL-2.0
/*
 * Command line helpers in the style of iproute2.
 */

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "args.h"

bool matches(const char *arg, const char *word)
{
	size_t len = strlen(arg);

	return len && len <= strlen(word) && !strncmp(arg, word, len);
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Hand-rolled rather than strtoul(), which skips blanks, accepts signs
 * (wrapping "-1" to the maximum) and treats a leading 0 as octal.
 */
static int parse_unsigned(const char *s, uint64_t max, uint64_t *out)
{
	unsigned int base = 10;
	bool overflow = false;
	uint64_t val = 0;
	int digit;

	if (!s)
		return -EINVAL;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	if (!*s)
		return -EINVAL;

	for (; *s; s++) {
		digit = hex_digit(*s);
		if (digit < 0 || (unsigned int)digit >= base)
			return -EINVAL;
		if (val > (max - digit) / base)
			overflow = true;
		else
			val = val * base + digit;
	}
	if (overflow)
		return -ERANGE;
	*out = val;
	return 0;
}

int parse_u32(const char *s, uint32_t *out)
{
	uint64_t val;
	int err;

	err = parse_unsigned(s, UINT32_MAX, &val);
	if (!err)
		*out = val;
	return err;
}

int parse_u64(const char *s, uint64_t *out)
{
	return parse_unsigned(s, UINT64_MAX, out);
}

int invarg(const char *msg, const char *arg)
{
	fprintf(stderr, "Error: argument \"%s\" is wrong: %s\n", arg, msg);
	return -1;
}

int needarg(const char *key)
{
	fprintf(stderr, "Error: argument \"%s\" needs a value\n", key);
	return -1;
}

int missarg(const char *key)
{
	fprintf(stderr, "Error: argument \"%s\" is required\n", key);
	return -1;
}

int duparg(const char *key, const char *arg)
{
	fprintf(stderr, "Error: duplicate \"%s\": \"%s\" is the second value.\n",
		key, arg);
	return -1;
}

int unknarg(const char *what, const char *arg, const char *help)
{
	fprintf(stderr, "Error: %s \"%s\" is unknown, try \"%s\".\n",
		what, arg, help);
	return -1;
}
