// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of args.c: prefix matching, number parsing, error wording.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../args.h"
#include "tap.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

struct u32_case {
	const char *in;
	int err;
	uint32_t val;
};

static const struct u32_case u32_cases[] = {
	{ "0",			0,	0 },
	{ "1",			0,	1 },
	{ "007",		0,	7 },	/* decimal, not octal */
	{ "4294967295",		0,	UINT32_MAX },
	{ "0x10",		0,	16 },
	{ "0X1f",		0,	31 },
	{ "0xffffffff",		0,	UINT32_MAX },
	{ "0x00000000000000001", 0,	1 },
	{ "4294967296",		-ERANGE, 0 },
	{ "99999999999999999999999", -ERANGE, 0 },
	{ "0x100000000",	-ERANGE, 0 },
	{ "",			-EINVAL, 0 },
	{ "-1",			-EINVAL, 0 },
	{ "+1",			-EINVAL, 0 },
	{ " 1",			-EINVAL, 0 },
	{ "1 ",			-EINVAL, 0 },
	{ "12x",		-EINVAL, 0 },
	{ "0x",			-EINVAL, 0 },
	{ "0xg",		-EINVAL, 0 },
	{ "x10",		-EINVAL, 0 },
	{ "1a",			-EINVAL, 0 },
	{ "99999999999999999999x", -EINVAL, 0 },	/* junk beats overflow */
};

struct match_case {
	const char *arg;
	const char *word;
	bool match;
};

static const struct match_case match_cases[] = {
	{ "show",	"show",	true },
	{ "sh",		"show",	true },
	{ "s",		"show",	true },
	{ "",		"show",	false },
	{ "shows",	"show",	false },
	{ "shx",	"show",	false },
	{ "Show",	"show",	false },
	{ "x",		"show",	false },
	{ "-j",		"-json", true },
};

static void test_parse_u32(void)
{
	const struct u32_case *c;
	uint32_t val;
	int err;

	for (c = u32_cases; c < u32_cases + ARRAY_SIZE(u32_cases); c++) {
		val = 0xdeadbeef;
		err = parse_u32(c->in, &val);
		if (c->err)
			tap_ok(err == c->err && val == 0xdeadbeef,
			       "parse_u32(\"%s\") fails with %d, leaving *out (got %d)",
			       c->in, c->err, err);
		else
			tap_ok(!err && val == c->val,
			       "parse_u32(\"%s\") = %" PRIu32 " (got %d, %" PRIu32 ")",
			       c->in, c->val, err, val);
	}
	tap_ok(parse_u32(NULL, &val) == -EINVAL, "parse_u32(NULL) fails");
}

static void test_parse_u64(void)
{
	uint64_t val = 0;

	tap_ok(!parse_u64("18446744073709551615", &val) && val == UINT64_MAX,
	       "parse_u64 takes UINT64_MAX");
	tap_ok(!parse_u64("0xffffffffffffffff", &val) && val == UINT64_MAX,
	       "parse_u64 takes 0xffffffffffffffff");
	tap_ok(parse_u64("18446744073709551616", &val) == -ERANGE,
	       "parse_u64 rejects UINT64_MAX + 1");
	tap_ok(parse_u64("0x10000000000000000", &val) == -ERANGE,
	       "parse_u64 rejects 0x10000000000000000");
}

static void test_matches(void)
{
	const struct match_case *c;

	for (c = match_cases; c < match_cases + ARRAY_SIZE(match_cases); c++)
		tap_ok(matches(c->arg, c->word) == c->match,
		       "matches(\"%s\", \"%s\") is %s",
		       c->arg, c->word, c->match ? "true" : "false");
}

/* Runs print with stderr sent to a buffer; returns its return value. */
static int capture_stderr(int (*print)(void), char *out, size_t size)
{
	FILE *tmp = tmpfile();
	int saved, ret;
	size_t len;

	out[0] = '\0';
	if (!tmp)
		return 0;
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	dup2(fileno(tmp), STDERR_FILENO);
	ret = print();
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);

	rewind(tmp);
	len = fread(out, 1, size - 1, tmp);
	out[len] = '\0';
	fclose(tmp);
	return ret;
}

static int print_invarg(void)
{
	return invarg("node id is not a number", "12x");
}

static int print_needarg(void)
{
	return needarg("id");
}

static int print_missarg(void)
{
	return missarg("id");
}

static int print_duparg(void)
{
	return duparg("id", "2");
}

static int print_unknarg(void)
{
	return unknarg("command", "frob", "lamport node help");
}

struct printer_case {
	int (*print)(void);
	const char *text;
};

static const struct printer_case printer_cases[] = {
	{ print_invarg, "Error: argument \"12x\" is wrong: node id is not a number\n" },
	{ print_needarg, "Error: argument \"id\" needs a value\n" },
	{ print_missarg, "Error: argument \"id\" is required\n" },
	{ print_duparg, "Error: duplicate \"id\": \"2\" is the second value.\n" },
	{ print_unknarg, "Error: command \"frob\" is unknown, try \"lamport node help\".\n" },
};

static void test_printers(void)
{
	const struct printer_case *c;
	char text[256];
	int ret;

	for (c = printer_cases; c < printer_cases + ARRAY_SIZE(printer_cases); c++) {
		ret = capture_stderr(c->print, text, sizeof(text));
		if (!tap_ok(ret == -1 && !strcmp(text, c->text),
			    "prints %.*s", (int)strlen(c->text) - 1, c->text))
			tap_diag("got %d, \"%s\"", ret, text);
	}
}

int main(void)
{
	test_parse_u32();
	test_parse_u64();
	test_matches();
	test_printers();
	return tap_done();
}
