// SPDX-License-Identifier: GPL-2.0
/*
 * tcpgen: make exactly known TCP activity and report what was done, for the
 * tests of the TCP tracer (lamport trace), which compare its report with
 * this one.
 *
 *   tcpgen server [-6] [-a ADDR] -P PORT [-n N] [-r BYTES|-1] [-s BYTES]
 *                 [--drain] [--server-close] [--ready FILE]
 *   tcpgen client [-6] -a ADDR -P PORT [-n N] [-s BYTES] [-r BYTES]
 *                 [--server-close] [--expect ok|refused|timeout]
 *                 [--bind-port P] [--linger0]
 *   tcpgen bulk   [-6] -a ADDR -P PORT -s BYTES [--chunk BYTES]
 *   tcpgen hold   [-6] -a ADDR -P PORT -n N --seconds S
 *
 * Connections run one after another. The client writes, then reads; the
 * server reads, then writes, so no size can deadlock them. Who closes first
 * decides who gets TIME_WAIT: by default the client closes first; with
 * --server-close (give it to both sides) the server sends the first FIN
 * (shutdown(SHUT_WR)) and the client closes only after reading it. While the
 * server waits for the client's EOF, a reset counts as that EOF: it is how a
 * --linger0 client closes.
 *
 * Exit status: 0 when everything went as told, 1 on an I/O error or an
 * unexpected outcome (message on stderr), 2 on bad usage.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PROG		"tcpgen"
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define RECV_BUF_SIZE	65536
#define DEFAULT_CHUNK	65536
#define MAX_CHUNK	(1ULL << 30)
#define MAX_COUNT	1000000
#define MAX_SECONDS	(100ULL * 365 * 24 * 3600)

enum mode {
	MODE_SERVER	= 1 << 0,
	MODE_CLIENT	= 1 << 1,
	MODE_BULK	= 1 << 2,
	MODE_HOLD	= 1 << 3,
};

#define MODE_ALL	(MODE_SERVER | MODE_CLIENT | MODE_BULK | MODE_HOLD)

static const struct {
	enum mode mode;
	const char *name;
} modes[] = {
	{ MODE_SERVER, "server" },
	{ MODE_CLIENT, "client" },
	{ MODE_BULK, "bulk" },
	{ MODE_HOLD, "hold" },
};

/* What a connect() ended in; also what --expect asks for. */
enum outcome {
	OUTCOME_OK,
	OUTCOME_REFUSED,
	OUTCOME_TIMEOUT,
	OUTCOME_ERROR,
};

static const char *const outcome_names[] = {
	[OUTCOME_OK]		= "ok",
	[OUTCOME_REFUSED]	= "refused",
	[OUTCOME_TIMEOUT]	= "timeout",
	[OUTCOME_ERROR]		= "error",
};

/* Options without a short form. */
enum {
	OPT_DRAIN = 256,
	OPT_SERVER_CLOSE,
	OPT_READY,
	OPT_EXPECT,
	OPT_BIND_PORT,
	OPT_LINGER0,
	OPT_CHUNK,
	OPT_SECONDS,
};

static const char short_options[] = ":6a:P:n:s:r:h";

static const struct option long_options[] = {
	{ "ipv6",		no_argument,		NULL, '6' },
	{ "addr",		required_argument,	NULL, 'a' },
	{ "port",		required_argument,	NULL, 'P' },
	{ "count",		required_argument,	NULL, 'n' },
	{ "send",		required_argument,	NULL, 's' },
	{ "recv",		required_argument,	NULL, 'r' },
	{ "drain",		no_argument,		NULL, OPT_DRAIN },
	{ "server-close",	no_argument,		NULL, OPT_SERVER_CLOSE },
	{ "ready",		required_argument,	NULL, OPT_READY },
	{ "expect",		required_argument,	NULL, OPT_EXPECT },
	{ "bind-port",		required_argument,	NULL, OPT_BIND_PORT },
	{ "linger0",		no_argument,		NULL, OPT_LINGER0 },
	{ "chunk",		required_argument,	NULL, OPT_CHUNK },
	{ "seconds",		required_argument,	NULL, OPT_SECONDS },
	{ "help",		no_argument,		NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

struct config {
	enum mode mode;
	int family;
	const char *addr_text;
	struct sockaddr_storage addr;
	socklen_t addr_len;
	uint16_t port;
	uint64_t count;
	uint64_t send_bytes;
	uint64_t recv_bytes;
	bool drain;
	bool server_close;
	const char *ready_file;
	enum outcome expect;
	uint16_t bind_port;
	bool linger0;
	uint64_t chunk;
	uint64_t seconds;
	bool have_count;
	bool have_send;
	bool have_seconds;
};

/* What was done, for the closing line. */
struct totals {
	uint64_t conns;
	uint64_t ok;
	uint64_t sent;
	uint64_t received;
};

static char *send_buf;
static size_t send_buf_size;
static char recv_buf[RECV_BUF_SIZE];

static const char usage_text[] =
	"usage:\n"
	"  " PROG " server [-6] [-a ADDR] -P PORT [-n N] [-r BYTES|-1] [-s BYTES]\n"
	"                [--drain] [--server-close] [--ready FILE]\n"
	"  " PROG " client [-6] -a ADDR -P PORT [-n N] [-s BYTES] [-r BYTES]\n"
	"                [--server-close] [--expect ok|refused|timeout]\n"
	"                [--bind-port P] [--linger0]\n"
	"  " PROG " bulk   [-6] -a ADDR -P PORT -s BYTES [--chunk BYTES]\n"
	"  " PROG " hold   [-6] -a ADDR -P PORT -n N --seconds S\n"
	"long forms: -6 --ipv6, -a --addr, -P --port, -n --count, -s --send,\n"
	"            -r --recv (-r -1 is --drain: read until EOF)\n";

/* --- errors ------------------------------------------------------------- */

static void __attribute__((noreturn, format(printf, 1, 2)))
usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

/* Report a failure at run time; returns -1 for the caller to pass on. */
static int __attribute__((format(printf, 1, 2))) fail(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -1;
}

/* --- command line ------------------------------------------------------- */

static const char *option_name(int opt)
{
	static char name[32];
	const struct option *o;

	if (opt < 256) {
		snprintf(name, sizeof(name), "-%c", opt);
		return name;
	}
	for (o = long_options; o->name; o++) {
		if (o->val == opt) {
			snprintf(name, sizeof(name), "--%s", o->name);
			return name;
		}
	}
	return "?";
}

static const char *mode_name(enum mode mode)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(modes); i++)
		if (modes[i].mode == mode)
			return modes[i].name;
	return "?";
}

static enum mode parse_mode(const char *text)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(modes); i++)
		if (!strcmp(modes[i].name, text))
			return modes[i].mode;
	usage_error("unknown mode '%s' (server, client, bulk or hold)", text);
}

/* The modes an option belongs to. */
static unsigned int option_modes(int opt)
{
	switch (opt) {
	case 'n':
		return MODE_SERVER | MODE_CLIENT | MODE_HOLD;
	case 's':
		return MODE_SERVER | MODE_CLIENT | MODE_BULK;
	case 'r':
	case OPT_SERVER_CLOSE:
		return MODE_SERVER | MODE_CLIENT;
	case OPT_DRAIN:
	case OPT_READY:
		return MODE_SERVER;
	case OPT_EXPECT:
	case OPT_BIND_PORT:
	case OPT_LINGER0:
		return MODE_CLIENT;
	case OPT_CHUNK:
		return MODE_BULK;
	case OPT_SECONDS:
		return MODE_HOLD;
	default:
		return MODE_ALL;
	}
}

/* A decimal number in [min, max]: digits only, no sign, no suffix. */
static uint64_t parse_number(int opt, const char *text, uint64_t min,
			     uint64_t max)
{
	unsigned long long value;
	char *end;

	if (*text < '0' || *text > '9')
		usage_error("%s: '%s' is not a non-negative decimal number",
			    option_name(opt), text);
	errno = 0;
	value = strtoull(text, &end, 10);
	if (*end)
		usage_error("%s: '%s' is not a non-negative decimal number",
			    option_name(opt), text);
	if (errno == ERANGE || value < min || value > max)
		usage_error("%s: %s is out of range (%" PRIu64 " to %" PRIu64 ")",
			    option_name(opt), text, min, max);
	return value;
}

static void parse_recv(struct config *cfg, const char *text)
{
	if (!strcmp(text, "-1")) {
		if (cfg->mode != MODE_SERVER)
			usage_error("-r -1 (read until EOF) is for the server only");
		cfg->drain = true;
		return;
	}
	cfg->recv_bytes = parse_number('r', text, 0, UINT64_MAX);
	cfg->drain = false;
}

static enum outcome parse_expect(const char *text)
{
	enum outcome outcome;

	for (outcome = OUTCOME_OK; outcome < OUTCOME_ERROR; outcome++)
		if (!strcmp(outcome_names[outcome], text))
			return outcome;
	usage_error("--expect: '%s' is not ok, refused or timeout", text);
}

static void __attribute__((noreturn)) bad_option(char **argv)
{
	if (optopt > 0 && optopt < 256)
		usage_error("unknown option '-%c'", optopt);
	if (optopt >= 256)
		usage_error("option '%s' takes no value", argv[optind - 1]);
	usage_error("unknown or ambiguous option '%s'", argv[optind - 1]);
}

static void apply_option(struct config *cfg, int opt, const char *arg)
{
	switch (opt) {
	case '6':
		cfg->family = AF_INET6;
		break;
	case 'a':
		cfg->addr_text = arg;
		break;
	case 'P':
		cfg->port = parse_number(opt, arg, 1, 65535);
		break;
	case 'n':
		cfg->count = parse_number(opt, arg, 1, MAX_COUNT);
		cfg->have_count = true;
		break;
	case 's':
		cfg->send_bytes = parse_number(opt, arg, 0, UINT64_MAX);
		cfg->have_send = true;
		break;
	case 'r':
		parse_recv(cfg, arg);
		break;
	case OPT_DRAIN:
		cfg->drain = true;
		break;
	case OPT_SERVER_CLOSE:
		cfg->server_close = true;
		break;
	case OPT_READY:
		cfg->ready_file = arg;
		break;
	case OPT_EXPECT:
		cfg->expect = parse_expect(arg);
		break;
	case OPT_BIND_PORT:
		cfg->bind_port = parse_number(opt, arg, 1, 65535);
		break;
	case OPT_LINGER0:
		cfg->linger0 = true;
		break;
	case OPT_CHUNK:
		cfg->chunk = parse_number(opt, arg, 1, MAX_CHUNK);
		break;
	case OPT_SECONDS:
		cfg->seconds = parse_number(opt, arg, 0, MAX_SECONDS);
		cfg->have_seconds = true;
		break;
	}
}

static void handle_option(struct config *cfg, int opt, char **argv)
{
	switch (opt) {
	case '?':
		bad_option(argv);
	case ':':
		usage_error("option %s needs a value", option_name(optopt));
	case 'h':
		fputs(usage_text, stdout);
		exit(0);
	}
	if (!(option_modes(opt) & cfg->mode))
		usage_error("option %s is not for %s", option_name(opt),
			    mode_name(cfg->mode));
	apply_option(cfg, opt, optarg);
}

static void check_required(const struct config *cfg)
{
	if (!cfg->port)
		usage_error("%s needs -P PORT", mode_name(cfg->mode));
	if (cfg->mode != MODE_SERVER && !cfg->addr_text)
		usage_error("%s needs -a ADDR", mode_name(cfg->mode));
	if (cfg->mode == MODE_BULK && !cfg->have_send)
		usage_error("bulk needs -s BYTES");
	if (cfg->mode == MODE_HOLD && !cfg->have_count)
		usage_error("hold needs -n N");
	if (cfg->mode == MODE_HOLD && !cfg->have_seconds)
		usage_error("hold needs --seconds S");
}

/* Fill in a socket address of cfg's family; ip NULL is the wildcard. */
static socklen_t make_sockaddr(int family, const char *ip, uint16_t port,
			       struct sockaddr_storage *ss)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET6) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		if (ip && inet_pton(AF_INET6, ip, &sin6->sin6_addr) != 1)
			return 0;
		return sizeof(*sin6);
	}
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	if (ip && inet_pton(AF_INET, ip, &sin->sin_addr) != 1)
		return 0;
	return sizeof(*sin);
}

static void resolve_address(struct config *cfg)
{
	bool v6 = cfg->family == AF_INET6;

	if (!cfg->addr_text)
		cfg->addr_text = v6 ? "::" : "0.0.0.0";
	cfg->addr_len = make_sockaddr(cfg->family, cfg->addr_text, cfg->port,
				      &cfg->addr);
	if (!cfg->addr_len)
		usage_error("-a: '%s' is not an IPv%c address%s", cfg->addr_text,
			    v6 ? '6' : '4',
			    !v6 && strchr(cfg->addr_text, ':') ?
			    " (add -6 for IPv6)" : "");
}

static void parse_args(int argc, char **argv, struct config *cfg)
{
	int opt;

	if (argc < 2)
		usage_error("missing mode: server, client, bulk or hold (or --help)");
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		fputs(usage_text, stdout);
		exit(0);
	}
	memset(cfg, 0, sizeof(*cfg));
	cfg->mode = parse_mode(argv[1]);
	cfg->family = AF_INET;
	cfg->count = 1;
	cfg->expect = OUTCOME_OK;
	cfg->chunk = DEFAULT_CHUNK;

	/* Options follow the mode: parse argv[1..] as if the mode were argv[0]. */
	argc--;
	argv++;
	opterr = 0;
	optind = 1;
	while ((opt = getopt_long(argc, argv, short_options, long_options,
				  NULL)) != -1)
		handle_option(cfg, opt, argv);
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	check_required(cfg);
	resolve_address(cfg);
}

/* --- I/O ---------------------------------------------------------------- */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int alloc_send_buf(size_t size)
{
	size_t i;

	send_buf = malloc(size);
	if (!send_buf)
		return fail("cannot allocate a %zu byte buffer", size);
	for (i = 0; i < size; i++)
		send_buf[i] = 'a' + i % 26;
	send_buf_size = size;
	return 0;
}

/* Write total bytes, at most send_buf_size per send(). */
static int send_all(int fd, uint64_t total, uint64_t *sent, const char *who)
{
	uint64_t left = total;
	ssize_t ret;

	while (left) {
		ret = send(fd, send_buf, left < send_buf_size ? left : send_buf_size,
			   MSG_NOSIGNAL);
		if (ret < 0 && errno == EINTR)
			continue;
		if (ret < 0)
			return fail("%s: send: %s (sent %" PRIu64 " of %" PRIu64 " bytes)",
				    who, strerror(errno), total - left, total);
		left -= ret;
		*sent += ret;
	}
	return 0;
}

/* Read exactly total bytes: an EOF before them is an error. */
static int recv_exact(int fd, uint64_t total, uint64_t *received,
		      const char *who)
{
	uint64_t left = total;
	ssize_t ret;

	while (left) {
		ret = recv(fd, recv_buf, left < RECV_BUF_SIZE ? left : RECV_BUF_SIZE, 0);
		if (ret < 0 && errno == EINTR)
			continue;
		if (ret < 0)
			return fail("%s: recv: %s (received %" PRIu64 " of %" PRIu64 " bytes)",
				    who, strerror(errno), total - left, total);
		if (!ret)
			return fail("%s: EOF after %" PRIu64 " of %" PRIu64 " bytes",
				    who, total - left, total);
		left -= ret;
		*received += ret;
	}
	return 0;
}

static int recv_until_eof(int fd, uint64_t *received, const char *who)
{
	ssize_t ret;

	for (;;) {
		ret = recv(fd, recv_buf, RECV_BUF_SIZE, 0);
		if (!ret)
			return 0;
		if (ret > 0)
			*received += ret;
		else if (errno != EINTR)
			return fail("%s: recv: %s", who, strerror(errno));
	}
}

/*
 * The peer has sent all it was to send: the next read must be its EOF.
 * reset_is_eof takes a reset for it too (a --linger0 client's close).
 */
static int wait_for_eof(int fd, bool reset_is_eof, const char *who)
{
	ssize_t ret;
	char byte;

	do
		ret = recv(fd, &byte, 1, 0);
	while (ret < 0 && errno == EINTR);
	if (!ret || (ret < 0 && errno == ECONNRESET && reset_is_eof))
		return 0;
	if (ret > 0)
		return fail("%s: more data where EOF was expected", who);
	return fail("%s: recv while waiting for EOF: %s", who, strerror(errno));
}

/* A signal broke into a blocking connect: the handshake goes on; await it. */
static int finish_connect(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	socklen_t len = sizeof(int);
	int err;

	while (poll(&pfd, 1, -1) < 0)
		if (errno != EINTR)
			return errno;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len))
		return errno;
	return err;
}

/* Blocking connect to cfg's address: 0 or the errno it failed with. */
static int connect_timed(int fd, const struct config *cfg, uint64_t *usec)
{
	uint64_t start = now_ns();
	int err = 0;

	if (connect(fd, (const struct sockaddr *)&cfg->addr, cfg->addr_len))
		err = errno == EINTR ? finish_connect(fd) : errno;
	*usec = (now_ns() - start) / 1000;
	return err;
}

static int tcp_socket(const struct config *cfg, const char *who)
{
	int fd = socket(cfg->family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return fail("%s: socket: %s", who, strerror(errno));
	return fd;
}

static int set_option(int fd, int level, int name, int value, const char *who)
{
	if (setsockopt(fd, level, name, &value, sizeof(value)))
		return fail("%s: setsockopt: %s", who, strerror(errno));
	return 0;
}

/* --- server ------------------------------------------------------------- */

static int open_listener(const struct config *cfg)
{
	int fd = tcp_socket(cfg, "server");

	if (fd < 0)
		return -1;
	if (set_option(fd, SOL_SOCKET, SO_REUSEADDR, 1, "server") ||
	    (cfg->family == AF_INET6 &&
	     set_option(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1, "server")))
		goto err;
	if (bind(fd, (const struct sockaddr *)&cfg->addr, cfg->addr_len)) {
		fail("server: bind to %s port %u: %s", cfg->addr_text, cfg->port,
		     strerror(errno));
		goto err;
	}
	if (listen(fd, SOMAXCONN)) {
		fail("server: listen: %s", strerror(errno));
		goto err;
	}
	return fd;
err:
	close(fd);
	return -1;
}

static int create_ready_file(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0)
		return fail("server: --ready %s: %s", path, strerror(errno));
	close(fd);
	return 0;
}

static int serve_conn(const struct config *cfg, int fd, struct totals *t,
		      const char *who)
{
	int ret;

	if (cfg->drain)
		ret = recv_until_eof(fd, &t->received, who);
	else
		ret = recv_exact(fd, cfg->recv_bytes, &t->received, who);
	if (!ret)
		ret = send_all(fd, cfg->send_bytes, &t->sent, who);
	if (!ret && cfg->server_close && shutdown(fd, SHUT_WR))
		ret = fail("%s: shutdown: %s", who, strerror(errno));
	if (!ret)
		ret = wait_for_eof(fd, true, who);
	return ret;
}

static int serve_next(const struct config *cfg, int listener, struct totals *t)
{
	char who[48];
	int fd, ret;

	snprintf(who, sizeof(who), "server conn %" PRIu64, t->conns + 1);
	do
		fd = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
	while (fd < 0 && errno == EINTR);
	if (fd < 0)
		return fail("%s: accept: %s", who, strerror(errno));
	t->conns++;
	ret = serve_conn(cfg, fd, t, who);
	close(fd);
	return ret;
}

static int run_server(const struct config *cfg)
{
	struct totals t = { 0 };
	int listener, ret = 0;

	listener = open_listener(cfg);
	if (listener < 0)
		return 1;
	if (cfg->ready_file)
		ret = create_ready_file(cfg->ready_file);
	while (!ret && t.conns < cfg->count)
		ret = serve_next(cfg, listener, &t);
	close(listener);
	printf("server accepted=%" PRIu64 " received=%" PRIu64 " sent=%" PRIu64 "\n",
	       t.conns, t.received, t.sent);
	return ret ? 1 : 0;
}

/* --- client ------------------------------------------------------------- */

/*
 * Bind to the wildcard address and port (0: any), so that the local port
 * is known before connect, even when the connect fails.
 */
static int bind_local(int fd, const struct config *cfg, uint16_t port,
		      uint16_t *sport, const char *who)
{
	struct sockaddr_storage ss;
	socklen_t len = make_sockaddr(cfg->family, NULL, port, &ss);

	if (port && set_option(fd, SOL_SOCKET, SO_REUSEADDR, 1, who))
		return -1;
	if (bind(fd, (struct sockaddr *)&ss, len))
		return fail("%s: bind to port %u: %s", who, port, strerror(errno));
	len = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &len))
		return fail("%s: getsockname: %s", who, strerror(errno));
	if (ss.ss_family == AF_INET6)
		*sport = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	else
		*sport = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return 0;
}

static enum outcome outcome_of(int err)
{
	switch (err) {
	case 0:
		return OUTCOME_OK;
	case ECONNREFUSED:
		return OUTCOME_REFUSED;
	case ETIMEDOUT:
		return OUTCOME_TIMEOUT;
	default:
		return OUTCOME_ERROR;
	}
}

static int check_outcome(enum outcome expect, int err, const char *who)
{
	static const char *const said[] = {
		[OUTCOME_OK]		= "connect succeeded",
		[OUTCOME_REFUSED]	= "connect refused (ECONNREFUSED)",
		[OUTCOME_TIMEOUT]	= "connect timed out (ETIMEDOUT)",
	};
	enum outcome outcome = outcome_of(err);

	if (outcome == OUTCOME_ERROR)
		return fail("%s: connect: %s, expected %s", who, strerror(err),
			    outcome_names[expect]);
	if (outcome != expect)
		return fail("%s: %s, expected %s", who, said[outcome],
			    outcome_names[expect]);
	return 0;
}

static int client_exchange(const struct config *cfg, int fd, struct totals *t,
			   const char *who)
{
	static const struct linger abort_on_close = { .l_onoff = 1, .l_linger = 0 };

	if (send_all(fd, cfg->send_bytes, &t->sent, who) ||
	    recv_exact(fd, cfg->recv_bytes, &t->received, who))
		return -1;
	if (cfg->server_close && wait_for_eof(fd, false, who))
		return -1;
	if (cfg->linger0 && setsockopt(fd, SOL_SOCKET, SO_LINGER,
				       &abort_on_close, sizeof(abort_on_close)))
		return fail("%s: SO_LINGER: %s", who, strerror(errno));
	return 0;
}

static int client_conn(const struct config *cfg, struct totals *t)
{
	uint64_t index = t->conns + 1, connect_us;
	uint16_t sport = 0;
	char who[48];
	int fd, err, ret;

	snprintf(who, sizeof(who), "client conn %" PRIu64, index);
	fd = tcp_socket(cfg, who);
	if (fd < 0)
		return -1;
	if (bind_local(fd, cfg, cfg->bind_port, &sport, who)) {
		close(fd);
		return -1;
	}
	t->conns++;
	err = connect_timed(fd, cfg, &connect_us);
	printf("conn %" PRIu64 " sport=%u result=%s connect_us=%" PRIu64 "\n",
	       index, sport, outcome_names[outcome_of(err)], connect_us);
	ret = check_outcome(cfg->expect, err, who);
	if (!err) {
		t->ok++;
		if (!ret)
			ret = client_exchange(cfg, fd, t, who);
	}
	close(fd);
	return ret;
}

static int run_client(const struct config *cfg)
{
	struct totals t = { 0 };
	int ret = 0;

	while (!ret && t.conns < cfg->count)
		ret = client_conn(cfg, &t);
	printf("client connections=%" PRIu64 " ok=%" PRIu64 " sent=%" PRIu64
	       " received=%" PRIu64 "\n", t.conns, t.ok, t.sent, t.received);
	return ret ? 1 : 0;
}

/* --- bulk --------------------------------------------------------------- */

static int bulk_transfer(int fd, const struct config *cfg, uint64_t *sent)
{
	uint64_t received = 0;

	if (send_all(fd, cfg->send_bytes, sent, "bulk"))
		return -1;
	if (shutdown(fd, SHUT_WR))
		return fail("bulk: shutdown: %s", strerror(errno));
	return recv_until_eof(fd, &received, "bulk");
}

static int run_bulk(const struct config *cfg)
{
	uint64_t sent = 0, start, connect_us;
	int fd, err, ret;

	fd = tcp_socket(cfg, "bulk");
	if (fd < 0)
		return 1;
	err = connect_timed(fd, cfg, &connect_us);
	if (err) {
		close(fd);
		fail("bulk: connect: %s", strerror(err));
		return 1;
	}
	start = now_ns();
	ret = bulk_transfer(fd, cfg, &sent);
	close(fd);
	if (ret)
		return 1;
	printf("bulk sent=%" PRIu64 " seconds=%.3f\n", sent,
	       (now_ns() - start) / 1e9);
	return 0;
}

/* --- hold --------------------------------------------------------------- */

/* Room for count sockets, if the hard limit allows it. */
static void raise_fd_limit(uint64_t count)
{
	struct rlimit lim;
	rlim_t need = count + 16;

	if (getrlimit(RLIMIT_NOFILE, &lim) || lim.rlim_cur >= need)
		return;
	lim.rlim_cur = lim.rlim_max < need ? lim.rlim_max : need;
	setrlimit(RLIMIT_NOFILE, &lim);
}

static int hold_open(const struct config *cfg, uint64_t index)
{
	uint64_t connect_us;
	char who[48];
	int fd, err;

	snprintf(who, sizeof(who), "hold conn %" PRIu64, index);
	fd = tcp_socket(cfg, who);
	if (fd < 0)
		return -1;
	err = connect_timed(fd, cfg, &connect_us);
	if (err) {
		close(fd);
		return fail("%s: connect: %s", who, strerror(err));
	}
	return fd;
}

static void sleep_seconds(uint64_t seconds)
{
	struct timespec left = { .tv_sec = seconds };

	while (nanosleep(&left, &left) && errno == EINTR)
		;
}

static int run_hold(const struct config *cfg)
{
	uint64_t opened = 0, i;
	int *fds, ret = 0;

	raise_fd_limit(cfg->count);
	fds = calloc(cfg->count, sizeof(*fds));
	if (!fds) {
		fail("hold: cannot allocate %" PRIu64 " descriptors", cfg->count);
		return 1;
	}
	while (!ret && opened < cfg->count) {
		fds[opened] = hold_open(cfg, opened + 1);
		if (fds[opened] < 0)
			ret = -1;
		else
			opened++;
	}
	if (!ret) {
		printf("hold opened=%" PRIu64 "\n", opened);
		fflush(stdout);
		sleep_seconds(cfg->seconds);
	}
	for (i = 0; i < opened; i++)
		close(fds[i]);
	free(fds);
	return ret ? 1 : 0;
}

/* --- main --------------------------------------------------------------- */

static int run(const struct config *cfg)
{
	switch (cfg->mode) {
	case MODE_SERVER:
		return run_server(cfg);
	case MODE_CLIENT:
		return run_client(cfg);
	case MODE_BULK:
		return run_bulk(cfg);
	case MODE_HOLD:
		return run_hold(cfg);
	}
	return 2;
}

int main(int argc, char **argv)
{
	struct config cfg;
	int ret;

	parse_args(argc, argv, &cfg);
	/* Line by line, so that a script reading a pipe sees each at once. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (alloc_send_buf(cfg.chunk))
		return 1;
	ret = run(&cfg);
	if (fflush(stdout) && !ret) {
		fail("stdout: %s", strerror(errno));
		ret = 1;
	}
	free(send_buf);
	return ret;
}
