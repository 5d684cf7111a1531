// SPDX-License-Identifier: GPL-2.0
/*
 * Raft storage: the meta file and the log segments of one node.
 *
 * Every integer is little-endian.
 *
 * meta, 40 bytes, replaced whole: written to meta.tmp, fsync'd, renamed
 * over meta, then the directory fsync'd.
 *	 0  8  "LRAFTMET"
 *	 8  4  version, 1
 *	12  8  cluster_id
 *	20  4  node_id
 *	24  8  term
 *	32  4  vote (0 = none)
 *	36  4  crc32c of bytes 0..35
 *
 * seg-<index of its first record, 16 lowercase hex digits>.log: records
 * back to back, no file header.  A record is a 24-byte header and a
 * payload of len bytes, 25 to 1305 bytes in all:
 *	 0  4  len: payload bytes, 1 + data bytes (1..1 + RAFT_ENTRY_DATA_MAX)
 *	 4  4  crc32c of bytes 8..24 + len - 1 (term, index, payload)
 *	 8  8  term
 *	16  8  index
 *	24  1  type                        (payload)
 *	25  len - 1  data                  (payload)
 * A zero len is never valid, so zeros never read as a record.
 *
 * At open, the first bad record of the last segment is a torn tail, cut
 * off, if the file ends inside it, or if nothing but zeros follows its end
 * (the end of the file included), or if it and all after it are zeros.
 * Any other bad record refuses the open: the log is damaged.
 *
 * Orderings that keep a crash harmless:
 * - a segment is fdatasync'd before the next one is created, so only the
 *   last segment can end in a half-written (torn) record;
 * - a truncation unlinks the later segments and fsyncs the directory before
 *   it cuts the segment it ends in, and makes that cut durable before
 *   anything is appended over it: after a crash the log is a prefix of the
 *   old one, never old records behind new ones.
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crc32c.h"
#include "storage.h"

#define META_MAGIC	"LRAFTMET"
#define META_VERSION	1
#define META_BYTES	40

#define REC_HDR		24
#define REC_PAYLOAD_MAX	(1 + RAFT_ENTRY_DATA_MAX)
#define REC_MAX		(REC_HDR + REC_PAYLOAD_MAX)

#define SEG_NAME_LEN	sizeof("seg-0123456789abcdef.log")
/* Records are written in chunks of at most this many bytes. */
#define WBUF_BYTES	65536

struct rseg {
	uint64_t first;		/* index of its first record */
	uint64_t size;		/* bytes, whole records only */
	int fd;			/* write end, -1 when closed */
	bool dirty;		/* written since its last fdatasync */
};

/* Where an entry is: its segment is the last one starting at or before it. */
struct rpos {
	uint64_t off;
	uint64_t term;
};

struct rstore {
	char *dir;
	int dirfd;
	uint32_t segment_bytes;
	struct rstore_meta meta;
	struct rseg *segs;
	size_t nsegs;
	size_t segs_cap;
	struct rpos *pos;	/* pos[i] is entry i + 1's */
	size_t pos_cap;
	uint64_t last;		/* index of the last entry, 0 if none */
	bool dir_dirty;		/* segments created since the last fsync */
	int broken;		/* the failure that broke the store, or 0 */
	uint8_t *wbuf;
	char errmsg[512];
};

static void put_le32(uint8_t *p, uint32_t v)
{
	int i;

	for (i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put_le64(uint8_t *p, uint64_t v)
{
	put_le32(p, (uint32_t)v);
	put_le32(p + 4, (uint32_t)(v >> 32));
}

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 |
	       (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get_le64(const uint8_t *p)
{
	return get_le32(p) | (uint64_t)get_le32(p + 4) << 32;
}

__attribute__((format(printf, 3, 4)))
static int fail(struct rstore *s, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->errmsg, sizeof(s->errmsg), fmt, ap);
	va_end(ap);
	return err;
}

/* op on file (NULL: the directory) failed with err, which breaks s. */
static int io_fail(struct rstore *s, const char *file, const char *op, int err)
{
	if (file)
		fail(s, err, "%s/%s: %s: %s", s->dir, file, op, strerror(-err));
	else
		fail(s, err, "%s: %s: %s", s->dir, op, strerror(-err));
	s->broken = err;
	return err;
}

static void seg_name(char *buf, uint64_t first)
{
	snprintf(buf, SEG_NAME_LEN, "seg-%016" PRIx64 ".log", first);
}

/* Only the canonical spelling counts: the name must round-trip. */
static bool seg_name_parse(const char *name, uint64_t *first)
{
	char canon[SEG_NAME_LEN];

	if (strlen(name) != SEG_NAME_LEN - 1 ||
	    sscanf(name, "seg-%16" SCNx64 ".log", first) != 1)
		return false;
	seg_name(canon, *first);
	return !strcmp(canon, name);
}

/* Bytes read, fewer than len only at end of file, or -errno. */
static ssize_t pread_upto(int fd, void *buf, size_t len, off_t off)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = pread(fd, (uint8_t *)buf + done, len - done, off + done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		done += n;
	}
	return done;
}

static int pwrite_full(int fd, const void *buf, size_t len, off_t off)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = pwrite(fd, (const uint8_t *)buf + done, len - done,
			   off + done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		done += n;
	}
	return 0;
}

static int sync_dir(struct rstore *s)
{
	if (fsync(s->dirfd) < 0)
		return io_fail(s, NULL, "fsync", -errno);
	s->dir_dirty = false;
	return 0;
}

static uint64_t last_term(const struct rstore *s)
{
	return s->last ? s->pos[s->last - 1].term : 0;
}

static int pos_reserve(struct rstore *s, uint64_t count)
{
	size_t cap = s->pos_cap ? s->pos_cap : 1024;
	struct rpos *pos;

	if (count <= s->pos_cap)
		return 0;
	while (cap < count)
		cap *= 2;
	pos = realloc(s->pos, cap * sizeof(*pos));
	if (!pos)
		return fail(s, -ENOMEM, "%s: out of memory for the log index",
			    s->dir);
	s->pos = pos;
	s->pos_cap = cap;
	return 0;
}

/* Records entry s->last + 1, with room already reserved. */
static void pos_add(struct rstore *s, uint64_t off, uint64_t term)
{
	s->pos[s->last].off = off;
	s->pos[s->last].term = term;
	s->last++;
}

static int segs_reserve(struct rstore *s, size_t count)
{
	size_t cap = s->segs_cap ? s->segs_cap * 2 : 16;
	struct rseg *segs;

	if (count <= s->segs_cap)
		return 0;
	if (cap < count)
		cap = count;
	segs = realloc(s->segs, cap * sizeof(*segs));
	if (!segs)
		return fail(s, -ENOMEM, "%s: out of memory for segments",
			    s->dir);
	s->segs = segs;
	s->segs_cap = cap;
	return 0;
}

/* The segment holding index: the last one starting at or before it. */
static size_t seg_find(const struct rstore *s, uint64_t index)
{
	size_t lo = 0, hi = s->nsegs;

	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->segs[mid].first <= index)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

static int seg_open(struct rstore *s, struct rseg *seg)
{
	char name[SEG_NAME_LEN];

	if (seg->fd >= 0)
		return 0;
	seg_name(name, seg->first);
	seg->fd = openat(s->dirfd, name, O_WRONLY | O_CLOEXEC);
	if (seg->fd < 0)
		return io_fail(s, name, "open", -errno);
	return 0;
}

static void seg_close(struct rseg *seg)
{
	if (seg->fd >= 0)
		close(seg->fd);
	seg->fd = -1;
}

static int seg_flush(struct rstore *s, struct rseg *seg)
{
	char name[SEG_NAME_LEN];

	if (!seg->dirty)
		return 0;
	if (fdatasync(seg->fd) < 0) {
		seg_name(name, seg->first);
		return io_fail(s, name, "fdatasync", -errno);
	}
	seg->dirty = false;
	return 0;
}

/* Cuts off a partial write; if this fails, a reopen cuts it as torn. */
static bool seg_untear(struct rseg *seg)
{
	return ftruncate(seg->fd, seg->size) == 0;
}

/* Cuts seg to size bytes, durably. */
static int seg_cut(struct rstore *s, struct rseg *seg, uint64_t size)
{
	char name[SEG_NAME_LEN];
	int err = seg_open(s, seg);

	if (err)
		return err;
	seg_name(name, seg->first);
	if (ftruncate(seg->fd, size) < 0)
		return io_fail(s, name, "ftruncate", -errno);
	seg->dirty = true;
	seg->size = size;
	return seg_flush(s, seg);
}

/* ---- meta ---- */

static void meta_encode(uint8_t *p, const struct rstore_meta *m)
{
	memcpy(p, META_MAGIC, 8);
	put_le32(p + 8, META_VERSION);
	put_le64(p + 12, m->cluster_id);
	put_le32(p + 20, m->node_id);
	put_le64(p + 24, m->term);
	put_le32(p + 32, m->vote);
	put_le32(p + 36, crc32c(0, p, 36));
}

static int meta_decode(struct rstore *s, const uint8_t *p, ssize_t len)
{
	if (len > META_BYTES)
		return fail(s, -EUCLEAN, "%s/meta: longer than %d bytes; refusing to start",
			    s->dir, META_BYTES);
	if (len < META_BYTES)
		return fail(s, -EUCLEAN, "%s/meta: %zd bytes, not %d; refusing to start",
			    s->dir, len, META_BYTES);
	if (memcmp(p, META_MAGIC, 8) || get_le32(p + 36) != crc32c(0, p, 36))
		return fail(s, -EUCLEAN, "%s/meta: corrupt (%s); refusing to start",
			    s->dir, memcmp(p, META_MAGIC, 8) ? "bad magic" :
			    "crc mismatch");
	if (get_le32(p + 8) != META_VERSION)
		return fail(s, -EPROTONOSUPPORT, "%s/meta: version %" PRIu32 ", this program knows %d",
			    s->dir, get_le32(p + 8), META_VERSION);
	s->meta.cluster_id = get_le64(p + 12);
	s->meta.node_id = get_le32(p + 20);
	s->meta.term = get_le64(p + 24);
	s->meta.vote = get_le32(p + 32);
	return 0;
}

/* Reads meta into s->meta: 1 if read, 0 if there is none, or an error. */
static int meta_load(struct rstore *s)
{
	uint8_t buf[META_BYTES + 1];
	ssize_t len;
	int fd, err;

	fd = openat(s->dirfd, "meta", O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0)
		return io_fail(s, "meta", "open", -errno);
	len = pread_upto(fd, buf, sizeof(buf), 0);
	close(fd);
	if (len < 0)
		return io_fail(s, "meta", "read", (int)len);
	err = meta_decode(s, buf, len);
	return err ? err : 1;
}

static int meta_store(struct rstore *s, const struct rstore_meta *m)
{
	uint8_t buf[META_BYTES];
	const char *op = "write";
	int fd, err;

	meta_encode(buf, m);
	fd = openat(s->dirfd, "meta.tmp",
		    O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return io_fail(s, "meta.tmp", "open", -errno);
	err = pwrite_full(fd, buf, sizeof(buf), 0);
	if (!err && fsync(fd) < 0) {
		op = "fsync";
		err = -errno;
	}
	close(fd);
	if (err) {
		unlinkat(s->dirfd, "meta.tmp", 0);
		return io_fail(s, "meta.tmp", op, err);
	}
	if (renameat(s->dirfd, "meta.tmp", s->dirfd, "meta") < 0)
		return io_fail(s, "meta", "rename", -errno);
	err = sync_dir(s);
	if (!err)
		s->meta = *m;
	return err;
}

/* ---- open: the directory, its segments, their records ---- */

static int sync_parent(struct rstore *s)
{
	char *copy = strdup(s->dir);
	int fd, err = 0;

	if (!copy)
		return fail(s, -ENOMEM, "%s: out of memory", s->dir);
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) < 0)
		err = fail(s, -errno, "%s: fsync of its parent: %s", s->dir,
			   strerror(errno));
	if (fd >= 0)
		close(fd);
	free(copy);
	return err;
}

static int dir_open(struct rstore *s)
{
	int err;

	s->dirfd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->dirfd < 0 && errno == ENOENT) {
		if (mkdir(s->dir, 0755) < 0 && errno != EEXIST)
			return io_fail(s, NULL, "mkdir", -errno);
		err = sync_parent(s);
		if (err)
			return err;
		s->dirfd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	if (s->dirfd < 0)
		return io_fail(s, NULL, "open", -errno);
	if (flock(s->dirfd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EWOULDBLOCK)
			return fail(s, -EBUSY, "%s: in use by another process",
				    s->dir);
		return io_fail(s, NULL, "flock", -errno);
	}
	return 0;
}

static int seg_cmp(const void *a, const void *b)
{
	const struct rseg *x = a, *y = b;

	return x->first < y->first ? -1 : x->first > y->first;
}

/* Fills s->segs with the segments found, in index order. */
static int segs_list(struct rstore *s)
{
	struct dirent *de;
	uint64_t first;
	DIR *d;
	int fd, err = 0;

	fd = dup(s->dirfd);
	d = fd < 0 ? NULL : fdopendir(fd);
	if (!d) {
		err = io_fail(s, NULL, "opendir", -errno);
		if (fd >= 0)
			close(fd);
		return err;
	}
	rewinddir(d);
	while (!err && (de = readdir(d))) {
		if (!seg_name_parse(de->d_name, &first))
			continue;
		err = segs_reserve(s, s->nsegs + 1);
		if (!err)
			s->segs[s->nsegs++] = (struct rseg){ .first = first,
							     .fd = -1 };
	}
	closedir(d);
	if (!err && s->nsegs)
		qsort(s->segs, s->nsegs, sizeof(*s->segs), seg_cmp);
	return err;
}

static int seg_read(struct rstore *s, const char *name, uint8_t **buf,
		    uint64_t *size)
{
	struct stat st;
	ssize_t len;
	int fd;

	fd = openat(s->dirfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return io_fail(s, name, "open", -errno);
	if (fstat(fd, &st) < 0) {
		close(fd);
		return io_fail(s, name, "fstat", -errno);
	}
	*size = st.st_size;
	*buf = malloc(*size ? *size : 1);
	if (!*buf) {
		close(fd);
		return fail(s, -ENOMEM, "%s/%s: out of memory for %" PRIu64 " bytes",
			    s->dir, name, *size);
	}
	len = pread_upto(fd, *buf, *size, 0);
	close(fd);
	if (len < 0 || (uint64_t)len != *size) {
		free(*buf);
		return io_fail(s, name, "read", len < 0 ? (int)len : -EIO);
	}
	return 0;
}

static bool all_zero(const uint8_t *p, uint64_t len)
{
	while (len--)
		if (*p++)
			return false;
	return true;
}

/*
 * Checks the record at p, rem bytes before end of file.  If bad, says why
 * and sets *torn if a crash while appending it could explain it.
 */
static bool record_ok(const struct rstore *s, const uint8_t *p, uint64_t rem,
		      char *why, size_t whylen, bool *torn)
{
	uint32_t len;

	*torn = false;
	if (rem < REC_HDR) {
		*torn = true;
		snprintf(why, whylen, "header cut short");
		return false;
	}
	len = get_le32(p);
	if (len == 0 || len > REC_PAYLOAD_MAX) {
		snprintf(why, whylen, "bad length %" PRIu32, len);
		return false;
	}
	if (rem < REC_HDR + len) {
		*torn = true;
		snprintf(why, whylen, "cut short");
		return false;
	}
	if (get_le32(p + 4) != crc32c(0, p + 8, REC_HDR - 8 + len)) {
		/* Zeros after it: blocks allocated but never written. */
		*torn = all_zero(p + REC_HDR + len, rem - REC_HDR - len);
		snprintf(why, whylen, "crc mismatch");
		return false;
	}
	if (get_le64(p + 16) != s->last + 1) {
		snprintf(why, whylen, "index %" PRIu64 ", expected %" PRIu64,
			 get_le64(p + 16), s->last + 1);
		return false;
	}
	if (get_le64(p + 8) < last_term(s)) {
		snprintf(why, whylen, "term %" PRIu64 " after term %" PRIu64,
			 get_le64(p + 8), last_term(s));
		return false;
	}
	return true;
}

/* Indexes the valid record at p, offset off, and hands it to load. */
static int record_load(struct rstore *s, const uint8_t *p, uint64_t off,
		       rstore_load_fn load, void *arg)
{
	struct raft_entry e = {
		.term = get_le64(p + 8),
		.index = get_le64(p + 16),
		.type = p[REC_HDR],
		.len = get_le32(p) - 1,
	};
	int err = pos_reserve(s, s->last + 1);

	if (err)
		return err;
	pos_add(s, off, e.term);
	if (!load)
		return 0;
	if (e.len) {
		e.data = malloc(e.len);
		if (!e.data)
			return fail(s, -ENOMEM, "%s: out of memory", s->dir);
		memcpy(e.data, p + REC_HDR + 1, e.len);
	}
	err = load(arg, &e);
	if (err)
		return fail(s, err, "%s: loading entry %" PRIu64 ": %s",
			    s->dir, e.index, strerror(-err));
	return 0;
}

/* The record at off of seg, the last segment, is torn: cut it off. */
static int record_cut(struct rstore *s, struct rseg *seg, const char *name,
		      uint64_t off, uint64_t size, const char *why,
		      char *warn, size_t warnlen)
{
	int err = seg_cut(s, seg, off);

	seg_close(seg);
	if (err)
		return err;
	if (warn)
		snprintf(warn, warnlen, "%s/%s: torn record at offset %" PRIu64 " (%s), truncated %" PRIu64 " bytes",
			 s->dir, name, off, why, size - off);
	return 0;
}

static int seg_load(struct rstore *s, size_t k, rstore_load_fn load,
		    void *arg, char *warn, size_t warnlen)
{
	struct rseg *seg = &s->segs[k];
	char name[SEG_NAME_LEN], why[96];
	uint64_t size = 0, off = 0;
	uint8_t *buf = NULL;
	bool torn;
	int err;

	seg_name(name, seg->first);
	if (seg->first != s->last + 1)
		return fail(s, -EUCLEAN, "%s/%s: starts at index %" PRIu64 " but the log before it ends at %" PRIu64 "; refusing to start",
			    s->dir, name, seg->first, s->last);
	err = seg_read(s, name, &buf, &size);
	if (err)
		return err;
	while (off < size) {
		if (!record_ok(s, buf + off, size - off, why, sizeof(why),
			       &torn))
			break;
		err = record_load(s, buf + off, off, load, arg);
		if (err)
			goto out;
		off += REC_HDR + get_le32(buf + off);
	}
	seg->size = off;
	if (off == size)
		goto out;
	if (!torn && all_zero(buf + off, size - off)) {
		torn = true;
		snprintf(why, sizeof(why), "zeros to the end of the file");
	}
	if (torn && k + 1 == s->nsegs)
		err = record_cut(s, seg, name, off, size, why, warn, warnlen);
	else
		err = fail(s, -EUCLEAN, "%s/%s: corrupt record at offset %" PRIu64 " (%s); the log before it is intact, refusing to start",
			   s->dir, name, off, why);
out:
	free(buf);
	return err;
}

static int log_load(struct rstore *s, rstore_load_fn load, void *arg,
		    char *warn, size_t warnlen)
{
	size_t k;
	int err;

	for (k = 0; k < s->nsegs; k++) {
		err = seg_load(s, k, load, arg, warn, warnlen);
		if (err)
			return err;
	}
	return 0;
}

static int check_identity(struct rstore *s, uint64_t cluster_id,
			  uint32_t node_id)
{
	if (s->meta.cluster_id == cluster_id && s->meta.node_id == node_id)
		return 0;
	return fail(s, -EEXIST, "%s belongs to cluster 0x%" PRIx64 " node %" PRIu32 ", not cluster 0x%" PRIx64 " node %" PRIu32 "; refusing to touch it",
		    s->dir, s->meta.cluster_id, s->meta.node_id, cluster_id,
		    node_id);
}

static int store_load(struct rstore *s, uint64_t cluster_id, uint32_t node_id,
		      rstore_load_fn load, void *arg, char *warn,
		      size_t warnlen)
{
	struct rstore_meta fresh = { cluster_id, node_id, 0, 0 };
	int err, have_meta;

	err = dir_open(s);
	if (err)
		return err;
	have_meta = meta_load(s);
	if (have_meta < 0)
		return have_meta;
	if (have_meta) {
		err = check_identity(s, cluster_id, node_id);
		if (err)
			return err;
	}
	err = segs_list(s);
	if (err)
		return err;
	if (!have_meta && s->nsegs)
		return fail(s, -EUCLEAN, "%s has log segments but no meta; refusing to start",
			    s->dir);
	err = log_load(s, load, arg, warn, warnlen);
	if (err)
		return err;
	return have_meta ? 0 : meta_store(s, &fresh);
}

int rstore_open(const char *dir, uint64_t cluster_id, uint32_t node_id,
		uint32_t segment_bytes, rstore_load_fn load, void *arg,
		struct rstore **out, struct rstore_meta *meta,
		char *err, size_t errlen, char *warn, size_t warnlen)
{
	struct rstore *s = calloc(1, sizeof(*s));
	int ret;

	if (err && errlen)
		err[0] = '\0';
	if (warn && warnlen)
		warn[0] = '\0';
	if (s) {
		s->dirfd = -1;
		s->segment_bytes = segment_bytes ? segment_bytes :
						   RSTORE_SEGMENT_BYTES;
		s->dir = strdup(dir);
		s->wbuf = malloc(WBUF_BYTES);
	}
	if (!s || !s->dir || !s->wbuf) {
		rstore_close(s);
		if (err && errlen)
			snprintf(err, errlen, "%s: out of memory", dir);
		return -ENOMEM;
	}
	ret = store_load(s, cluster_id, node_id, load, arg, warn, warnlen);
	if (ret) {
		if (err && errlen)
			snprintf(err, errlen, "%s", s->errmsg);
		rstore_close(s);
		return ret;
	}
	*meta = s->meta;
	*out = s;
	return 0;
}

void rstore_close(struct rstore *s)
{
	size_t k;

	if (!s)
		return;
	for (k = 0; k < s->nsegs; k++)
		seg_close(&s->segs[k]);
	if (s->dirfd >= 0)
		close(s->dirfd);
	free(s->segs);
	free(s->pos);
	free(s->wbuf);
	free(s->dir);
	free(s);
}

/* ---- writing ---- */

int rstore_save_meta(struct rstore *s, uint64_t term, uint32_t vote)
{
	struct rstore_meta m = s->meta;

	if (s->broken)
		return s->broken;
	m.term = term;
	m.vote = vote;
	return meta_store(s, &m);
}

static int append_check(struct rstore *s, const struct raft_entry *e,
			size_t n)
{
	uint64_t term = last_term(s);
	size_t i;

	for (i = 0; i < n; i++) {
		if (e[i].index != s->last + 1 + i)
			return fail(s, -EINVAL, "append: entry %zu has index %" PRIu64 ", expected %" PRIu64,
				    i, e[i].index, s->last + 1 + i);
		if (e[i].term < term)
			return fail(s, -EINVAL, "append: entry %" PRIu64 " has term %" PRIu64 ", after term %" PRIu64,
				    e[i].index, e[i].term, term);
		if (e[i].len > RAFT_ENTRY_DATA_MAX || (e[i].len && !e[i].data))
			return fail(s, -EINVAL, "append: entry %" PRIu64 " has %" PRIu32 " bytes of data%s",
				    e[i].index, e[i].len,
				    e[i].len > RAFT_ENTRY_DATA_MAX ?
				    ", more than allowed" : " at NULL");
		term = e[i].term;
	}
	return 0;
}

static size_t record_encode(uint8_t *p, const struct raft_entry *e)
{
	uint32_t len = 1 + e->len;

	put_le32(p, len);
	put_le64(p + 8, e->term);
	put_le64(p + 16, e->index);
	p[REC_HDR] = e->type;
	if (e->len)
		memcpy(p + REC_HDR + 1, e->data, e->len);
	put_le32(p + 4, crc32c(0, p + 8, REC_HDR - 8 + len));
	return REC_HDR + len;
}

/* Makes a new last segment for entries from first on. */
static int seg_roll(struct rstore *s, uint64_t first)
{
	char name[SEG_NAME_LEN];
	struct rseg *tail;
	int fd, err;

	if (s->nsegs) {
		tail = &s->segs[s->nsegs - 1];
		err = seg_flush(s, tail);
		if (err)
			return err;
		seg_close(tail);
	}
	err = segs_reserve(s, s->nsegs + 1);
	if (err)
		return err;
	seg_name(name, first);
	fd = openat(s->dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
		    0644);
	if (fd < 0)
		return io_fail(s, name, "create", -errno);
	s->segs[s->nsegs++] = (struct rseg){ .first = first, .fd = fd };
	s->dir_dirty = true;
	return 0;
}

/* The segment to append entry index to, open for writing. */
static int tail_get(struct rstore *s, uint64_t index, struct rseg **tail)
{
	int err;

	if (!s->nsegs || s->segs[s->nsegs - 1].size >= s->segment_bytes) {
		err = seg_roll(s, index);
		if (err)
			return err;
	}
	*tail = &s->segs[s->nsegs - 1];
	return seg_open(s, *tail);
}

/*
 * Writes e[*i], e[*i + 1]... to the tail while they fit in the write buffer
 * and the segment is not full; advances *i past them.
 */
static int append_chunk(struct rstore *s, struct rseg *tail,
			const struct raft_entry *e, size_t n, size_t *i)
{
	char name[SEG_NAME_LEN];
	uint64_t off = tail->size;
	size_t k, used = 0;
	int err;

	for (k = *i; k < n; k++) {
		if (tail->size + used >= s->segment_bytes ||
		    used + REC_MAX > WBUF_BYTES)
			break;
		used += record_encode(s->wbuf + used, &e[k]);
	}
	err = pwrite_full(tail->fd, s->wbuf, used, tail->size);
	if (err) {
		seg_untear(tail);
		seg_name(name, tail->first);
		return io_fail(s, name, "write", err);
	}
	for (; *i < k; (*i)++) {
		pos_add(s, off, e[*i].term);
		off += REC_HDR + 1 + e[*i].len;
	}
	tail->size = off;
	tail->dirty = true;
	return 0;
}

int rstore_append(struct rstore *s, const struct raft_entry *e, size_t n)
{
	struct rseg *tail = NULL;
	size_t i = 0;
	int err;

	if (s->broken)
		return s->broken;
	err = append_check(s, e, n);
	if (!err)
		err = pos_reserve(s, s->last + n);
	while (!err && i < n) {
		err = tail_get(s, e[i].index, &tail);
		if (!err)
			err = append_chunk(s, tail, e, n, &i);
	}
	return err;
}

/* Unlinks the segments from k on, the last first, durably. */
static int segs_unlink_from(struct rstore *s, size_t k)
{
	char name[SEG_NAME_LEN];
	struct rseg *seg;

	if (k >= s->nsegs)
		return 0;
	while (s->nsegs > k) {
		seg = &s->segs[s->nsegs - 1];
		seg_close(seg);
		seg_name(name, seg->first);
		if (unlinkat(s->dirfd, name, 0) < 0)
			return io_fail(s, name, "unlink", -errno);
		s->nsegs--;
	}
	return sync_dir(s);
}

int rstore_truncate(struct rstore *s, uint64_t from_index)
{
	size_t k;
	int err;

	if (s->broken)
		return s->broken;
	if (!from_index)
		return fail(s, -EINVAL, "truncate: index 0 does not exist");
	if (from_index > s->last)
		return 0;
	k = seg_find(s, from_index);
	if (s->segs[k].first == from_index) {
		err = segs_unlink_from(s, k);
	} else {
		err = segs_unlink_from(s, k + 1);
		if (!err)
			err = seg_cut(s, &s->segs[k],
				      s->pos[from_index - 1].off);
	}
	if (err)
		return err;
	s->last = from_index - 1;
	return 0;
}

int rstore_sync(struct rstore *s)
{
	size_t k;
	int err;

	if (s->broken)
		return s->broken;
	for (k = 0; k < s->nsegs; k++) {
		err = seg_flush(s, &s->segs[k]);
		if (err)
			return err;
	}
	return s->dir_dirty ? sync_dir(s) : 0;
}

uint64_t rstore_last_index(const struct rstore *s)
{
	return s->last;
}

const char *rstore_error(const struct rstore *s)
{
	return s->errmsg;
}
