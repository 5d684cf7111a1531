// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of af_lamport.c that need no module: the reading of the family
 * parameter, and what the errors say.
 */

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "../af_lamport.h"
#include "tap.h"

static const struct {
	const char *what;
	const char *text;
	int family;		/* or -EPROTO */
} parse_cases[] = {
	{ "as the kernel prints it",	"19\n",		19 },
	{ "without the newline",	"19",			19 },
	{ "another family",		"42\n",		42 },
	{ "the largest sa_family_t",	"65535\n",		65535 },
	{ "past sa_family_t",		"65536\n",		-EPROTO },
	{ "past any int",		"99999999999999999999\n", -EPROTO },
	{ "family 0",			"0\n",			-EPROTO },
	{ "empty",			"",			-EPROTO },
	{ "a newline alone",		"\n",			-EPROTO },
	{ "negative",			"-1\n",		-EPROTO },
	{ "a blank before",		" 19\n",		-EPROTO },
	{ "a blank after",		"19 \n",		-EPROTO },
	{ "two newlines",		"19\n\n",		-EPROTO },
	{ "hex",			"0x13\n",		-EPROTO },
	{ "a word",			"(null)\n",		-EPROTO },
};

static void test_parse(void)
{
	unsigned int i;
	int got;

	for (i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
		got = lamport_af_parse(parse_cases[i].text);
		if (!tap_ok(got == parse_cases[i].family,
			    "lamport_af_parse, %s: %d", parse_cases[i].what,
			    parse_cases[i].family))
			tap_diag("got %d", got);
	}
}

static void test_strerror(void)
{
	tap_ok(strstr(lamport_af_strerror(-ENOENT), "lamport.ko is not loaded") != NULL,
	       "-ENOENT: the module is not loaded");
	tap_ok(strstr(lamport_af_strerror(-EAFNOSUPPORT), "AF_LAMPORT is not registered") != NULL,
	       "-EAFNOSUPPORT: no AF_LAMPORT");
	tap_ok(strstr(lamport_af_strerror(-EPROTO), LAMPORT_FAMILY_PARAM) != NULL,
	       "-EPROTO: names the parameter");
	tap_ok(!strcmp(lamport_af_strerror(-EACCES), strerror(EACCES)),
	       "other errors: strerror()");
}

/* Whatever this machine has, the two agree and errors come with errno. */
static void test_family(void)
{
	int family = lamport_af_family();
	int fd;

	tap_ok(family > 0 || family == -ENOENT || family == -EAFNOSUPPORT ||
	       family == -EPROTO || family == -EACCES,
	       "lamport_af_family: a family or an explained error (%d)", family);
	if (family > 0) {
		tap_diag("lamport.ko is loaded, family %d", family);
		return;
	}
	errno = 0;
	fd = lamport_socket(SOCK_DGRAM);
	tap_ok(fd == -1 && errno == -family,
	       "lamport_socket: -1 and errno %d as lamport_af_family() says", -family);
}

int main(void)
{
	test_parse();
	test_strerror();
	test_family();
	return tap_done();
}
