// SPDX-License-Identifier: GPL-2.0
/*
 * raft/storage.c and raft/crc32c.c: CRC-32C against known vectors and a
 * bitwise reference; the log and meta round trip, segment rolling,
 * truncation, torn tails cut off, corruption and foreign directories
 * refused with untouched files, a full disk (a 64 KiB tmpfs, mounted in a
 * mount namespace of our own) and failing fdatasyncs.  Scratch directories
 * live under /tmp and are removed at the end.
 *
 * fdatasync() is defined here, over the libc one, so that a test can make
 * the next call fail: a full disk shows there only on filesystems that
 * allocate at writeback, which tmpfs does not.
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "tap.h"
#include "raft/crc32c.h"
#include "raft/storage.h"

#define CLUSTER		0xc0ffee0123456789ull
#define NODE		2
#define MAXN		4096
#define VARLEN		UINT32_MAX	/* data length varying with the index */
#define REC(len)	(25 + (len))	/* bytes of a record with len of data */
#define SMALL_SEG	4096
#define PATH_LEN	512
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

static char base[64];

/* errno the next fdatasync() fails with, 0 for none. */
static int fdatasync_errno;

int fdatasync(int fd)
{
	if (fdatasync_errno) {
		errno = fdatasync_errno;
		fdatasync_errno = 0;
		return -1;
	}
	return syscall(SYS_fdatasync, fd);
}

/* ---- crc32c ---- */

static uint32_t crc32c_bitwise(const uint8_t *p, size_t len)
{
	uint32_t crc = ~0u;
	int k;

	while (len--) {
		crc ^= *p++;
		for (k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (crc & 1 ? 0x82F63B78u : 0);
	}
	return ~crc;
}

static void test_crc32c(void)
{
	uint8_t buf[300], zero[32] = { 0 }, ones[32], inc[32], dec[32];
	bool split_ok = true, ref_ok = true;
	size_t i, j;

	for (i = 0; i < 32; i++) {
		ones[i] = 0xff;
		inc[i] = i;
		dec[i] = 31 - i;
	}
	tap_ok(crc32c(0, "123456789", 9) == 0xE3069283,
	       "crc32c(\"123456789\") = 0xE3069283");
	tap_ok(crc32c(0, "", 0) == 0, "crc32c of nothing is 0");
	/* RFC 3720, B.4 */
	tap_ok(crc32c(0, zero, 32) == 0x8A9136AA, "crc32c of 32 zeros");
	tap_ok(crc32c(0, ones, 32) == 0x62A8AB43, "crc32c of 32 0xff");
	tap_ok(crc32c(0, inc, 32) == 0x46DD794E, "crc32c of 0..31");
	tap_ok(crc32c(0, dec, 32) == 0x113FDB5C, "crc32c of 31..0");

	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 167 + 13);
	for (i = 0; i < 40; i++)
		for (j = i; j < sizeof(buf); j += 37)
			if (crc32c(0, buf + i, j - i) !=
			    crc32c_bitwise(buf + i, j - i))
				ref_ok = false;
	for (i = 0; i <= sizeof(buf); i++)
		if (crc32c(crc32c(0, buf, i), buf + i, sizeof(buf) - i) !=
		    crc32c(0, buf, sizeof(buf)))
			split_ok = false;
	tap_ok(ref_ok, "slicing by 8 = bitwise, any start and length");
	tap_ok(split_ok, "incremental: crc of a then b = crc of ab, any split");
}

/* ---- scratch files ---- */

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void rm_tree(const char *path)
{
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* A fresh, not yet existing directory path under base. */
static const char *scratch(const char *name)
{
	static char path[128];

	snprintf(path, sizeof(path), "%s/%s", base, name);
	rm_tree(path);
	return path;
}

static void path_of(char *buf, const char *dir, const char *name)
{
	snprintf(buf, PATH_LEN, "%s/%s", dir, name);
}

static void seg_file(char *buf, const char *dir, uint64_t first)
{
	snprintf(buf, PATH_LEN, "%s/seg-%016" PRIx64 ".log", dir, first);
}

static long file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) < 0 ? -1 : st.st_size;
}

static bool file_patch(const char *path, long off, const void *p, size_t len)
{
	int fd = open(path, O_WRONLY);
	bool ok;

	if (fd < 0)
		return false;
	ok = pwrite(fd, p, len, off) == (ssize_t)len;
	close(fd);
	return ok;
}

static bool file_xor(const char *path, long off)
{
	uint8_t b;
	int fd = open(path, O_RDWR);
	bool ok;

	if (fd < 0)
		return false;
	ok = pread(fd, &b, 1, off) == 1;
	b ^= 0x5a;
	ok = ok && pwrite(fd, &b, 1, off) == 1;
	close(fd);
	return ok;
}

/* Every file of dir, name and bytes, in name order: to see nothing moved. */
struct snap {
	char *buf;
	size_t len;
};

static void snap_add(struct snap *sn, const void *p, size_t len)
{
	sn->buf = realloc(sn->buf, sn->len + len);
	memcpy(sn->buf + sn->len, p, len);
	sn->len += len;
}

static struct snap snap_take(const char *dir)
{
	struct snap sn = { NULL, 0 };
	struct dirent **de;
	char path[PATH_LEN], chunk[4096];
	ssize_t n;
	int i, count, fd;

	count = scandir(dir, &de, NULL, alphasort);
	for (i = 0; i < count; i++) {
		snap_add(&sn, de[i]->d_name, strlen(de[i]->d_name) + 1);
		path_of(path, dir, de[i]->d_name);
		fd = open(path, O_RDONLY);
		while (fd >= 0 && (n = read(fd, chunk, sizeof(chunk))) > 0)
			snap_add(&sn, chunk, n);
		if (fd >= 0)
			close(fd);
		free(de[i]);
	}
	if (count >= 0)
		free(de);
	return sn;
}

static bool snap_same(struct snap *a, const char *dir)
{
	struct snap b = snap_take(dir);
	bool same = a->len == b.len && !memcmp(a->buf, b.buf, a->len);

	free(a->buf);
	free(b.buf);
	return same;
}

/* ---- the log as the test wants it, and as a store loads it ---- */

struct model {
	uint64_t last;
	uint64_t term[MAXN + 1];
	uint32_t len[MAXN + 1];
};

static uint8_t data_byte(uint64_t index, uint64_t term, uint32_t j)
{
	return (uint8_t)(index * 131 + term * 17 + j * 7 + 1);
}

static void entry_make(struct raft_entry *e, uint64_t index, uint64_t term,
		       uint32_t len)
{
	uint32_t j;

	if (len == VARLEN)
		len = (index * 37) % (RAFT_ENTRY_DATA_MAX + 1);
	e->index = index;
	e->term = term;
	e->type = index % 3 ? RAFT_ENTRY_COMMAND : RAFT_ENTRY_NOOP;
	e->len = len;
	e->data = len ? malloc(len) : NULL;
	for (j = 0; j < len; j++)
		e->data[j] = data_byte(index, term, j);
}

/* Appends entries m->last + 1 .. to, of term and len, batch at a time. */
static int model_append(struct rstore *s, struct model *m, uint64_t to,
			uint64_t term, uint32_t len, size_t batch)
{
	struct raft_entry e[64];
	size_t i, n;
	int err = 0;

	while (!err && m->last < to) {
		n = to - m->last < batch ? to - m->last : batch;
		for (i = 0; i < n; i++)
			entry_make(&e[i], m->last + 1 + i, term, len);
		err = rstore_append(s, e, n);
		for (i = 0; i < n; i++) {
			if (!err) {
				m->term[m->last + 1] = term;
				m->len[m->last + 1] = e[i].len;
				m->last++;
			}
			free(e[i].data);
		}
	}
	return err;
}

struct loaded {
	struct raft_entry e[MAXN + 1];
	uint64_t n;
	uint64_t fail_at;	/* index the callback refuses, 0 for none */
	/* The last snapshot handed over, if snaps */
	int snaps;
	uint64_t snap_index;
	uint64_t snap_term;
	uint8_t *conf;
	uint32_t conf_len;
	uint8_t *data;
	size_t data_len;
	uint64_t n_before_snap;	/* entries handed over before it */
};

static int collect(void *arg, struct raft_entry *e)
{
	struct loaded *l = arg;

	if (e->index == l->fail_at) {
		free(e->data);
		return -ECANCELED;
	}
	if (l->n >= MAXN) {
		free(e->data);
		return -E2BIG;
	}
	l->e[l->n++] = *e;
	return 0;
}

static int collect_snap(void *arg, uint64_t index, uint64_t term,
			uint8_t *conf, uint32_t conf_len, uint8_t *data,
			size_t data_len)
{
	struct loaded *l = arg;

	free(l->conf);
	free(l->data);
	l->snaps++;
	l->snap_index = index;
	l->snap_term = term;
	l->conf = conf;
	l->conf_len = conf_len;
	l->data = data;
	l->data_len = data_len;
	l->n_before_snap = l->n;
	return 0;
}

static void loaded_free(struct loaded *l)
{
	uint64_t i;

	for (i = 0; i < l->n; i++)
		free(l->e[i].data);
	l->n = 0;
	free(l->conf);
	free(l->data);
	l->conf = l->data = NULL;
	l->snaps = 0;
}

static bool entry_expected(const struct raft_entry *e, uint64_t i,
			   const struct model *m)
{
	uint32_t j;

	if (e->index != i || e->term != m->term[i] || e->len != m->len[i] ||
	    e->type != (i % 3 ? RAFT_ENTRY_COMMAND : RAFT_ENTRY_NOOP))
		return false;
	for (j = 0; j < e->len; j++)
		if (e->data[j] != data_byte(i, e->term, j))
			return false;
	return true;
}

/* What went wrong, or NULL if l holds m's entries from..upto exactly. */
static const char *loaded_range_differs(const struct loaded *l,
					const struct model *m, uint64_t from,
					uint64_t upto)
{
	static char why[128];
	uint64_t i;

	if (l->n != upto + 1 - from) {
		snprintf(why, sizeof(why), "%" PRIu64 " entries, not %" PRIu64,
			 l->n, upto + 1 - from);
		return why;
	}
	for (i = from; i <= upto; i++) {
		if (!entry_expected(&l->e[i - from], i, m)) {
			snprintf(why, sizeof(why), "entry %" PRIu64 " differs", i);
			return why;
		}
	}
	return NULL;
}

/* What went wrong, or NULL if l holds m's first upto entries exactly. */
static const char *loaded_differs(const struct loaded *l,
				  const struct model *m, uint64_t upto)
{
	return loaded_range_differs(l, m, 1, upto);
}

/* A store over dir and its log as loaded by the open. */
struct fixture {
	struct rstore *s;
	struct rstore_meta meta;
	struct loaded log;
	char err[512];
	char warn[512];
};

static int fx_open_as(struct fixture *fx, const char *dir, uint64_t cluster,
		      uint32_t node, uint32_t seg_bytes)
{
	loaded_free(&fx->log);
	fx->s = NULL;
	return rstore_open2(dir, cluster, node, seg_bytes, collect_snap,
			    collect, &fx->log, &fx->s, &fx->meta, fx->err,
			    sizeof(fx->err), fx->warn, sizeof(fx->warn));
}

static int fx_open(struct fixture *fx, const char *dir, uint32_t seg_bytes)
{
	return fx_open_as(fx, dir, CLUSTER, NODE, seg_bytes);
}

static void fx_close(struct fixture *fx)
{
	rstore_close(fx->s);
	fx->s = NULL;
}

/* Reopens dir and checks the log is m's first upto entries. */
static void check_reopen(struct fixture *fx, const char *dir,
			 uint32_t seg_bytes, const struct model *m,
			 uint64_t upto, const char *what)
{
	const char *why;
	int err;

	fx_close(fx);
	err = fx_open(fx, dir, seg_bytes);
	why = err ? fx->err : loaded_differs(&fx->log, m, upto);
	tap_ok(!why, "%s: reopened with entries 1..%" PRIu64 "%s%s", what,
	       upto, why ? ": " : "", why ? why : "");
}

static struct model model;
static struct fixture fx;

/* A store in dir (new) with n entries of term 1 and len, synced, closed. */
static bool store_build(const char *dir, uint32_t seg_bytes, uint64_t n,
			uint32_t len)
{
	int err;

	memset(&model, 0, sizeof(model));
	err = fx_open(&fx, dir, seg_bytes);
	if (!err)
		err = model_append(fx.s, &model, n, 1, len, 7);
	if (!err)
		err = rstore_sync(fx.s);
	if (err)
		tap_diag("building %s: %d %s %s", dir, err, fx.err,
			 fx.s ? rstore_error(fx.s) : "");
	fx_close(&fx);
	return !err;
}

/* ---- the cases ---- */

static void test_round_trip(void)
{
	const char *dir = scratch("round-trip/store");
	char path[PATH_LEN];
	int err;

	memset(&model, 0, sizeof(model));
	err = fx_open(&fx, dir, 0);
	tap_ok(err == -ENOENT, "no parent dir: %d (%s)", err, fx.err);
	mkdir(scratch("round-trip"), 0755);
	err = fx_open(&fx, dir, 0);
	tap_ok(!err && fx.meta.cluster_id == CLUSTER &&
	       fx.meta.node_id == NODE && !fx.meta.term && !fx.meta.vote &&
	       !fx.log.n && !fx.warn[0] && !rstore_last_index(fx.s),
	       "a new dir gets a fresh meta: %d %s", err, fx.err);
	if (err)
		return;
	path_of(path, dir, "meta");
	tap_ok(file_size(path) == 40, "meta is 40 bytes");

	err = model_append(fx.s, &model, 1, 1, 0, 1);
	if (!err)
		err = model_append(fx.s, &model, 2, 1, RAFT_ENTRY_DATA_MAX, 1);
	if (!err)
		err = model_append(fx.s, &model, 100, 1, VARLEN, 1);
	if (!err)
		err = model_append(fx.s, &model, 200, 2, VARLEN, 7);
	if (!err)
		err = model_append(fx.s, &model, 300, 3, VARLEN, 64);
	if (!err)
		err = rstore_sync(fx.s);
	if (!err)
		err = rstore_save_meta(fx.s, 3, 2);
	tap_ok(!err && rstore_last_index(fx.s) == 300 &&
	       !rstore_error(fx.s)[0],
	       "300 entries (0 to %d bytes, batches of 1, 7, 64) appended and synced, meta saved: %d %s",
	       RAFT_ENTRY_DATA_MAX, err, rstore_error(fx.s));
	check_reopen(&fx, dir, 0, &model, 300, "round trip");
	tap_ok(fx.s && fx.meta.term == 3 && fx.meta.vote == 2 && !fx.warn[0] &&
	       rstore_last_index(fx.s) == 300,
	       "meta term 3 vote 2 back, no warning, last index 300");
	fx_close(&fx);
}

static void test_meta(void)
{
	static const struct { uint64_t term; uint32_t vote; } saves[] = {
		{ 1, 0 }, { 1, 3 }, { 0x123456789abull, 0xfffffffe }, { 0x123456789acull, 0 },
	};
	const char *dir = scratch("meta");
	char path[PATH_LEN];
	bool ok = true;
	size_t i;
	int err;

	err = fx_open(&fx, dir, 0);
	for (i = 0; !err && i < ARRAY_SIZE(saves); i++) {
		err = rstore_save_meta(fx.s, saves[i].term, saves[i].vote);
		fx_close(&fx);
		if (!err)
			err = fx_open(&fx, dir, 0);
		if (!err && (fx.meta.term != saves[i].term ||
			     fx.meta.vote != saves[i].vote))
			ok = false;
	}
	path_of(path, dir, "meta.tmp");
	tap_ok(!err && ok && file_size(path) < 0,
	       "4 meta saves each read back after a reopen, no meta.tmp left: %d %s",
	       err, fx.err);
	fx_close(&fx);
}

static void test_identity(void)
{
	const char *dir = scratch("identity");
	struct snap sn;
	int err;

	if (!store_build(dir, SMALL_SEG, 50, 100))
		return;
	sn = snap_take(dir);
	err = rstore_open(dir, CLUSTER + 1, NODE, SMALL_SEG, collect, &fx.log,
			  &fx.s, &fx.meta, fx.err, sizeof(fx.err), NULL, 0);
	tap_ok(err == -EEXIST && !fx.log.n &&
	       strstr(fx.err, "belongs to cluster 0xc0ffee0123456789 node 2, not cluster 0xc0ffee012345678a node 2; refusing to touch it"),
	       "another cluster id is refused: %d %s", err, fx.err);
	err = rstore_open(dir, CLUSTER, NODE + 1, SMALL_SEG, collect, &fx.log,
			  &fx.s, &fx.meta, fx.err, sizeof(fx.err), NULL, 0);
	tap_ok(err == -EEXIST && !fx.log.n &&
	       strstr(fx.err, "node 2, not cluster 0xc0ffee0123456789 node 3"),
	       "another node id is refused: %d %s", err, fx.err);
	tap_ok(snap_same(&sn, dir), "and the files are untouched");
	check_reopen(&fx, dir, SMALL_SEG, &model, 50, "the right ids");
	fx_close(&fx);
}

static void test_bad_calls(void)
{
	const char *dir = scratch("calls");
	struct raft_entry e[2];
	uint8_t big[RAFT_ENTRY_DATA_MAX + 1] = { 0 };
	struct rstore *other = NULL;
	struct rstore_meta meta;
	char err_other[256] = "";
	int err, e1, e2, e3, e4, e5;

	memset(&model, 0, sizeof(model));
	if (fx_open(&fx, dir, 0))
		return;
	entry_make(&e[0], 2, 1, 10);
	e1 = rstore_append(fx.s, e, 1);
	tap_ok(e1 == -EINVAL && strstr(rstore_error(fx.s), "index 2, expected 1"),
	       "first index 2 refused: %d %s", e1, rstore_error(fx.s));
	free(e[0].data);
	model_append(fx.s, &model, 5, 3, 10, 5);
	entry_make(&e[0], 6, 3, 10);
	entry_make(&e[1], 8, 3, 10);
	e1 = rstore_append(fx.s, e, 2);
	e[1].index = 7;
	e[1].term = 2;
	e2 = rstore_append(fx.s, e, 2);
	e[1].term = 3;
	free(e[1].data);
	e[1].data = big;
	e[1].len = sizeof(big);
	e3 = rstore_append(fx.s, e, 2);
	e[1].data = NULL;
	e[1].len = 1;
	e4 = rstore_append(fx.s, e, 2);
	tap_ok(e1 == -EINVAL && e2 == -EINVAL && e3 == -EINVAL && e4 == -EINVAL &&
	       rstore_last_index(fx.s) == 5,
	       "a gap, a lower term, %zu bytes, NULL data: -EINVAL (%d %d %d %d), the good entry before is not written either",
	       sizeof(big), e1, e2, e3, e4);
	free(e[0].data);
	e5 = rstore_truncate(fx.s, 0);
	e1 = rstore_truncate(fx.s, 6);
	e2 = rstore_truncate(fx.s, 1000);
	tap_ok(e5 == -EINVAL && !e1 && !e2 && rstore_last_index(fx.s) == 5,
	       "truncate from 0 refused (%d), past the end does nothing (%d %d)",
	       e5, e1, e2);
	err = model_append(fx.s, &model, 6, 3, 10, 1);
	if (!err)
		err = rstore_sync(fx.s);
	tap_ok(!err, "-EINVAL does not break the store: %d %s", err,
	       rstore_error(fx.s));

	err = rstore_open(dir, CLUSTER, NODE, 0, NULL, NULL, &other, &meta,
			  err_other, sizeof(err_other), NULL, 0);
	tap_ok(err == -EBUSY && strstr(err_other, "in use"),
	       "a second open of the dir is refused: %d %s", err, err_other);
	if (!err)
		rstore_close(other);
	fx_close(&fx);

	fx.log.fail_at = 4;
	err = fx_open(&fx, dir, 0);
	fx.log.fail_at = 0;
	tap_ok(err == -ECANCELED && strstr(fx.err, "entry 4"),
	       "a load callback's error fails the open: %d %s", err, fx.err);
	err = rstore_open(dir, CLUSTER, NODE, 0, NULL, NULL, &other, &meta,
			  NULL, 0, NULL, 0);
	tap_ok(!err && rstore_last_index(other) == 6,
	       "no load callback: the log is still indexed: %d", err);
	rstore_close(other);
}

static int seg_filter(const struct dirent *de)
{
	return !strncmp(de->d_name, "seg-", 4);
}

/* The first indexes of dir's segments, in order; their number. */
static int segs_of(const char *dir, uint64_t *first, int max)
{
	struct dirent **de;
	int i, n = scandir(dir, &de, seg_filter, alphasort);

	for (i = 0; i < n; i++) {
		if (i < max)
			first[i] = strtoull(de[i]->d_name + 4, NULL, 16);
		free(de[i]);
	}
	if (n >= 0)
		free(de);
	return n;
}

/* The index in the header of the first record of a segment, 0 if none. */
static uint64_t first_record_index(const char *dir, uint64_t first)
{
	uint8_t h[24];
	uint64_t index = 0;
	char path[PATH_LEN];
	int i, fd;

	seg_file(path, dir, first);
	fd = open(path, O_RDONLY);
	if (fd >= 0 && pread(fd, h, sizeof(h), 0) == sizeof(h))
		for (i = 7; i >= 0; i--)
			index = index << 8 | h[16 + i];
	if (fd >= 0)
		close(fd);
	return index;
}

static void test_rolling(void)
{
	const char *dir = scratch("rolling");
	uint64_t first[64];
	char path[PATH_LEN];
	bool sizes_ok = true, names_ok = true;
	int i, n, err;
	long size;

	if (!store_build(dir, SMALL_SEG, 400, VARLEN))
		return;
	n = segs_of(dir, first, 64);
	for (i = 0; i < n && i < 64; i++) {
		seg_file(path, dir, first[i]);
		size = file_size(path);
		if (i + 1 < n && (size < SMALL_SEG ||
				  size >= SMALL_SEG + REC(RAFT_ENTRY_DATA_MAX)))
			sizes_ok = false;
		if (first_record_index(dir, first[i]) != first[i])
			names_ok = false;
	}
	tap_ok(n > 20 && n <= 64 && first[0] == 1 && sizes_ok,
	       "400 entries in %d segments of %d bytes and at most one record more",
	       n, SMALL_SEG);
	tap_ok(names_ok, "each segment is named after the index of its first record");
	check_reopen(&fx, dir, SMALL_SEG, &model, 400, "rolled segments");
	check_reopen(&fx, dir, 0, &model, 400, "with the default segment size");
	err = fx.s ? model_append(fx.s, &model, 410, 2, VARLEN, 3) : -EBADF;
	err = err ? err : rstore_sync(fx.s);
	tap_ok(!err && segs_of(dir, first, 64) == n,
	       "with 8 MiB segments, the last one takes 401..410: %d", err);
	check_reopen(&fx, dir, 0, &model, 410, "rolled, then appended");
	fx_close(&fx);
}

static bool seg_exists(const char *dir, uint64_t first)
{
	char path[PATH_LEN];

	seg_file(path, dir, first);
	return file_size(path) >= 0;
}

/* Truncates from index and appends up to `to` in term. */
static int truncate_append(uint64_t from, uint64_t to, uint64_t term)
{
	int err = rstore_truncate(fx.s, from);

	if (err || rstore_last_index(fx.s) != from - 1)
		return err ? err : -EBADE;
	model.last = from - 1;
	err = model_append(fx.s, &model, to, term, 100, 9);
	return err ? err : rstore_sync(fx.s);
}

/*
 * 300 entries of 100 bytes, records of 125: 33 a segment, which start at
 * 1, 34, 67, 100, 133, 166, 199, 232, 265, 298.
 */
static void test_truncate(void)
{
	const char *dir = scratch("truncate");
	uint64_t first[16];
	char path[PATH_LEN];
	int err;

	if (!store_build(dir, SMALL_SEG, 300, 100) || fx_open(&fx, dir, SMALL_SEG))
		return;
	err = truncate_append(290, 310, 2);
	seg_file(path, dir, 265);
	tap_ok(!err && file_size(path) >= (290 - 265) * REC(100),
	       "truncate from 290 in the middle of seg 265, append 290..310 in term 2: %d %s",
	       err, rstore_error(fx.s));
	check_reopen(&fx, dir, SMALL_SEG, &model, 310, "truncated mid-segment");

	err = rstore_truncate(fx.s, 150);
	seg_file(path, dir, 133);
	tap_ok(!err && segs_of(dir, first, 16) == 5 && !seg_exists(dir, 166) &&
	       file_size(path) == (150 - 133) * REC(100),
	       "truncate from 150: segments 166.. unlinked, 133 cut to %d bytes",
	       (150 - 133) * REC(100));
	err = err ? err : truncate_append(150, 250, 3);
	tap_ok(!err && seg_exists(dir, 166) && seg_exists(dir, 232) &&
	       !seg_exists(dir, 265),
	       "then 150..250 in term 3 fill seg 133 and roll again: %d", err);
	check_reopen(&fx, dir, SMALL_SEG, &model, 250, "truncated across segments");

	err = rstore_truncate(fx.s, 100);
	tap_ok(!err && !seg_exists(dir, 100) && seg_exists(dir, 67) &&
	       segs_of(dir, first, 16) == 3,
	       "truncate from 100, a segment's first: seg 100 unlinked: %d", err);
	err = err ? err : truncate_append(100, 120, 4);
	tap_ok(!err && first_record_index(dir, 100) == 100,
	       "then 100..120 in term 4 make seg 100 anew: %d", err);
	check_reopen(&fx, dir, SMALL_SEG, &model, 120, "truncated at a segment's start");

	err = rstore_truncate(fx.s, 50);
	model.last = 49;
	tap_ok(!err, "truncate from 50, no sync: %d", err);
	check_reopen(&fx, dir, SMALL_SEG, &model, 49, "a truncation is durable");

	err = truncate_append(1, 10, 5);
	tap_ok(!err && segs_of(dir, first, 16) == 1 && first[0] == 1,
	       "truncate from 1 empties the log; 1..10 in term 5: %d", err);
	check_reopen(&fx, dir, SMALL_SEG, &model, 10, "truncated whole");
	fx_close(&fx);
}

/*
 * 40 entries of 100 bytes, in 4 KiB segments: seg 34 holds 34..40, the
 * last record at 750, 875 bytes in all.
 */
#define TORN_N		40
#define TORN_SEG	34
#define TORN_LAST	750
#define TORN_SIZE	875

struct torn_case {
	const char *what;
	int chop;		/* bytes cut off the end */
	int flip;		/* offset in the last record of a byte to flip */
	int zero_last;		/* bytes of the last record zeroed */
	int add_zeros;		/* zero bytes appended */
	int add_junk;		/* 0xab bytes appended */
	uint64_t keep;		/* entries that survive */
	const char *reason;	/* in the warning; NULL if there is none */
};

static const struct torn_case torn_cases[] = {
	{ "1 byte chopped", .chop = 1, .flip = -1, .keep = 39,
	  .reason = "(cut short)" },
	{ "cut after the type", .chop = 100, .flip = -1, .keep = 39,
	  .reason = "(cut short)" },
	{ "cut in the header", .chop = 110, .flip = -1, .keep = 39,
	  .reason = "(header cut short)" },
	{ "1 byte left", .chop = 124, .flip = -1, .keep = 39,
	  .reason = "(header cut short)" },
	{ "whole record chopped", .chop = 125, .flip = -1, .keep = 39 },
	{ "data byte flipped", .flip = 24 + 1 + 50, .keep = 39,
	  .reason = "(crc mismatch)" },
	{ "term byte flipped", .flip = 8, .keep = 39,
	  .reason = "(crc mismatch)" },
	{ "index byte flipped", .flip = 16, .keep = 39,
	  .reason = "(crc mismatch)" },
	{ "data byte flipped, zeros after", .flip = 24 + 1 + 90,
	  .add_zeros = 512, .keep = 39, .reason = "(crc mismatch)" },
	{ "4 KiB of zeros after", .flip = -1, .add_zeros = 4096, .keep = 40,
	  .reason = "(zeros to the end of the file)" },
	{ "last record zeroed", .flip = -1, .zero_last = 125, .keep = 39,
	  .reason = "(zeros to the end of the file)" },
	{ "last record zeroed, and zeros after", .flip = -1, .zero_last = 125,
	  .add_zeros = 300, .keep = 39,
	  .reason = "(zeros to the end of the file)" },
	{ "10 junk bytes after", .flip = -1, .add_junk = 10, .keep = 40,
	  .reason = "(header cut short)" },
};

static bool torn_damage(const char *path, const struct torn_case *c)
{
	uint8_t zeros[4096] = { 0 }, junk[16];
	long size = TORN_SIZE;
	bool ok = true;

	memset(junk, 0xab, sizeof(junk));
	if (c->chop)
		ok = !truncate(path, size -= c->chop);
	if (c->flip >= 0)
		ok = ok && file_xor(path, TORN_LAST + c->flip);
	if (c->zero_last)
		ok = ok && file_patch(path, TORN_LAST, zeros, c->zero_last);
	if (c->add_zeros)
		ok = ok && file_patch(path, size, zeros, c->add_zeros);
	if (c->add_junk)
		ok = ok && file_patch(path, size, junk, c->add_junk);
	return ok;
}

static void test_torn_case(const struct torn_case *c)
{
	const char *dir = scratch("torn");
	long cut_at = c->keep == TORN_N ? TORN_SIZE : TORN_LAST;
	char path[PATH_LEN], want[PATH_LEN];
	const char *why;
	long damaged;
	int err;

	seg_file(path, dir, TORN_SEG);
	if (!store_build(dir, SMALL_SEG, TORN_N, 100) || !torn_damage(path, c)) {
		tap_ok(false, "torn tail, %s: setting up", c->what);
		return;
	}
	damaged = file_size(path);
	snprintf(want, sizeof(want), "seg-%016x.log: torn record at offset %ld %s, truncated %ld bytes",
		 TORN_SEG, cut_at, c->reason ? c->reason : "", damaged - cut_at);
	err = fx_open(&fx, dir, SMALL_SEG);
	why = err ? fx.err : loaded_differs(&fx.log, &model, c->keep);
	tap_ok(!why && (c->reason ? !!strstr(fx.warn, want) : !fx.warn[0]) &&
	       file_size(path) == cut_at,
	       "torn tail, %s: opens with 1..%" PRIu64 ", %s: %s",
	       c->what, c->keep, c->reason ? "cut off" : "nothing to cut",
	       why ? why : fx.warn);
	model.last = c->keep;
	err = err ? err : model_append(fx.s, &model, c->keep + 3, 2, 100, 3);
	err = err ? err : rstore_sync(fx.s);
	check_reopen(&fx, dir, SMALL_SEG, &model, c->keep + 3,
		     "then 3 more appended");
	tap_ok(!fx.warn[0], "and no warning then");
	fx_close(&fx);
}

/* With one record a segment, the last segment's only record torn. */
static void test_torn_alone(void)
{
	const char *dir = scratch("torn-alone");
	char path[PATH_LEN];
	int err;

	seg_file(path, dir, 5);
	if (!store_build(dir, 1, 5, 100) || truncate(path, REC(100) - 1))
		return;
	err = fx_open(&fx, dir, 1);
	tap_ok(!err && fx.log.n == 4 && file_size(path) == 0 &&
	       strstr(fx.warn, "seg-0000000000000005.log: torn record at offset 0"),
	       "one record a segment, the last one torn: seg 5 left empty: %d %s",
	       err, fx.warn);
	check_reopen(&fx, dir, 1, &model, 4, "an empty last segment");
	model.last = 4;
	err = fx.s ? model_append(fx.s, &model, 6, 2, 100, 1) : -1;
	err = err ? err : rstore_sync(fx.s);
	tap_ok(!err && file_size(path) == REC(100) && seg_exists(dir, 6),
	       "5 goes to the empty segment, 6 to a new one: %d", err);
	check_reopen(&fx, dir, 1, &model, 6, "refilled");
	fx_close(&fx);
}

/*
 * 80 entries of 100 bytes in 4 KiB segments: 1..33 (seg 1, 0x1),
 * 34..66 (seg 34, 0x22), 67..80 (seg 67, 0x43).
 */
struct corrupt_case {
	const char *what;
	uint64_t seg;		/* the damaged segment */
	uint64_t entry;		/* the damaged record's entry */
	void (*damage)(const char *path, long off);
	const char *reason;
};

static void flip_data(const char *path, long off)
{
	file_xor(path, off + 24 + 1 + 20);
}

static void zero_record(const char *path, long off)
{
	uint8_t zeros[REC(100)] = { 0 };

	file_patch(path, off, zeros, sizeof(zeros));
}

static void long_length(const char *path, long off)
{
	uint8_t len[4] = { 0x88, 0x13, 0, 0 };	/* 5000 */

	file_patch(path, off, len, sizeof(len));
}

static void chop_one(const char *path, long off)
{
	(void)off;
	if (truncate(path, file_size(path) - 1))
		tap_diag("truncating %s failed", path);
}

/* Rewrites the record's u64 at field with v and a matching crc. */
static void rewrite_field(const char *path, long off, int field, uint64_t v)
{
	uint8_t rec[REC(100)];
	uint32_t crc;
	int i, fd = open(path, O_RDWR);

	if (fd < 0 || pread(fd, rec, sizeof(rec), off) != sizeof(rec)) {
		if (fd >= 0)
			close(fd);
		return;
	}
	for (i = 0; i < 8; i++)
		rec[field + i] = (uint8_t)(v >> (8 * i));
	crc = crc32c(0, rec + 8, sizeof(rec) - 8);
	for (i = 0; i < 4; i++)
		rec[4 + i] = (uint8_t)(crc >> (8 * i));
	if (pwrite(fd, rec, sizeof(rec), off) != sizeof(rec))
		tap_diag("rewriting %s failed", path);
	close(fd);
}

static void index_plus_one(const char *path, long off)
{
	rewrite_field(path, off, 16, 71);
}

static void term_zero(const char *path, long off)
{
	rewrite_field(path, off, 8, 0);
}

static const struct corrupt_case corrupt_cases[] = {
	{ "data flipped, earlier segment", 34, 40, flip_data, "(crc mismatch)" },
	{ "last record of an earlier segment flipped", 1, 33, flip_data,
	  "(crc mismatch)" },
	{ "last record of an earlier segment cut", 1, 33, chop_one,
	  "(cut short)" },
	{ "data flipped, records after it", 67, 70, flip_data,
	  "(crc mismatch)" },
	{ "record zeroed, records after it", 67, 70, zero_record,
	  "(bad length 0)" },
	{ "length 5000", 67, 70, long_length, "(bad length 5000)" },
	{ "index 71 with a good crc", 67, 70, index_plus_one,
	  "(index 71, expected 70)" },
	{ "term 0 with a good crc", 67, 70, term_zero,
	  "(term 0 after term 1)" },
};

static void test_corrupt_case(const struct corrupt_case *c)
{
	const char *dir = scratch("corrupt");
	long off = (long)(c->entry - c->seg) * REC(100);
	char path[PATH_LEN], want[PATH_LEN];
	struct snap sn;
	int err;

	seg_file(path, dir, c->seg);
	if (!store_build(dir, SMALL_SEG, 80, 100))
		return;
	c->damage(path, off);
	snprintf(want, sizeof(want), "%s/seg-%016" PRIx64 ".log: corrupt record at offset %ld %s; the log before it is intact, refusing to start",
		 dir, c->seg, off, c->reason);
	sn = snap_take(dir);
	err = fx_open(&fx, dir, SMALL_SEG);
	tap_ok(err == -EUCLEAN && strstr(fx.err, want) && snap_same(&sn, dir),
	       "corrupt, %s: refused, files untouched: %d %s", c->what, err,
	       fx.err);
	fx_close(&fx);
}

static void test_segment_set(void)
{
	const char *dir = scratch("segment-set");
	char path[PATH_LEN];
	struct snap sn;
	int err, fd;

	if (!store_build(dir, SMALL_SEG, 80, 100))
		return;
	seg_file(path, dir, 81);
	fd = open(path, O_WRONLY | O_CREAT, 0644);
	close(fd);
	err = fx_open(&fx, dir, SMALL_SEG);
	tap_ok(!err && fx.log.n == 80 && !fx.warn[0],
	       "an empty segment 81 after 80 (a crash after creating it) is fine: %d %s",
	       err, fx.err);
	err = err ? err : model_append(fx.s, &model, 81, 1, 100, 1);
	err = err ? err : rstore_sync(fx.s);
	tap_ok(!err && file_size(path) == REC(100),
	       "and entry 81 goes into it: %d", err);
	fx_close(&fx);

	seg_file(path, dir, 100);
	fd = open(path, O_WRONLY | O_CREAT, 0644);
	close(fd);
	sn = snap_take(dir);
	err = fx_open(&fx, dir, SMALL_SEG);
	tap_ok(err == -EUCLEAN && snap_same(&sn, dir) &&
	       strstr(fx.err, "seg-0000000000000064.log: starts at index 100 but the log before it ends at 81"),
	       "an empty segment 100 after 81 is refused: %d %s", err, fx.err);
	unlink(path);

	seg_file(path, dir, 34);
	unlink(path);
	err = fx_open(&fx, dir, SMALL_SEG);
	tap_ok(err == -EUCLEAN &&
	       strstr(fx.err, "seg-0000000000000043.log: starts at index 67 but the log before it ends at 33"),
	       "a missing segment is refused: %d %s", err, fx.err);
	fx_close(&fx);
}

static void meta_flip(const char *path)
{
	file_xor(path, 26);
}

static void meta_short(const char *path)
{
	if (truncate(path, 20))
		tap_diag("truncating %s failed", path);
}

static void meta_long(const char *path)
{
	file_patch(path, 40, "", 1);
}

static void meta_magic(const char *path)
{
	file_patch(path, 0, "LRAFTMEX", 8);
}

/* Version 2, with a crc that matches. */
static void meta_v2(const char *path)
{
	uint8_t m[40];
	uint32_t crc;
	int i, fd = open(path, O_RDWR);

	if (fd < 0 || pread(fd, m, sizeof(m), 0) != sizeof(m)) {
		if (fd >= 0)
			close(fd);
		return;
	}
	m[8] = 2;
	crc = crc32c(0, m, 36);
	for (i = 0; i < 4; i++)
		m[36 + i] = (uint8_t)(crc >> (8 * i));
	if (pwrite(fd, m, sizeof(m), 0) != sizeof(m))
		tap_diag("rewriting %s failed", path);
	close(fd);
}

static void meta_gone(const char *path)
{
	unlink(path);
}

static void test_meta_corrupt(void)
{
	static const struct {
		const char *what;
		void (*damage)(const char *path);
		int err;
		const char *msg;
	} cases[] = {
		{ "a byte flipped", meta_flip, -EUCLEAN,
		  "/meta: corrupt (crc mismatch); refusing to start" },
		{ "cut to 20 bytes", meta_short, -EUCLEAN,
		  "/meta: 20 bytes, not 40; refusing to start" },
		{ "one byte longer", meta_long, -EUCLEAN,
		  "/meta: longer than 40 bytes; refusing to start" },
		{ "bad magic", meta_magic, -EUCLEAN,
		  "/meta: corrupt (bad magic)" },
		{ "version 2", meta_v2, -EPROTONOSUPPORT,
		  "/meta: version 2, this program knows 1" },
		{ "missing, segments there", meta_gone, -EUCLEAN,
		  "has log segments but no meta; refusing to start" },
	};
	const char *dir = scratch("meta-corrupt");
	char path[PATH_LEN];
	struct snap sn;
	size_t i;
	int err;

	path_of(path, dir, "meta");
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		if (!store_build(dir, SMALL_SEG, 10, 100))
			return;
		cases[i].damage(path);
		sn = snap_take(dir);
		err = fx_open(&fx, dir, SMALL_SEG);
		tap_ok(err == cases[i].err && strstr(fx.err, cases[i].msg) &&
		       snap_same(&sn, dir),
		       "meta %s: refused, files untouched: %d %s",
		       cases[i].what, err, fx.err);
		fx_close(&fx);
		rm_tree(dir);
	}
}

/* fdatasync() failing, as on a filesystem that allocates at writeback. */
static void test_sync_fails(void)
{
	const char *dir = scratch("sync-fails");
	int e1, e2, e3, err;

	if (!store_build(dir, SMALL_SEG, 10, 100) || fx_open(&fx, dir, SMALL_SEG))
		return;
	err = model_append(fx.s, &model, 15, 1, 100, 5);
	fdatasync_errno = ENOSPC;
	e1 = rstore_sync(fx.s);
	tap_ok(!err && e1 == -ENOSPC &&
	       strstr(rstore_error(fx.s), "seg-0000000000000001.log: fdatasync: No space left on device"),
	       "fdatasync failing with ENOSPC: sync returns it: %d %s", e1,
	       rstore_error(fx.s));
	e2 = rstore_sync(fx.s);
	e3 = model_append(fx.s, &model, 16, 1, 100, 1);
	tap_ok(e2 == -ENOSPC && e3 == -ENOSPC,
	       "and so do a second sync (not a false success) and an append: %d %d",
	       e2, e3);
	fx_close(&fx);
	err = fx_open(&fx, dir, SMALL_SEG);
	tap_ok(!err && fx.log.n >= 10 && fx.log.n <= 15 &&
	       !loaded_differs(&fx.log, &model, fx.log.n),
	       "reopened: %" PRIu64 " entries, a prefix of what was appended: %d %s",
	       fx.log.n, err, fx.err);
	if (err)
		return;

	model.last = fx.log.n;
	err = model_append(fx.s, &model, 33, 1, 100, 4);
	fdatasync_errno = EIO;
	e1 = model_append(fx.s, &model, 34, 1, 100, 1);
	tap_ok(!err && e1 == -EIO && !seg_exists(dir, 34) &&
	       strstr(rstore_error(fx.s), "seg-0000000000000001.log: fdatasync: Input/output error"),
	       "fdatasync failing before a new segment: append returns -EIO, no new segment: %d %s",
	       e1, rstore_error(fx.s));
	fx_close(&fx);
	err = fx_open(&fx, dir, SMALL_SEG);
	tap_ok(!err && fx.log.n == 33 && !loaded_differs(&fx.log, &model, 33),
	       "reopened with 1..33: %d %s", err, fx.err);
	fx_close(&fx);
}

/* ---- snapshots ---- */

static struct model model2;
static struct fixture fx2;

/* A snapshot's conf and data: bytes of its index, lengths too. */
static uint32_t conf_len_of(uint64_t index)
{
	return 200 + index % 7;
}

static size_t data_len_of(uint64_t index)
{
	return 3000 + index * 97;
}

static uint8_t *blob_make(uint64_t seed, size_t len)
{
	uint8_t *p = malloc(len);
	size_t j;

	for (j = 0; j < len; j++)
		p[j] = (uint8_t)(seed * 29 + j * 11 + (j >> 8));
	return p;
}

static bool blob_is(const uint8_t *p, size_t len, uint64_t seed,
		    size_t want_len)
{
	size_t j;

	if (len != want_len || !p)
		return false;
	for (j = 0; j < len; j++)
		if (p[j] != (uint8_t)(seed * 29 + j * 11 + (j >> 8)))
			return false;
	return true;
}

static uint64_t snapshot_bytes(uint64_t index)
{
	return 56 + conf_len_of(index) + data_len_of(index);
}

static int snapshot_save(struct rstore *s, uint64_t index, uint64_t term)
{
	uint8_t *conf = blob_make(2 * index, conf_len_of(index));
	uint8_t *data = blob_make(2 * index + 1, data_len_of(index));
	int err;

	err = rstore_snapshot_save(s, index, term, conf, conf_len_of(index),
				   data, data_len_of(index));
	free(conf);
	free(data);
	return err;
}

/* What went wrong, or NULL if l got snapshot index of term, first. */
static const char *snapshot_differs(const struct loaded *l, uint64_t index,
				    uint64_t term)
{
	static char why[128];

	if (!l->snaps)
		return "no snapshot loaded";
	if (l->snap_index != index || l->snap_term != term)
		snprintf(why, sizeof(why), "snapshot %" PRIu64 " of term %" PRIu64,
			 l->snap_index, l->snap_term);
	else if (l->n_before_snap)
		snprintf(why, sizeof(why), "after %" PRIu64 " entries",
			 l->n_before_snap);
	else if (!blob_is(l->conf, l->conf_len, 2 * index, conf_len_of(index)) ||
		 !blob_is(l->data, l->data_len, 2 * index + 1,
			  data_len_of(index)))
		snprintf(why, sizeof(why), "conf or data differ");
	else
		return NULL;
	return why;
}

/*
 * Reopens dir and checks it loads snapshot snap (of term 1; 0: none)
 * first, then m's entries snap + 1..upto.
 */
static void check_reopen_snap(struct fixture *f, const char *dir,
			      uint32_t seg_bytes, const struct model *m,
			      uint64_t snap, uint64_t upto, const char *what)
{
	const char *why = NULL;
	int err;

	fx_close(f);
	err = fx_open(f, dir, seg_bytes);
	if (err)
		why = f->err;
	else if (snap)
		why = snapshot_differs(&f->log, snap, 1);
	else if (f->log.snaps)
		why = "a snapshot loaded";
	if (!why)
		why = loaded_range_differs(&f->log, m, snap + 1, upto);
	if (!why && rstore_last_index(f->s) != upto)
		why = "wrong last index";
	tap_ok(!why, "%s: reopened with snapshot %" PRIu64 " first, then entries %" PRIu64 "..%" PRIu64 "%s%s",
	       what, snap, snap + 1, upto, why ? ": " : "", why ? why : "");
}

static void snap_file(char *buf, const char *dir, uint64_t index,
		      uint64_t term)
{
	snprintf(buf, PATH_LEN, "%s/snap-%016" PRIx64 "-%016" PRIx64 ".snap",
		 dir, index, term);
}

static int prefix_filter_n;
static const char *prefix_filter_p;

static int prefix_filter(const struct dirent *de)
{
	return !strncmp(de->d_name, prefix_filter_p, prefix_filter_n);
}

/* The number of files in dir whose names start with prefix. */
static int count_files(const char *dir, const char *prefix)
{
	struct dirent **de;
	int i, n;

	prefix_filter_p = prefix;
	prefix_filter_n = strlen(prefix);
	n = scandir(dir, &de, prefix_filter, alphasort);
	for (i = 0; i < n; i++)
		free(de[i]);
	if (n >= 0)
		free(de);
	return n;
}

/* The segments of dir are exactly first[0..n-1]. */
static bool segs_are(const char *dir, const uint64_t *first, int n)
{
	uint64_t got[64];
	int i, k = segs_of(dir, got, 64);

	if (k != n)
		return false;
	for (i = 0; i < n; i++)
		if (got[i] != first[i])
			return false;
	return true;
}

/* A whole file, malloc'd; its size in *len. */
static uint8_t *file_load(const char *path, size_t *len)
{
	long size = file_size(path);
	uint8_t *buf;
	int fd;

	*len = 0;
	if (size < 0)
		return NULL;
	buf = malloc(size ? size : 1);
	fd = open(path, O_RDONLY);
	if (fd < 0 || read(fd, buf, size) != size) {
		if (fd >= 0)
			close(fd);
		free(buf);
		return NULL;
	}
	close(fd);
	*len = size;
	return buf;
}

static bool file_store(const char *path, const uint8_t *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	bool ok;

	if (fd < 0)
		return false;
	ok = write(fd, buf, len) == (ssize_t)len;
	close(fd);
	return ok;
}

static bool file_copy(const char *from, const char *to)
{
	size_t len;
	uint8_t *buf = file_load(from, &len);
	bool ok = buf && file_store(to, buf, len);

	free(buf);
	return ok;
}

/*
 * 100 entries of 100 bytes in 4 KiB segments: 1 (1..33), 34 (34..66),
 * 67 (67..99), 100 (100).
 */
static void test_snap_save(void)
{
	static const uint64_t after33[] = { 34, 67, 100 }, after66[] = { 67, 100 },
			      after99[] = { 100 };
	const char *dir = scratch("snap-save");
	uint8_t *big = calloc(1, RSTORE_SNAP_CONF_MAX + 1);
	uint64_t index = 0, term = 0, size = 0;
	char path[PATH_LEN];
	int e1, e2, e3, e4, e5, err;

	if (!store_build(dir, SMALL_SEG, 100, 100) ||
	    fx_open(&fx, dir, SMALL_SEG))
		return;
	e1 = rstore_snapshot_info(fx.s, &index, &term, &size);
	e2 = snapshot_save(fx.s, 101, 1);
	e3 = snapshot_save(fx.s, 50, 2);
	e5 = snapshot_save(fx.s, 0, 0);
	e4 = rstore_snapshot_save(fx.s, 50, 1, big, RSTORE_SNAP_CONF_MAX + 1,
				  big, 10);
	tap_ok(e1 == -ENOENT && e2 == -EINVAL && e3 == -EINVAL &&
	       e4 == -EINVAL && e5 == -EINVAL && !count_files(dir, "snap-") &&
	       strstr(rstore_error(fx.s), "snapshot: 65537 bytes of conf, 10 of data: more than allowed"),
	       "no snapshot: -ENOENT (%d); past the log, a wrong term, too much conf, index 0: -EINVAL (%d %d %d %d), no file",
	       e1, e2, e3, e4, e5);
	free(big);

	err = snapshot_save(fx.s, 33, 1);
	snap_file(path, dir, 33, 1);
	e1 = rstore_snapshot_info(fx.s, &index, &term, &size);
	tap_ok(!err && !e1 && index == 33 && term == 1 &&
	       size == snapshot_bytes(33) && file_size(path) == (long)size &&
	       segs_are(dir, after33, 3) && count_files(dir, "snap-") == 1,
	       "snapshot at 33: %" PRIu64 " bytes, seg 1 (1..33) unlinked, 34 (34..) kept: %d %s",
	       size, err, err ? rstore_error(fx.s) : "");
	err = snapshot_save(fx.s, 65, 1);
	snap_file(path, dir, 33, 1);
	tap_ok(!err && segs_are(dir, after33, 3) && file_size(path) < 0 &&
	       count_files(dir, "snap-") == 1,
	       "snapshot at 65: seg 34 (to 66) kept, snapshot 33 unlinked: %d",
	       err);
	e1 = snapshot_save(fx.s, 65, 1);
	e2 = snapshot_save(fx.s, 60, 1);
	tap_ok(e1 == -EINVAL && e2 == -EINVAL,
	       "saving at 65 again, or at 60, is refused: %d %d", e1, e2);
	err = snapshot_save(fx.s, 66, 1);
	tap_ok(!err && segs_are(dir, after66, 2),
	       "snapshot at 66: seg 34 unlinked: %d", err);
	check_reopen_snap(&fx, dir, SMALL_SEG, &model, 66, 100, "snapshot 66");
	tap_ok(fx.s && !fx.warn[0], "no warning: %s", fx.warn);
	if (!fx.s)
		return;

	e1 = rstore_truncate(fx.s, 66);
	e2 = rstore_truncate(fx.s, 10);
	tap_ok(e1 == -EINVAL && e2 == -EINVAL &&
	       strstr(rstore_error(fx.s), "truncate: entries up to 66 are in the snapshot"),
	       "truncating into the snapshot: -EINVAL: %d %d %s", e1, e2,
	       rstore_error(fx.s));
	err = snapshot_save(fx.s, 99, 1);
	tap_ok(!err && segs_are(dir, after99, 1) &&
	       count_files(dir, "snap-") == 1,
	       "snapshot at 99: segs 67 unlinked, 100 kept: %d", err);
	err = snapshot_save(fx.s, 100, 1);
	tap_ok(!err && segs_are(dir, after99, 1) &&
	       rstore_last_index(fx.s) == 100,
	       "snapshot at 100, the last entry: the last segment is kept: %d",
	       err);
	check_reopen_snap(&fx, dir, SMALL_SEG, &model, 100, 100,
			  "snapshot 100, no entry after");
	if (!fx.s)
		return;
	model.last = 99;
	e1 = model_append(fx.s, &model, 100, 2, 100, 1);
	model.last = 100;
	err = model_append(fx.s, &model, 140, 2, 100, 7);
	err = err ? err : rstore_sync(fx.s);
	tap_ok(e1 == -EINVAL && !err && rstore_last_index(fx.s) == 140,
	       "then appending 100 is refused (%d), 101..140 in term 2 go on: %d",
	       e1, err);
	err = rstore_truncate(fx.s, 120);
	model.last = 119;
	tap_ok(!err, "truncate from 120, after the snapshot: %d", err);
	check_reopen_snap(&fx, dir, SMALL_SEG, &model, 100, 119,
			  "appended and truncated after a snapshot");
	fx_close(&fx);
}

/* A crash after the snapshot's rename, before compaction. */
static void test_snap_crash(void)
{
	const char *dir = scratch("snap-crash");
	char seg1[PATH_LEN], seg34[PATH_LEN], path[PATH_LEN];
	static const uint64_t all[] = { 1, 34, 67, 100 }, after[] = { 67, 100 };
	uint8_t *b1, *b34;
	size_t l1, l34;
	int err;

	seg_file(seg1, dir, 1);
	seg_file(seg34, dir, 34);
	if (!store_build(dir, SMALL_SEG, 100, 100) ||
	    fx_open(&fx, dir, SMALL_SEG))
		return;
	b1 = file_load(seg1, &l1);
	b34 = file_load(seg34, &l34);
	err = snapshot_save(fx.s, 70, 1);
	fx_close(&fx);
	tap_ok(!err && b1 && b34 && file_store(seg1, b1, l1) &&
	       file_store(seg34, b34, l34) && segs_are(dir, all, 4),
	       "snapshot at 70, then segs 1 and 34 put back: %d", err);
	free(b1);
	free(b34);
	snap_file(path, dir, 70, 1);
	check_reopen_snap(&fx, dir, SMALL_SEG, &model, 70, 100,
			  "segments the snapshot covers still there");
	tap_ok(fx.s && !fx.warn[0] && segs_are(dir, all, 4),
	       "no warning, nothing unlinked by the open: %s", fx.warn);
	err = fx.s ? snapshot_save(fx.s, 80, 1) : -1;
	tap_ok(!err && segs_are(dir, after, 2) && file_size(path) < 0,
	       "the next snapshot (80) unlinks them, and snapshot 70: %d", err);
	check_reopen_snap(&fx, dir, SMALL_SEG, &model, 80, 100, "then");
	fx_close(&fx);
}

static bool chop_to(const char *path, long len)
{
	return !truncate(path, len);
}

static bool chop_one_byte(const char *path)
{
	return chop_to(path, file_size(path) - 1);
}

static bool chop_in_header(const char *path)
{
	return chop_to(path, 10);
}

static bool flip_in_data(const char *path)
{
	return file_xor(path, 52 + 300);
}

static bool flip_data_len(const char *path)
{
	return file_xor(path, 41);
}

static bool flip_crc(const char *path)
{
	return file_xor(path, file_size(path) - 2);
}

/*
 * Snapshots 40 and 45 (as if a crash had kept 40), 100 entries in 4 KiB
 * segments; 45 damaged.
 */
static void test_snap_corrupt(void)
{
	static const struct {
		const char *what;
		bool (*damage)(const char *path);
		const char *why;
	} cases[] = {
		{ "a data byte flipped", flip_in_data, "crc mismatch" },
		{ "a crc byte flipped", flip_crc, "crc mismatch" },
		{ "its data length flipped", flip_data_len,
		  "header crc mismatch" },
		{ "one byte short", chop_one_byte,
		  "7623 bytes, the header says 7624" },
		{ "cut to 10 bytes", chop_in_header,
		  "10 bytes, shorter than a header" },
	};
	const char *dir = scratch("snap-corrupt");
	char p40[PATH_LEN], p45[PATH_LEN], p70[PATH_LEN], want[2 * PATH_LEN];
	uint8_t *b40 = NULL, *b45 = NULL;
	size_t l40 = 0, l45 = 0, i;
	struct snap sn;
	int err;

	snap_file(p40, dir, 40, 1);
	snap_file(p45, dir, 45, 1);
	snap_file(p70, dir, 70, 1);
	if (!store_build(dir, SMALL_SEG, 100, 100) ||
	    fx_open(&fx, dir, SMALL_SEG))
		return;
	err = snapshot_save(fx.s, 40, 1);
	b40 = file_load(p40, &l40);
	err = err ? err : snapshot_save(fx.s, 45, 1);
	b45 = file_load(p45, &l45);
	fx_close(&fx);
	if (!tap_ok(!err && b40 && b45 && file_size(p40) < 0 &&
		    file_store(p40, b40, l40),
		    "snapshots 40 and 45, 40 put back: %d", err))
		goto out;
	check_reopen_snap(&fx, dir, SMALL_SEG, &model, 45, 100,
			  "both valid: the newest");
	fx_close(&fx);
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		cases[i].damage(p45);
		snprintf(want, sizeof(want), "%s: %s", p45, cases[i].why);
		check_reopen_snap(&fx, dir, SMALL_SEG, &model, 40, 100,
				  cases[i].what);
		tap_ok(strstr(fx.warn, want) &&
		       strstr(fx.warn, "; skipped this snapshot") &&
		       file_size(p45) >= 0,
		       "%s: skipped with a warning, the file left: %s",
		       cases[i].what, fx.warn);
		fx_close(&fx);
		file_store(p45, b45, l45);
	}

	err = fx_open(&fx, dir, SMALL_SEG);
	err = err ? err : snapshot_save(fx.s, 70, 1);
	fx_close(&fx);
	tap_ok(!err && file_size(p40) < 0 && file_size(p45) < 0 &&
	       seg_exists(dir, 67) && !seg_exists(dir, 34),
	       "snapshot 70 unlinks 40, 45 and segs 1, 34: %d", err);
	flip_in_data(p70);
	sn = snap_take(dir);
	err = fx_open(&fx, dir, SMALL_SEG);
	snprintf(want, sizeof(want), "%s/seg-%016x.log: entries 1..66 are missing: the log starts at index 67 and there is no valid snapshot; refusing to start",
		 dir, 67);
	tap_ok(err == -EUCLEAN && strstr(fx.err, want) &&
	       strstr(fx.warn, "crc mismatch; skipped") && !fx.log.snaps &&
	       !fx.log.n && snap_same(&sn, dir),
	       "snapshot 70 damaged, no other: refused naming the gap, files untouched: %d %s",
	       err, fx.err);
	fx_close(&fx);
	file_store(p40, b40, l40);
	err = fx_open(&fx, dir, SMALL_SEG);
	tap_ok(err == -EUCLEAN &&
	       strstr(fx.err, "entries 41..66 are missing: the log starts at index 67 and the snapshot ends at 40"),
	       "with an older valid one (40) that does not reach the log: refused: %d %s",
	       err, fx.err);
	fx_close(&fx);
out:
	free(b40);
	free(b45);
}

/* Builds dir with entries 1..n1 of term 1, n1 + 1..n2 of term 2. */
static bool build_terms(struct fixture *f, struct model *m, const char *dir,
			uint64_t n1, uint64_t n2)
{
	int err;

	memset(m, 0, sizeof(*m));
	err = fx_open(f, dir, SMALL_SEG);
	err = err ? err : model_append(f->s, m, n1, 1, 100, 5);
	err = err ? err : model_append(f->s, m, n2, 2, 100, 5);
	err = err ? err : rstore_sync(f->s);
	if (err)
		tap_diag("building %s: %d %s", dir, err, f->err);
	fx_close(f);
	return !err;
}

/* Snapshot 80 of term 1 copied in: a crash in rstore_recv_finish(). */
static void test_snap_install_crash(void)
{
	static const uint64_t only81[] = { 81 };
	static const struct {
		const char *what;
		uint64_t n1, n2;	/* the log there: terms 1, then 2 */
		bool dropped;		/* the log replaced by seg 81 */
		const char *warn;
	} cases[] = {
		{ "a log ending before the snapshot", 60, 60, true,
		  "the log ends at index 60, before snapshot snap-0000000000000050-0000000000000001.snap (a crash in a snapshot install, or before the log was synced): dropped the log" },
		{ "a log of another term at the snapshot's index", 50, 90, true,
		  "seg-0000000000000043.log: entry 80 has term 2, the snapshot's is 1: the log does not go on from the snapshot" },
		{ "no log at all", 0, 0, true, NULL },
		{ "a log going on from the snapshot", 90, 90, false, NULL },
	};
	char leader[128], dir[128], from[PATH_LEN], to[PATH_LEN];
	const char *why;
	size_t i;
	int err;

	snprintf(leader, sizeof(leader), "%s", scratch("install-crash-leader"));
	snprintf(dir, sizeof(dir), "%s", scratch("install-crash"));
	if (!store_build(leader, SMALL_SEG, 100, 100) ||
	    fx_open(&fx, leader, SMALL_SEG))
		return;
	err = snapshot_save(fx.s, 80, 1);
	fx_close(&fx);
	snap_file(from, leader, 80, 1);
	snap_file(to, dir, 80, 1);
	for (i = 0; !err && i < ARRAY_SIZE(cases); i++) {
		rm_tree(dir);
		if (!tap_ok(build_terms(&fx2, &model2, dir, cases[i].n1,
					cases[i].n2) && file_copy(from, to),
			    "a log of %" PRIu64 " entries, snapshot 80 copied in",
			    cases[i].n2))
			break;
		err = fx_open(&fx2, dir, SMALL_SEG);
		why = err ? fx2.err : snapshot_differs(&fx2.log, 80, 1);
		if (!why && cases[i].dropped &&
		    (fx2.log.n || rstore_last_index(fx2.s) != 80 ||
		     !segs_are(dir, only81, 1)))
			why = "the log is not just an empty seg 81";
		if (!why && !cases[i].dropped)
			why = loaded_range_differs(&fx2.log, &model2, 81, 90);
		if (!why && (cases[i].warn ? !strstr(fx2.warn, cases[i].warn) :
					     !!fx2.warn[0]))
			why = fx2.warn[0] ? fx2.warn : "no warning";
		tap_ok(!why, "snapshot 80 over %s: loaded, the log %s: %s",
		       cases[i].what, cases[i].dropped ? "dropped" : "kept",
		       why ? why : fx2.warn);
		if (cases[i].dropped)
			model2.last = 80;
		err = err ? err : model_append(fx2.s, &model2, 95, 3, 100, 4);
		err = err ? err : rstore_sync(fx2.s);
		check_reopen_snap(&fx2, dir, SMALL_SEG, &model2, 80, 95,
				  "then 95 appended");
		fx_close(&fx2);
	}
}

static void test_snap_read(void)
{
	const char *dir = scratch("snap-read");
	char path[PATH_LEN];
	uint8_t *file, *got, buf[1000];
	uint64_t off = 0;
	size_t len = 0;
	ssize_t n = 0;
	bool same;
	int err;

	if (!store_build(dir, SMALL_SEG, 100, 100) ||
	    fx_open(&fx, dir, SMALL_SEG))
		return;
	n = rstore_snapshot_read(fx.s, 50, 0, buf, sizeof(buf));
	tap_ok(n == -ENOENT, "no snapshot to read: %zd", n);
	err = snapshot_save(fx.s, 50, 1);
	snap_file(path, dir, 50, 1);
	file = file_load(path, &len);
	got = calloc(1, len + 1);
	while (!err && file && (n = rstore_snapshot_read(fx.s, 50, off, buf,
							 sizeof(buf) - 7)) > 0) {
		if (off + n > len)
			break;
		memcpy(got + off, buf, n);
		off += n;
	}
	same = file && off == len && !memcmp(got, file, len);
	tap_ok(!err && n == 0 && same && len == snapshot_bytes(50),
	       "snapshot 50 read in chunks of 993 bytes: the file verbatim, %zu bytes, then 0: %zd",
	       len, n);
	n = rstore_snapshot_read(fx.s, 50, len + 10, buf, sizeof(buf));
	tap_ok(n == 0, "past the end: 0: %zd", n);
	n = rstore_snapshot_read(fx.s, 50, len - 3, buf, sizeof(buf));
	tap_ok(n == 3 && file && !memcmp(buf, file + len - 3, 3),
	       "the last 3 bytes: %zd", n);
	err = snapshot_save(fx.s, 60, 1);
	n = rstore_snapshot_read(fx.s, 50, 0, buf, sizeof(buf));
	tap_ok(!err && n == -ESTALE &&
	       strstr(rstore_error(fx.s), "snapshot 50 is gone"),
	       "after snapshot 60, reading 50: -ESTALE: %zd %s", n,
	       rstore_error(fx.s));
	n = rstore_snapshot_read(fx.s, 60, 0, buf, sizeof(buf));
	tap_ok(n == sizeof(buf), "and 60 reads: %zd", n);
	free(file);
	free(got);
	fx_close(&fx);
}

/*
 * Sends leader's snapshot at lindex, bytes from..to, to f as (index, term)
 * in chunks, byte flip (-1: none) flipped.
 */
static int transfer(struct rstore *leader, uint64_t lindex, struct rstore *f,
		    uint64_t index, uint64_t term, uint64_t from, uint64_t to,
		    size_t chunk, long flip)
{
	uint8_t buf[4096];
	uint64_t off = from;
	ssize_t n;
	int err = 0;

	while (!err && off < to) {
		n = rstore_snapshot_read(leader, lindex, off, buf,
					 chunk < to - off ? chunk : to - off);
		if (n <= 0)
			return n ? (int)n : -ENODATA;
		if (flip >= (long)off && flip < (long)off + n)
			buf[flip - off] ^= 0x20;
		err = rstore_recv_write(f, index, term, off, buf, n);
		off += n;
	}
	return err;
}

static bool recv_at(struct rstore *s, uint64_t index, uint64_t term,
		    uint64_t offset)
{
	uint64_t i, t, o;

	return !rstore_recv_state(s, &i, &t, &o) && i == index && t == term &&
	       o == offset;
}

static void recv_part(char *buf, const char *dir, uint64_t index,
		      uint64_t term)
{
	snprintf(buf, PATH_LEN, "%s/recv-%016" PRIx64 "-%016" PRIx64 ".part",
		 dir, index, term);
}

/* What the follower got from rstore_recv_finish(). */
static struct loaded got;

/* The follower (fx, 1..50) refuses what is not leader's snapshot 80. */
static void test_recv_refused(struct rstore *leader, const char *dir,
			      uint64_t total)
{
	const char *other = scratch("recv-other-cluster");
	struct rstore *x = NULL;
	struct rstore_meta meta;
	struct model m = { 0 };
	uint64_t xtotal = 0;
	int e1, e2, err;

	err = rstore_open(other, CLUSTER + 1, 1, SMALL_SEG, NULL, NULL, &x,
			  &meta, NULL, 0, NULL, 0);
	err = err ? err : model_append(x, &m, 20, 1, 10, 4);
	err = err ? err : snapshot_save(x, 20, 1);
	err = err ? err : rstore_snapshot_info(x, NULL, NULL, &xtotal);
	err = err ? err : transfer(x, 20, fx.s, 20, 1, 0, xtotal, 1000, -1);
	e1 = err ? err : rstore_recv_finish(fx.s, xtotal, collect_snap, &got);
	tap_ok(e1 == -EBADMSG &&
	       strstr(rstore_error(fx.s), "recv-0000000000000014-0000000000000001.part: of cluster 0xc0ffee012345678a, not 0xc0ffee0123456789; unlinked it") &&
	       rstore_recv_state(fx.s, NULL, NULL, NULL) == -ENOENT &&
	       !count_files(dir, "recv-") && !count_files(dir, "snap-") &&
	       !got.snaps && rstore_last_index(fx.s) == 50,
	       "a snapshot of another cluster: -EBADMSG, unlinked, nothing installed: %d %s",
	       e1, rstore_error(fx.s));
	rstore_close(x);

	err = transfer(leader, 80, fx.s, 80, 1, 0, total, 1000, 5000);
	e1 = err ? err : rstore_recv_finish(fx.s, total, collect_snap, &got);
	tap_ok(e1 == -EBADMSG && strstr(rstore_error(fx.s), ".part: crc mismatch; unlinked it") &&
	       !count_files(dir, "recv-") && !count_files(dir, "snap-") &&
	       !got.snaps && rstore_last_index(fx.s) == 50,
	       "byte 5000 flipped on the way: -EBADMSG, unlinked, nothing installed: %d %s",
	       e1, rstore_error(fx.s));

	err = transfer(leader, 80, fx.s, 80, 1, 0, total, 1000, 40);
	e1 = err ? err : rstore_recv_finish(fx.s, total, collect_snap, &got);
	tap_ok(e1 == -EBADMSG && strstr(rstore_error(fx.s), "header crc mismatch"),
	       "byte 40 (the data length) flipped: -EBADMSG: %d %s", e1,
	       rstore_error(fx.s));

	err = transfer(leader, 80, fx.s, 81, 1, 0, total, 1000, -1);
	e1 = err ? err : rstore_recv_finish(fx.s, total, collect_snap, &got);
	tap_ok(e1 == -EBADMSG &&
	       strstr(rstore_error(fx.s), "the header says index 80 term 1, the name 81 1"),
	       "snapshot 80 received as 81: -EBADMSG: %d %s", e1,
	       rstore_error(fx.s));

	err = transfer(leader, 80, fx.s, 80, 1, 0, total, 1000, -1);
	e2 = err ? err : rstore_recv_finish(fx.s, total + 1, NULL, NULL);
	e1 = err ? err : rstore_recv_finish(fx.s, total - 1, NULL, NULL);
	tap_ok(e2 == -ERANGE && e1 == -EBADMSG &&
	       strstr(rstore_error(fx.s), "bytes, not") && !got.snaps &&
	       !count_files(dir, "recv-") && !count_files(dir, "snap-"),
	       "finishing before the end: -ERANGE (%d); with more bytes than the total: -EBADMSG (%d) %s",
	       e2, e1, rstore_error(fx.s));
}

/* Leader (node 1): 120 entries, snapshot 80; follower (node 2): 1..50. */
static void test_recv(void)
{
	static const uint64_t only81[] = { 81 };
	char ldir[128], dir[128], path[PATH_LEN], lpath[PATH_LEN], p79[PATH_LEN];
	uint8_t *mine = NULL, *theirs = NULL;
	size_t len = 0, llen = 0;
	uint64_t total = snapshot_bytes(80), i, t, o;
	struct rstore *leader;
	uint8_t ten[10] = { 0 };
	int e1, e2, err;

	snprintf(ldir, sizeof(ldir), "%s", scratch("recv-leader"));
	snprintf(dir, sizeof(dir), "%s", scratch("recv-follower"));
	memset(&model2, 0, sizeof(model2));
	err = fx_open_as(&fx2, ldir, CLUSTER, 1, SMALL_SEG);
	err = err ? err : model_append(fx2.s, &model2, 120, 1, 100, 8);
	err = err ? err : snapshot_save(fx2.s, 80, 1);
	if (err || !store_build(dir, SMALL_SEG, 50, 100) ||
	    fx_open(&fx, dir, SMALL_SEG)) {
		tap_ok(false, "recv: setting up: %d %s", err, fx2.err);
		fx_close(&fx2);
		return;
	}
	leader = fx2.s;
	e1 = rstore_recv_state(fx.s, &i, &t, &o);
	tap_ok(e1 == -ENOENT, "nothing being received: %d", e1);
	test_recv_refused(leader, dir, total);

	recv_part(path, dir, 80, 1);
	recv_part(p79, dir, 79, 1);
	err = transfer(leader, 80, fx.s, 80, 1, 0, 500, 100, -1);
	e1 = rstore_recv_write(fx.s, 79, 1, 100, ten, sizeof(ten));
	tap_ok(!err && e1 == -ERANGE && recv_at(fx.s, 79, 1, 0) &&
	       file_size(path) < 0 && file_size(p79) == 0,
	       "500 bytes of (80, 1), then a chunk of (79, 1) at 100: -ERANGE, and the part restarts at (79, 1, 0): %d %d",
	       err, e1);
	e1 = rstore_recv_write(fx.s, 79, 1, 0, ten, sizeof(ten));
	err = transfer(leader, 80, fx.s, 80, 1, 0, 30, 1000, -1);
	tap_ok(!e1 && !err && recv_at(fx.s, 80, 1, 30) && file_size(p79) < 0,
	       "10 bytes of 79, then 30 of 80: back to (80, 1, 30): %d %d",
	       e1, err);

	fx_close(&fx);
	err = fx_open(&fx, dir, SMALL_SEG);
	tap_ok(!err && recv_at(fx.s, 80, 1, 30) && !fx.warn[0] &&
	       !loaded_differs(&fx.log, &model, 50),
	       "reopened mid-header: receiving (80, 1) at 30, the log 1..50: %d %s",
	       err, fx.err);
	if (err)
		goto out;
	e1 = rstore_recv_write(fx.s, 80, 1, 20, ten, sizeof(ten));
	e2 = rstore_recv_write(fx.s, 80, 1, 31, ten, sizeof(ten));
	tap_ok(e1 == -ERANGE && e2 == -ERANGE && recv_at(fx.s, 80, 1, 30) &&
	       file_size(path) == 30 &&
	       strstr(rstore_error(fx.s), "a chunk at offset 31, but 30 bytes are received"),
	       "chunks at 20 and 31: -ERANGE, nothing written: %d %d %s", e1,
	       e2, rstore_error(fx.s));
	err = transfer(leader, 80, fx.s, 80, 1, 30, 7000, 1000, -1);
	fx_close(&fx);
	err = err ? err : fx_open(&fx, dir, SMALL_SEG);
	tap_ok(!err && recv_at(fx.s, 80, 1, 7000),
	       "7000 bytes, reopened: receiving (80, 1) at 7000: %d %s", err,
	       fx.err);
	if (err)
		goto out;
	e1 = rstore_recv_finish(fx.s, total, collect_snap, &got);
	err = transfer(leader, 80, fx.s, 80, 1, 7000, total, 4096, -1);
	e2 = err ? err : rstore_recv_finish(fx.s, total, collect_snap, &got);
	snap_file(path, dir, 80, 1);
	snap_file(lpath, ldir, 80, 1);
	mine = file_load(path, &len);
	theirs = file_load(lpath, &llen);
	tap_ok(e1 == -ERANGE && !e2 && !snapshot_differs(&got, 80, 1) &&
	       got.snaps == 1,
	       "finishing at 7000: -ERANGE (%d); at %" PRIu64 ": the snapshot handed over: %d %s",
	       e1, total, e2, e2 ? rstore_error(fx.s) : "");
	tap_ok(mine && theirs && len == llen && !memcmp(mine, theirs, len) &&
	       !count_files(dir, "recv-") && count_files(dir, "snap-") == 1 &&
	       rstore_recv_state(fx.s, NULL, NULL, NULL) == -ENOENT &&
	       !rstore_snapshot_info(fx.s, &i, &t, &o) && i == 80 && t == 1 &&
	       o == total,
	       "the leader's snapshot file, byte for byte, %zu bytes; no part left",
	       len);
	tap_ok(rstore_last_index(fx.s) == 80 && segs_are(dir, only81, 1),
	       "the follower's log replaced by an empty seg 81: last index %" PRIu64,
	       rstore_last_index(fx.s));
	e1 = rstore_recv_write(fx.s, 80, 1, 0, ten, sizeof(ten));
	tap_ok(e1 == -ESTALE, "receiving snapshot 80 again: -ESTALE: %d", e1);
	model.last = 80;
	err = model_append(fx.s, &model, 90, 2, 100, 3);
	err = err ? err : rstore_sync(fx.s);
	tap_ok(!err, "appending 81..90: %d", err);
	check_reopen_snap(&fx, dir, SMALL_SEG, &model, 80, 90,
			  "after a received snapshot");
	if (!fx.s)
		goto out;
	err = transfer(leader, 80, fx.s, 85, 1, 0, 100, 100, -1);
	err = err ? err : snapshot_save(fx.s, 88, 2);
	e1 = err ? err : rstore_recv_finish(fx.s, 100, NULL, NULL);
	tap_ok(e1 == -ESTALE && !count_files(dir, "recv-") &&
	       rstore_recv_state(fx.s, NULL, NULL, NULL) == -ENOENT,
	       "100 bytes of a snapshot 85, then a snapshot of our own at 88: finishing 85 is -ESTALE, the part unlinked: %d %s",
	       e1, rstore_error(fx.s));
out:
	free(mine);
	free(theirs);
	loaded_free(&got);
	fx_close(&fx);
	fx_close(&fx2);
}

static int write_text(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -EIO;
}

/* Mounts of our own: as root a mount namespace, else a user one too. */
static int private_mounts(void)
{
	char map[64];
	int err;

	if (geteuid() == 0) {
		if (unshare(CLONE_NEWNS) < 0)
			return -errno;
	} else {
		snprintf(map, sizeof(map), "0 %u 1", (unsigned int)geteuid());
		if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0)
			return -errno;
		err = write_text("/proc/self/uid_map", map);
		snprintf(map, sizeof(map), "0 %u 1", (unsigned int)getegid());
		if (!err)
			err = write_text("/proc/self/setgroups", "deny");
		if (!err)
			err = write_text("/proc/self/gid_map", map);
		if (err)
			return err;
	}
	return mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) < 0 ?
	       -errno : 0;
}

/* Writes up to len bytes (0: until the disk is full) to a new file. */
static void fill(const char *path, size_t len)
{
	char chunk[1024];
	size_t done = 0;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	memset(chunk, 0x77, sizeof(chunk));
	while (fd >= 0 && (!len || done < len) &&
	       write(fd, chunk, sizeof(chunk)) == sizeof(chunk))
		done += sizeof(chunk);
	if (fd >= 0)
		close(fd);
}

static void test_full_disk(const char *mnt)
{
	char dir[128], filler[PATH_LEN], path[PATH_LEN];
	uint64_t synced = 0;
	int e1, e2, e3, e4, err;

	path_of(dir, mnt, "store");
	path_of(filler, mnt, "filler");
	fill(filler, 16384);
	memset(&model, 0, sizeof(model));
	err = fx_open(&fx, dir, 0);
	while (!err) {
		err = model_append(fx.s, &model, model.last + 1, 1, 1000, 1);
		if (!err && model.last % 4 == 0)
			err = rstore_sync(fx.s);
		if (!err && model.last % 4 == 0)
			synced = model.last;
	}
	tap_ok(err == -ENOSPC && fx.s &&
	       strstr(rstore_error(fx.s), "/seg-0000000000000001.log: write: No space left on device"),
	       "appending to a full disk: -ENOSPC after %" PRIu64 " entries: %d %s",
	       model.last, err, fx.s ? rstore_error(fx.s) : fx.err);
	if (!fx.s)
		return;
	e1 = rstore_sync(fx.s);
	e2 = rstore_save_meta(fx.s, 2, 1);
	e3 = model_append(fx.s, &model, model.last + 1, 1, 0, 1);
	e4 = rstore_truncate(fx.s, 1);
	tap_ok(e1 == -ENOSPC && e2 == -ENOSPC && e3 == -ENOSPC && e4 == -ENOSPC,
	       "then sync, save_meta, append, truncate return -ENOSPC too: %d %d %d %d",
	       e1, e2, e3, e4);
	fx_close(&fx);
	unlink(filler);
	err = fx_open(&fx, dir, 0);
	tap_ok(!err && fx.log.n >= synced && fx.log.n <= model.last &&
	       !loaded_differs(&fx.log, &model, fx.log.n) && !fx.warn[0],
	       "space freed, reopened: %" PRIu64 " entries (%" PRIu64 " synced, %" PRIu64 " appended), a prefix: %d %s",
	       fx.log.n, synced, model.last, err, fx.err);
	if (err)
		return;
	model.last = fx.log.n;
	err = model_append(fx.s, &model, model.last + 4, 2, 1000, 2);
	err = err ? err : rstore_sync(fx.s);
	err = err ? err : rstore_save_meta(fx.s, 5, 1);
	tap_ok(!err, "and 4 more appended and synced, meta saved: %d %s", err,
	       rstore_error(fx.s));

	fill(filler, 0);
	err = rstore_save_meta(fx.s, 7, 2);
	path_of(path, dir, "meta.tmp");
	tap_ok(err == -ENOSPC && file_size(path) < 0 &&
	       strstr(rstore_error(fx.s), "/meta.tmp: write: No space left on device"),
	       "saving meta on a full disk: -ENOSPC, no meta.tmp left: %d %s",
	       err, rstore_error(fx.s));
	fx_close(&fx);
	unlink(filler);
	err = fx_open(&fx, dir, 0);
	tap_ok(!err && fx.meta.term == 5 && fx.meta.vote == 1 &&
	       !loaded_differs(&fx.log, &model, model.last),
	       "reopened: the meta saved before, the log whole: %d %s", err,
	       fx.err);
	fx_close(&fx);
}

/* A snapshot that does not fit breaks nothing. */
static void test_snap_full_disk(const char *mnt)
{
	char dir[128], filler[PATH_LEN], path[PATH_LEN];
	uint64_t index = 0;
	int e1, e2, err;

	path_of(dir, mnt, "store");
	path_of(filler, mnt, "filler");
	rm_tree(dir);
	memset(&model, 0, sizeof(model));
	err = fx_open(&fx, dir, 0);
	err = err ? err : model_append(fx.s, &model, 20, 1, 100, 5);
	err = err ? err : rstore_sync(fx.s);
	err = err ? err : snapshot_save(fx.s, 10, 1);
	if (!tap_ok(!err, "snapshot 10 of 20 entries on the tmpfs: %d %s", err,
		    fx.s ? rstore_error(fx.s) : fx.err))
		goto out;
	fill(filler, 0);
	e1 = snapshot_save(fx.s, 15, 1);
	path_of(path, dir, "snap-000000000000000f-0000000000000001.tmp");
	e2 = rstore_snapshot_info(fx.s, &index, NULL, NULL);
	tap_ok(e1 == -ENOSPC && !e2 && index == 10 && file_size(path) < 0 &&
	       strstr(rstore_error(fx.s), ".tmp: write: No space left on device"),
	       "snapshot 15 on a full disk: -ENOSPC, no tmp file left, snapshot 10 current: %d %s",
	       e1, rstore_error(fx.s));
	unlink(filler);
	err = model_append(fx.s, &model, 21, 1, 100, 1);
	err = err ? err : rstore_sync(fx.s);
	err = err ? err : snapshot_save(fx.s, 15, 1);
	tap_ok(!err, "space freed: the store was not broken, append, sync and snapshot 15 work: %d %s",
	       err, err ? rstore_error(fx.s) : "");
	check_reopen_snap(&fx, dir, 0, &model, 15, 21, "then");
out:
	fx_close(&fx);
}

/* Last: it leaves the process in a mount namespace of its own. */
static void test_enospc(void)
{
	const char *mnt = scratch("tmpfs");
	int err;

	mkdir(mnt, 0755);
	err = private_mounts();
	if (!err && mount("none", mnt, "tmpfs", 0, "size=64k") < 0)
		err = -errno;
	if (!tap_ok(!err, "a 64 KiB tmpfs in a mount namespace of our own: %s",
		    strerror(-err)))
		return;
	test_full_disk(mnt);
	test_snap_full_disk(mnt);
	if (umount(mnt) < 0)
		tap_diag("umount %s: %s", mnt, strerror(errno));
}

int main(void)
{
	size_t i;

	printf("TAP version 13\n");
	snprintf(base, sizeof(base), "/tmp/test_raft_storage.XXXXXX");
	if (!mkdtemp(base)) {
		printf("not ok 1 - mkdtemp %s: %s\n1..1\n", base,
		       strerror(errno));
		return 1;
	}
	test_crc32c();
	test_round_trip();
	test_meta();
	test_identity();
	test_bad_calls();
	test_rolling();
	test_truncate();
	for (i = 0; i < ARRAY_SIZE(torn_cases); i++)
		test_torn_case(&torn_cases[i]);
	test_torn_alone();
	for (i = 0; i < ARRAY_SIZE(corrupt_cases); i++)
		test_corrupt_case(&corrupt_cases[i]);
	test_segment_set();
	test_meta_corrupt();
	test_sync_fails();
	test_snap_save();
	test_snap_crash();
	test_snap_corrupt();
	test_snap_install_crash();
	test_snap_read();
	test_recv();
	test_enospc();
	loaded_free(&fx.log);
	loaded_free(&fx2.log);
	rm_tree(base);
	return tap_done();
}
