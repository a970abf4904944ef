/*
 * store.c - the LMDB environment of a node: reads, group-committed write
 * batches, quotas (include/sos/store.h).
 *
 * Layout: one environment in DATA/store/ (data.mdb, lock.mdb) with two
 * databases.  "data" holds every key the kernel builds (namespace prefix
 * plus the app's key).  "usage" maps an owner (a service name) to 16
 * bytes: the bytes of its keys and values, and its key count, both
 * native-endian u64 (the file never leaves its machine: LMDB files are not
 * portable across architectures either).
 *
 * Writes: submitters append batches to a queue; the committer thread takes
 * the whole queue, opens one write transaction, applies each batch in a
 * nested transaction (LMDB's child transactions), commits, and reports.
 * LMDB's commit writes and fsyncs the data and the meta page, so a batch
 * reported done survives a crash of the process or the machine.  Under
 * load the queue fills while the previous group syncs, so the sync cost is
 * shared by every batch of the next group.
 *
 * Snapshots (format in store.h): written from one read transaction, so a
 * snapshot is one point in time while the committer goes on, through a
 * temporary file that is renamed into place only when complete and
 * synced.  A restore reads the file twice: once to check all of it before
 * touching the store, then again, checking as it goes, inside the one
 * write transaction that replaces the prefix's keys; any error aborts that
 * transaction, so a file that changed between the two reads cannot leave
 * half a restore either.
 *
 * LMDB errors become SOS errors here and go no further (STYLE.md).
 */
#include "sos/store.h"

#include "sos/base.h"

#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_OPS 4096

struct batch {
  struct batch *next;
  sos_store_done_fn done;
  void *user;
  char owner[64];
  uint64_t max_bytes, max_keys;
  uint32_t n;
  int rc;          /* the outcome, once applied */
  uint64_t info;   /* the failing op, or the first append's offset */
  struct sos_store_op ops[]; /* keys and values follow the array */
};

struct sos_store {
  MDB_env *env;
  MDB_dbi data, usage;
  pthread_t committer;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  struct batch *head, *tail;
  bool closing, started;
  uint64_t commits, batches;
};

/* ---- open and close ------------------------------------------------------ */

static void *commit_loop(void *arg);

static int lmdb_fail(int rc, const char *what, char *err, size_t errlen) {
  snprintf(err, errlen, "%s: %s", what, mdb_strerror(rc));
  return rc == ENOMEM ? SOS_ENOMEM : SOS_EIO;
}

/* Opens the two databases, creating them. */
static int open_dbs(sos_store *st, char *err, size_t errlen) {
  MDB_txn *t;
  int rc = mdb_txn_begin(st->env, NULL, 0, &t);
  if (rc) return lmdb_fail(rc, "cannot begin a transaction", err, errlen);
  if (!(rc = mdb_dbi_open(t, "data", MDB_CREATE, &st->data)) &&
      !(rc = mdb_dbi_open(t, "usage", MDB_CREATE, &st->usage)))
    rc = mdb_txn_commit(t);
  else
    mdb_txn_abort(t);
  return rc ? lmdb_fail(rc, "cannot open the databases", err, errlen) : 0;
}

int sos_store_open(const char *dir, const struct sos_store_config *cfg, sos_store **out,
                   char *err, size_t errlen) {
  *out = NULL;
  if (mkdir(dir, 0700) && errno != EEXIST) {
    snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
    return SOS_EIO;
  }
  sos_store *st = sos_calloc(1, sizeof *st);
  if (!st) return SOS_ENOMEM;
  uint64_t map = cfg && cfg->map_size ? cfg->map_size : (4ull << 30);
  int rc = mdb_env_create(&st->env);
  if (!rc) rc = mdb_env_set_maxdbs(st->env, 4);
  if (!rc) rc = mdb_env_set_maxreaders(st->env, 1024);
  if (!rc) rc = mdb_env_set_mapsize(st->env, (size_t)map);
  if (!rc) rc = mdb_env_open(st->env, dir, MDB_NOTLS, 0600);
  if (rc) {
    char what[512];
    snprintf(what, sizeof what, "cannot open the store in %s", dir);
    int e = lmdb_fail(rc, what, err, errlen);
    sos_store_close(st);
    return e;
  }
  if ((rc = open_dbs(st, err, errlen))) {
    sos_store_close(st);
    return rc;
  }
  pthread_mutex_init(&st->mu, NULL);
  pthread_cond_init(&st->cv, NULL);
  st->started = true;
  if (pthread_create(&st->committer, NULL, commit_loop, st)) {
    st->started = false;
    snprintf(err, errlen, "cannot start the committer thread");
    sos_store_close(st);
    return SOS_ENOMEM;
  }
  *out = st;
  return 0;
}

void sos_store_close(sos_store *st) {
  if (!st) return;
  if (st->started) {
    pthread_mutex_lock(&st->mu);
    st->closing = true;
    pthread_cond_signal(&st->cv);
    pthread_mutex_unlock(&st->mu);
    pthread_join(st->committer, NULL);
    pthread_mutex_destroy(&st->mu);
    pthread_cond_destroy(&st->cv);
  }
  if (st->env) mdb_env_close(st->env);
  sos_free(st);
}

/* ---- reading ------------------------------------------------------------- */

static int read_txn(sos_store *st, MDB_txn **t) {
  return mdb_txn_begin(st->env, NULL, MDB_RDONLY, t) ? SOS_EIO : 0;
}

/* A read transaction and a cursor on the data; abort *t when done. */
static int read_cursor(sos_store *st, MDB_txn **t, MDB_cursor **c) {
  if (read_txn(st, t)) return SOS_EIO;
  if (mdb_cursor_open(*t, st->data, c)) {
    mdb_txn_abort(*t);
    return SOS_EIO;
  }
  return 0;
}

int sos_store_get(sos_store *st, const void *key, size_t klen, void *buf, size_t cap,
                  size_t *len) {
  *len = 0;
  if (!klen || klen > SOS_STORE_MAX_KEY) return SOS_ENOENT;
  MDB_txn *t;
  if (read_txn(st, &t)) return SOS_EIO;
  MDB_val k = {klen, (void *)key}, v;
  int rc = mdb_get(t, st->data, &k, &v);
  if (rc == 0) {
    *len = v.mv_size;
    if (cap) memcpy(buf, v.mv_data, v.mv_size < cap ? v.mv_size : cap);
  }
  mdb_txn_abort(t);
  return rc == 0 ? 0 : rc == MDB_NOTFOUND ? SOS_ENOENT : SOS_EIO;
}

/* Whether key k is before the end bound (end NULL: always). */
static bool before_end(const MDB_val *k, const void *end, size_t elen) {
  if (!end) return true;
  size_t n = k->mv_size < elen ? k->mv_size : elen;
  int c = memcmp(k->mv_data, end, n);
  return c < 0 || (c == 0 && k->mv_size < elen);
}

int sos_store_scan(sos_store *st, const void *start, size_t slen, const void *end, size_t elen,
                   uint32_t limit,
                   int (*each)(void *user, const void *k, size_t kl, const void *v, size_t vl),
                   void *user) {
  MDB_txn *t;
  MDB_cursor *c;
  if (read_cursor(st, &t, &c)) return SOS_EIO;
  MDB_val k = {slen, (void *)start}, v;
  int rc = slen ? mdb_cursor_get(c, &k, &v, MDB_SET_RANGE) : mdb_cursor_get(c, &k, &v, MDB_FIRST);
  int out = 0;
  for (uint32_t n = 0; rc == 0 && n < limit && before_end(&k, end, elen); n++) {
    if ((out = each(user, k.mv_data, k.mv_size, v.mv_data, v.mv_size))) break;
    rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
  }
  if (rc && rc != MDB_NOTFOUND) out = SOS_EIO;
  mdb_cursor_close(c);
  mdb_txn_abort(t);
  return out;
}

/* Reads owner's usage in transaction t. */
static void usage_get(sos_store *st, MDB_txn *t, const char *owner, uint64_t u[2]) {
  MDB_val k = {strlen(owner), (void *)owner}, v;
  u[0] = u[1] = 0;
  if (mdb_get(t, st->usage, &k, &v) == 0 && v.mv_size == 16) memcpy(u, v.mv_data, 16);
}

int sos_store_usage(sos_store *st, const char *owner, uint64_t *bytes, uint64_t *keys) {
  MDB_txn *t;
  if (read_txn(st, &t)) return SOS_EIO;
  uint64_t u[2];
  usage_get(st, t, owner, u);
  mdb_txn_abort(t);
  *bytes = u[0];
  *keys = u[1];
  return 0;
}

/* ---- writing ------------------------------------------------------------- */

/* Whether the ops are within the limits; their key and value bytes in *extra. */
static bool ops_valid(const struct sos_store_op *ops, uint32_t n, size_t *extra) {
  *extra = 0;
  for (uint32_t i = 0; i < n; i++) {
    if (!ops[i].klen || ops[i].klen > SOS_STORE_MAX_KEY || ops[i].vlen > SOS_STORE_MAX_VALUE ||
        ops[i].kind < SOS_STORE_PUT || ops[i].kind > SOS_STORE_ADD ||
        ((ops[i].kind == SOS_STORE_TRIM || ops[i].kind == SOS_STORE_ADD) && ops[i].vlen != 8) ||
        (ops[i].kind == SOS_STORE_APPEND && ops[i].klen > SOS_STORE_MAX_KEY - 8))
      return false;
    *extra += (size_t)ops[i].klen + ops[i].vlen;
  }
  return true;
}

/* Copies n ops and their bytes into one allocation. */
static struct batch *batch_new(const struct sos_store_op *ops, uint32_t n, size_t extra) {
  struct batch *b = sos_malloc(sizeof *b + n * sizeof b->ops[0] + extra);
  if (!b) return NULL;
  memset(b, 0, sizeof *b);
  uint8_t *p = (uint8_t *)(b->ops + n);
  for (uint32_t i = 0; i < n; i++) { /* keys and values go after the array */
    b->ops[i] = ops[i];
    memcpy(p, ops[i].key, ops[i].klen);
    b->ops[i].key = p;
    p += ops[i].klen;
    if (ops[i].vlen) memcpy(p, ops[i].val, ops[i].vlen);
    b->ops[i].val = p;
    p += ops[i].vlen;
  }
  b->n = n;
  return b;
}

int sos_store_submit(sos_store *st, const struct sos_store_quota *q, const struct sos_store_op *ops,
                     uint32_t n, sos_store_done_fn done, void *user) {
  size_t extra;
  if (!n || n > MAX_OPS || !q || !q->owner || !q->owner[0] || strlen(q->owner) >= 64 ||
      !ops_valid(ops, n, &extra))
    return SOS_EINVAL;
  struct batch *b = batch_new(ops, n, extra);
  if (!b) return SOS_ENOMEM;
  b->done = done;
  b->user = user;
  snprintf(b->owner, sizeof b->owner, "%s", q->owner);
  b->max_bytes = q->max_bytes;
  b->max_keys = q->max_keys;
  pthread_mutex_lock(&st->mu);
  if (st->closing) {
    pthread_mutex_unlock(&st->mu);
    sos_free(b);
    return SOS_ESTATE;
  }
  if (st->tail)
    st->tail->next = b;
  else
    st->head = b;
  st->tail = b;
  pthread_cond_signal(&st->cv);
  pthread_mutex_unlock(&st->mu);
  return 0;
}

/* Big-endian u64 at p. */
static uint64_t be64(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; i++) v = v << 8 | p[i];
  return v;
}

static void put_be64(uint8_t *p, uint64_t v) {
  for (int i = 7; i >= 0; i--, v >>= 8) p[i] = (uint8_t)v;
}

/* Puts k = v in t, adding its effect on usage to d. */
static int put_charged(sos_store *st, MDB_txn *t, MDB_val *k, MDB_val *v, int64_t d[2]) {
  MDB_val old;
  int rc = mdb_get(t, st->data, k, &old);
  if (rc && rc != MDB_NOTFOUND) return SOS_EIO;
  if (rc == 0) {
    d[0] -= (int64_t)(k->mv_size + old.mv_size);
    d[1] -= 1;
  }
  rc = mdb_put(t, st->data, k, v, 0);
  d[0] += (int64_t)(k->mv_size + v->mv_size);
  d[1] += 1;
  return rc == MDB_MAP_FULL ? SOS_EQUOTA : rc ? SOS_EIO : 0;
}

/* Appends the record to log key L: writes it at L + next and advances
 * next; *offset gets where it went. */
static int apply_append(sos_store *st, MDB_txn *t, const struct sos_store_op *op,
                        int64_t d[2], uint64_t *offset) {
  MDB_val l = {op->klen, (void *)op->key}, cur;
  int rc = mdb_get(t, st->data, &l, &cur);
  if (rc && rc != MDB_NOTFOUND) return SOS_EIO;
  uint64_t next = rc == 0 && cur.mv_size == 8 ? be64(cur.mv_data) : 0;
  uint8_t key[SOS_STORE_MAX_KEY], nb[8];
  memcpy(key, op->key, op->klen);
  put_be64(key + op->klen, next);
  put_be64(nb, next + 1);
  MDB_val rk = {op->klen + 8, key}, rv = {op->vlen, (void *)op->val}, nv = {8, nb};
  if ((rc = put_charged(st, t, &rk, &rv, d)) || (rc = put_charged(st, t, &l, &nv, d))) return rc;
  *offset = next;
  return 0;
}

/* Deletes log L's records below the offset in op->val. */
static int apply_trim(sos_store *st, MDB_txn *t, const struct sos_store_op *op, int64_t d[2]) {
  MDB_cursor *c;
  if (mdb_cursor_open(t, st->data, &c)) return SOS_EIO;
  uint8_t from[SOS_STORE_MAX_KEY];
  memcpy(from, op->key, op->klen);
  memset(from + op->klen, 0, 8);
  MDB_val k = {op->klen + 8, from}, v;
  uint64_t before = be64(op->val);
  int rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
  while (rc == 0 && k.mv_size == op->klen + 8 && !memcmp(k.mv_data, op->key, op->klen) &&
         be64((const uint8_t *)k.mv_data + op->klen) < before) {
    d[0] -= (int64_t)(k.mv_size + v.mv_size);
    d[1] -= 1;
    if ((rc = mdb_cursor_del(c, 0))) break;
    rc = mdb_cursor_get(c, &k, &v, MDB_GET_CURRENT);
    if (rc == EINVAL) rc = MDB_NOTFOUND;
  }
  mdb_cursor_close(c);
  return rc && rc != MDB_NOTFOUND ? SOS_EIO : 0;
}

/* Adds the delta in op->val to the decimal integer at op->key. */
static int apply_add(sos_store *st, MDB_txn *t, const struct sos_store_op *op, int64_t d[2]) {
  MDB_val k = {op->klen, (void *)op->key}, old;
  int rc = mdb_get(t, st->data, &k, &old);
  if (rc && rc != MDB_NOTFOUND) return SOS_EIO;
  char text[24];
  int64_t v = 0, delta = (int64_t)be64(op->val);
  if (rc == 0 && old.mv_size) {
    if (old.mv_size >= sizeof text) return SOS_EINVAL;
    memcpy(text, old.mv_data, old.mv_size);
    text[old.mv_size] = 0;
    char *end;
    errno = 0;
    v = strtoll(text, &end, 10);
    if (*end || errno || end == text) return SOS_EINVAL;
  }
  if ((delta > 0 && v > INT64_MAX - delta) || (delta < 0 && v < INT64_MIN - delta))
    return SOS_EINVAL;
  int n = snprintf(text, sizeof text, "%lld", (long long)(v + delta));
  MDB_val nv = {(size_t)n, text};
  return put_charged(st, t, &k, &nv, d);
}

/* Applies one op in t, adding its effect on usage to d[2]; an append puts
 * its offset in *offset. */
static int apply_op(sos_store *st, MDB_txn *t, const struct sos_store_op *op, int64_t d[2],
                    uint64_t *offset) {
  if (op->kind == SOS_STORE_APPEND) return apply_append(st, t, op, d, offset);
  if (op->kind == SOS_STORE_TRIM) return apply_trim(st, t, op, d);
  if (op->kind == SOS_STORE_ADD) return apply_add(st, t, op, d);
  MDB_val k = {op->klen, (void *)op->key}, old;
  int rc = mdb_get(t, st->data, &k, &old);
  if (rc && rc != MDB_NOTFOUND) return SOS_EIO;
  bool had = rc == 0;
  if (op->kind == SOS_STORE_CHECK) {
    if (op->absent) return had ? SOS_ECONFLICT : 0;
    bool same = had && old.mv_size == op->vlen && !memcmp(old.mv_data, op->val, op->vlen);
    return same ? 0 : SOS_ECONFLICT;
  }
  if (had) {
    d[0] -= (int64_t)(op->klen + old.mv_size);
    d[1] -= 1;
  }
  if (op->kind == SOS_STORE_DEL) return had && mdb_del(t, st->data, &k, NULL) ? SOS_EIO : 0;
  MDB_val v = {op->vlen, (void *)op->val};
  rc = mdb_put(t, st->data, &k, &v, 0);
  d[0] += (int64_t)(op->klen + op->vlen);
  d[1] += 1;
  return rc == MDB_MAP_FULL ? SOS_EQUOTA : rc ? SOS_EIO : 0;
}

/* Adds d to the owner's usage in t, checking the limits where it grows. */
static int charge(sos_store *st, MDB_txn *t, const char *owner, uint64_t max_bytes,
                  uint64_t max_keys, const int64_t d[2]) {
  uint64_t u[2];
  usage_get(st, t, owner, u);
  for (int i = 0; i < 2; i++) {
    u[i] = d[i] < 0 && (uint64_t)-d[i] > u[i] ? 0 : (uint64_t)((int64_t)u[i] + d[i]);
    uint64_t max = i ? max_keys : max_bytes;
    if (d[i] > 0 && max && u[i] > max) return SOS_EQUOTA;
  }
  MDB_val k = {strlen(owner), (void *)owner}, v = {16, u};
  return mdb_put(t, st->usage, &k, &v, 0) ? SOS_EIO : 0;
}

/* Applies batch b in a child transaction of t; b->info gets the index of
 * the op that failed, or the offset of the first append. */
static int apply_batch(sos_store *st, MDB_txn *t, struct batch *b) {
  MDB_txn *c;
  if (mdb_txn_begin(st->env, t, 0, &c)) return SOS_EIO;
  int64_t d[2] = {0, 0};
  int rc = 0;
  bool appended = false;
  for (uint32_t i = 0; i < b->n && !rc; i++) {
    uint64_t offset = 0;
    if ((rc = apply_op(st, c, &b->ops[i], d, &offset))) {
      b->info = i;
    } else if (b->ops[i].kind == SOS_STORE_APPEND && !appended) {
      b->info = offset;
      appended = true;
    }
  }
  if (!rc) rc = charge(st, c, b->owner, b->max_bytes, b->max_keys, d);
  if (rc) {
    mdb_txn_abort(c);
    return rc;
  }
  return mdb_txn_commit(c) ? SOS_EIO : 0;
}

/* Commits every batch of the list in one transaction and reports each. */
static void commit_group(sos_store *st, struct batch *list) {
  MDB_txn *t;
  int trc = mdb_txn_begin(st->env, NULL, 0, &t) ? SOS_EIO : 0;
  uint32_t n = 0;
  for (struct batch *b = list; b; b = b->next, n++)
    b->rc = trc ? trc : apply_batch(st, t, b);
  if (!trc && mdb_txn_commit(t)) trc = SOS_EIO; /* writes and syncs */
  pthread_mutex_lock(&st->mu);
  st->commits++;
  st->batches += n;
  pthread_mutex_unlock(&st->mu);
  while (list) {
    struct batch *b = list;
    list = b->next;
    int rc = trc ? trc : b->rc;
    b->done(b->user, rc, rc == 0 || rc == SOS_ECONFLICT ? b->info : 0);
    sos_free(b);
  }
}

static void *commit_loop(void *arg) {
  sos_store *st = arg;
  pthread_mutex_lock(&st->mu);
  for (;;) {
    while (!st->head && !st->closing) pthread_cond_wait(&st->cv, &st->mu);
    struct batch *list = st->head;
    st->head = st->tail = NULL;
    if (!list) break; /* closing, and nothing left to commit */
    pthread_mutex_unlock(&st->mu);
    commit_group(st, list);
    pthread_mutex_lock(&st->mu);
  }
  pthread_mutex_unlock(&st->mu);
  return NULL;
}

/* Deletes every key starting with prefix in t, adding their effect on
 * usage to d and counting them in *n. */
static int delete_prefix(sos_store *st, MDB_txn *t, const void *prefix, size_t plen, int64_t d[2],
                         int64_t *n) {
  MDB_cursor *c;
  if (mdb_cursor_open(t, st->data, &c)) return SOS_EIO;
  MDB_val k = {plen, (void *)prefix}, v;
  int rc = mdb_cursor_get(c, &k, &v, plen ? MDB_SET_RANGE : MDB_FIRST);
  while (rc == 0 && k.mv_size >= plen && !memcmp(k.mv_data, prefix, plen)) {
    d[0] -= (int64_t)(k.mv_size + v.mv_size);
    d[1] -= 1;
    ++*n;
    if ((rc = mdb_cursor_del(c, 0))) break;
    rc = mdb_cursor_get(c, &k, &v, MDB_GET_CURRENT); /* the next key, after a delete */
    if (rc == EINVAL) rc = MDB_NOTFOUND;             /* deleted the last one */
  }
  mdb_cursor_close(c);
  return rc && rc != MDB_NOTFOUND ? SOS_EIO : 0;
}

int64_t sos_store_purge(sos_store *st, const void *prefix, size_t plen, const char *owner) {
  MDB_txn *t;
  if (mdb_txn_begin(st->env, NULL, 0, &t)) return SOS_EIO;
  int64_t n = 0, d[2] = {0, 0};
  if (delete_prefix(st, t, prefix, plen, d, &n) || charge(st, t, owner, 0, 0, d)) {
    mdb_txn_abort(t);
    return SOS_EIO;
  }
  return mdb_txn_commit(t) ? SOS_EIO : n;
}

/* ---- snapshots ------------------------------------------------------------- */

#define SNAP_HEAD 16 /* magic, version, flags */
#define SNAP_TAIL 40 /* record count, sha-256 */
#define SNAP_HASH 32

static const char snap_magic[8] = "SOSSNAP";

static void put_le32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++, v >>= 8) p[i] = (uint8_t)v;
}

static void put_le64(uint8_t *p, uint64_t v) {
  for (int i = 0; i < 8; i++, v >>= 8) p[i] = (uint8_t)v;
}

static uint64_t le_n(const uint8_t *p, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; i--) v = v << 8 | p[i];
  return v;
}

/* Whether key k starts with prefix. */
static bool has_prefix(const MDB_val *k, const void *prefix, size_t plen) {
  return k->mv_size >= plen && (!plen || !memcmp(k->mv_data, prefix, plen));
}

/* A snapshot being written: a buffered file, the running hash, errno of
 * the first failed write. */
struct snap_out {
  FILE *f;
  EVP_MD_CTX *md;
  int failed;
};

static void out_put(struct snap_out *o, const void *p, size_t n) {
  if (o->failed || !n) return;
  if (fwrite(p, 1, n, o->f) != n) o->failed = errno ? errno : EIO;
  else if (!EVP_DigestUpdate(o->md, p, n)) o->failed = ENOMEM;
}

/* Writes the records under prefix from one read transaction. */
static int out_records(sos_store *st, const void *prefix, size_t plen, struct snap_out *o,
                       uint64_t *n) {
  MDB_txn *t;
  MDB_cursor *c;
  if (read_cursor(st, &t, &c)) return SOS_EIO;
  MDB_val k = {plen, (void *)prefix}, v;
  int rc = mdb_cursor_get(c, &k, &v, plen ? MDB_SET_RANGE : MDB_FIRST);
  for (; rc == 0 && has_prefix(&k, prefix, plen) && !o->failed;
       rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
    uint8_t h[8];
    put_le32(h, (uint32_t)(k.mv_size - plen));
    put_le32(h + 4, (uint32_t)v.mv_size);
    out_put(o, h, 8);
    out_put(o, (const uint8_t *)k.mv_data + plen, k.mv_size - plen);
    out_put(o, v.mv_data, v.mv_size);
    ++*n;
  }
  mdb_cursor_close(c);
  mdb_txn_abort(t);
  return rc && rc != MDB_NOTFOUND ? SOS_EIO : 0;
}

/* Writes header, records and trailer; err says what failed. */
static int out_snapshot(sos_store *st, const void *prefix, size_t plen, struct snap_out *o,
                        uint64_t *n, char *err, size_t errlen) {
  uint8_t h[SNAP_HEAD] = {0}, tail[SNAP_TAIL];
  memcpy(h, snap_magic, 8);
  put_le32(h + 8, SOS_STORE_SNAP_VERSION);
  out_put(o, h, sizeof h);
  if (out_records(st, prefix, plen, o, n)) {
    snprintf(err, errlen, "cannot read the store");
    return SOS_EIO;
  }
  put_le64(tail, *n);
  out_put(o, tail, 8);
  unsigned hl = 0;
  if (!o->failed && (!EVP_DigestFinal_ex(o->md, tail + 8, &hl) || hl != SNAP_HASH))
    o->failed = ENOMEM;
  if (!o->failed && fwrite(tail + 8, 1, SNAP_HASH, o->f) != SNAP_HASH) o->failed = errno ? errno : EIO;
  if (!o->failed && (fflush(o->f) || fsync(fileno(o->f)))) o->failed = errno;
  if (!o->failed) return 0;
  snprintf(err, errlen, "cannot write the snapshot: %s", strerror(o->failed));
  return o->failed == ENOMEM ? SOS_ENOMEM : SOS_EIO;
}

/* Fsyncs the folder holding path, so that a rename in it is durable. */
static int sync_dir(const char *path) {
  char dir[4096];
  const char *slash = strrchr(path, '/');
  size_t n = slash ? (size_t)(slash - path) : 0;
  if (n >= sizeof dir) return -1;
  memcpy(dir, slash ? path : ".", slash ? n : 1);
  dir[slash ? (n ? n : 1) : 1] = 0; /* "/x" lives in "/" */
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return -1;
  int rc = fsync(fd);
  close(fd);
  return rc;
}

/* Renames tmp to path unless path exists, then syncs the folder. */
static int publish(const char *tmp, const char *path, char *err, size_t errlen) {
  int rc = renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE);
  if (rc && (errno == EINVAL || errno == ENOSYS)) { /* a file system without it */
    rc = link(tmp, path);
    if (!rc) unlink(tmp);
  }
  if (rc) {
    int e = errno;
    snprintf(err, errlen, "cannot rename the snapshot to %s: %s", path, strerror(e));
    return e == EEXIST ? SOS_ECONFLICT : SOS_EIO;
  }
  if (sync_dir(path)) {
    snprintf(err, errlen, "cannot sync the folder of %s: %s", path, strerror(errno));
    unlink(path);
    return SOS_EIO;
  }
  return 0;
}

int sos_store_snapshot(sos_store *st, const void *prefix, size_t plen, const char *path,
                       uint64_t *keys, char *err, size_t errlen) {
  *keys = 0;
  char tmp[4200];
  if ((size_t)snprintf(tmp, sizeof tmp, "%s.XXXXXX", path) >= sizeof tmp - 1) {
    snprintf(err, errlen, "the snapshot's path is too long");
    return SOS_EINVAL;
  }
  int fd = mkostemp(tmp, O_CLOEXEC); /* mode 0600 */
  if (fd < 0) {
    snprintf(err, errlen, "cannot create %s: %s", tmp, strerror(errno));
    return SOS_EIO;
  }
  struct snap_out o = {fdopen(fd, "wb"), EVP_MD_CTX_new(), 0};
  int rc = 0;
  if (!o.f || !o.md || !EVP_DigestInit_ex(o.md, EVP_sha256(), NULL)) {
    snprintf(err, errlen, "out of memory");
    rc = SOS_ENOMEM;
  }
  if (!rc) rc = out_snapshot(st, prefix, plen, &o, keys, err, errlen);
  int closed = o.f ? fclose(o.f) : close(fd);
  if (closed && !rc) {
    snprintf(err, errlen, "cannot close the snapshot: %s", strerror(errno));
    rc = SOS_EIO;
  }
  EVP_MD_CTX_free(o.md);
  if (!rc) rc = publish(tmp, path, err, errlen);
  if (rc) {
    unlink(tmp);
    *keys = 0;
  }
  return rc;
}

/* A snapshot being read: a buffered descriptor, the running hash, the
 * current record and the one before it (to check the order). */
struct snap_in {
  int fd;
  EVP_MD_CTX *md;
  uint64_t off, size; /* bytes consumed; the file's size */
  size_t at, len;     /* unread bytes of buf */
  uint32_t kl, pl, vl; /* the current key's, the previous key's, the value's length */
  uint8_t key[SOS_STORE_MAX_KEY], prev[SOS_STORE_MAX_KEY];
  uint8_t *val;
  size_t vcap;
  uint8_t buf[1 << 16];
};

/* Reads n bytes into p, hashing them when hash is set. */
static int in_get(struct snap_in *in, void *p, size_t n, bool hash) {
  uint8_t *d = p;
  for (size_t left = n; left;) {
    if (in->at == in->len) {
      ssize_t got = read(in->fd, in->buf, sizeof in->buf);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) return got < 0 ? SOS_EIO : SOS_EINVAL; /* EINVAL: the file shrank */
      in->at = 0;
      in->len = (size_t)got;
    }
    size_t m = left < in->len - in->at ? left : in->len - in->at;
    memcpy(d, in->buf + in->at, m);
    in->at += m;
    d += m;
    left -= m;
  }
  in->off += n;
  return hash && n && !EVP_DigestUpdate(in->md, p, n) ? SOS_ENOMEM : 0;
}

/* Starts a pass over the file: rewinds, checks size and header. */
static int in_start(struct snap_in *in, char *err, size_t errlen) {
  struct stat sb;
  if (lseek(in->fd, 0, SEEK_SET) || fstat(in->fd, &sb) ||
      !EVP_DigestInit_ex(in->md, EVP_sha256(), NULL)) {
    snprintf(err, errlen, "cannot read the snapshot: %s", strerror(errno));
    return SOS_EIO;
  }
  in->off = in->at = in->len = 0;
  in->size = (uint64_t)sb.st_size;
  uint8_t h[SNAP_HEAD];
  if (in->size < SNAP_HEAD + SNAP_TAIL) {
    snprintf(err, errlen, "not a snapshot: %llu bytes is too short", (unsigned long long)in->size);
    return SOS_EINVAL;
  }
  int rc = in_get(in, h, sizeof h, true);
  if (rc) return rc;
  if (memcmp(h, snap_magic, 8) || le_n(h + 12, 4)) {
    snprintf(err, errlen, "not a snapshot (no SOSSNAP header)");
    return SOS_EINVAL;
  }
  if (le_n(h + 8, 4) != SOS_STORE_SNAP_VERSION) {
    snprintf(err, errlen, "snapshot format version %u is not known (this is %u)",
             (unsigned)le_n(h + 8, 4), SOS_STORE_SNAP_VERSION);
    return SOS_EINVAL;
  }
  return 0;
}

/* Reads one record into in->key and in->val, checking its lengths and
 * that its key follows the previous one. */
static int in_record(struct snap_in *in, size_t plen, uint64_t n, char *err, size_t errlen) {
  uint64_t at = in->off, left = in->size - SNAP_TAIL - at;
  uint8_t h[8] = {0};
  int rc = left < 8 ? SOS_EINVAL : in_get(in, h, 8, true);
  uint32_t kl = (uint32_t)le_n(h, 4), vl = (uint32_t)le_n(h + 4, 4);
  if (!rc && (plen + kl == 0 || plen + kl > SOS_STORE_MAX_KEY || vl > SOS_STORE_MAX_VALUE ||
              (uint64_t)kl + vl > left - 8))
    rc = SOS_EINVAL;
  if (!rc && vl > in->vcap) {
    uint8_t *p = sos_realloc(in->val, vl);
    if (!p) return SOS_ENOMEM;
    in->val = p;
    in->vcap = vl;
  }
  if (!rc) {
    memcpy(in->prev, in->key, in->kl);
    in->pl = in->kl;
    in->kl = kl;
    in->vl = vl;
    if (!(rc = in_get(in, in->key, kl, true))) rc = in_get(in, in->val, vl, true);
  }
  if (!rc && n) { /* strictly after the previous key, in LMDB's order */
    int c = memcmp(in->key, in->prev, kl < in->pl ? kl : in->pl);
    if (c < 0 || (c == 0 && kl <= in->pl)) rc = SOS_EINVAL;
  }
  if (rc == SOS_EINVAL)
    snprintf(err, errlen, "damaged snapshot: bad record %llu at byte %llu", (unsigned long long)n,
             (unsigned long long)at);
  return rc;
}

/* The restore's transaction and what it has written. */
struct restore {
  sos_store *st;
  MDB_txn *t;
  const void *prefix;
  size_t plen;
  uint64_t u[2];
};

/* Puts prefix + the current record in the restore's transaction. */
static int restore_put(struct restore *r, const struct snap_in *in) {
  uint8_t key[SOS_STORE_MAX_KEY];
  if (r->plen) memcpy(key, r->prefix, r->plen);
  if (in->kl) memcpy(key + r->plen, in->key, in->kl);
  MDB_val k = {r->plen + in->kl, key}, v = {in->vl, in->val};
  int rc = mdb_put(r->t, r->st->data, &k, &v, 0);
  if (rc) return rc == MDB_MAP_FULL ? SOS_EQUOTA : SOS_EIO;
  r->u[0] += k.mv_size + v.mv_size;
  r->u[1] += 1;
  return 0;
}

/* One pass over the file: every record is checked, and put through r when
 * it is not NULL; then the count and the hash.  *n gets the records. */
static int in_pass(struct snap_in *in, size_t plen, struct restore *r, uint64_t *n, char *err,
                   size_t errlen) {
  int rc = in_start(in, err, errlen);
  in->kl = 0;
  for (*n = 0; !rc && in->off < in->size - SNAP_TAIL; ++*n) {
    if ((rc = in_record(in, plen, *n, err, errlen))) break;
    if (r && (rc = restore_put(r, in))) {
      snprintf(err, errlen, "cannot restore: %s", sos_strerror(rc));
      break;
    }
  }
  uint8_t tail[SNAP_TAIL], hash[SNAP_HASH];
  unsigned hl = 0;
  if (!rc) rc = in_get(in, tail, 8, true);
  if (!rc) rc = in_get(in, tail + 8, SNAP_HASH, false);
  if (!rc && (!EVP_DigestFinal_ex(in->md, hash, &hl) || hl != SNAP_HASH)) rc = SOS_ENOMEM;
  if (!rc && memcmp(hash, tail + 8, SNAP_HASH)) {
    snprintf(err, errlen, "damaged snapshot: its sha-256 does not match its contents");
    rc = SOS_EINVAL;
  } else if (!rc && le_n(tail, 8) != *n) {
    snprintf(err, errlen, "damaged snapshot: it says %llu records and holds %llu",
             (unsigned long long)le_n(tail, 8), (unsigned long long)*n);
    rc = SOS_EINVAL;
  }
  return rc;
}

/* The second pass, in one write transaction: deletes the prefix's keys,
 * puts the file's records, sets the owner's usage, commits. */
static int restore_apply(sos_store *st, struct snap_in *in, const void *prefix, size_t plen,
                         const char *owner, uint64_t *n, char *err, size_t errlen) {
  MDB_txn *t;
  int rc = mdb_txn_begin(st->env, NULL, 0, &t);
  if (rc) return lmdb_fail(rc, "cannot begin a transaction", err, errlen);
  struct restore r = {st, t, prefix, plen, {0, 0}};
  int64_t gone = 0, d[2] = {0, 0};
  if ((rc = delete_prefix(st, t, prefix, plen, d, &gone)))
    snprintf(err, errlen, "cannot delete the keys to replace");
  if (!rc) rc = in_pass(in, plen, &r, n, err, errlen);
  MDB_val k = {strlen(owner), (void *)owner}, v = {16, r.u};
  if (!rc && (rc = mdb_put(t, st->usage, &k, &v, 0))) rc = lmdb_fail(rc, "cannot set the usage", err, errlen);
  if (rc) {
    mdb_txn_abort(t);
    return rc;
  }
  rc = mdb_txn_commit(t); /* writes and syncs */
  return rc ? lmdb_fail(rc, "cannot commit the restore", err, errlen) : 0;
}

int sos_store_restore(sos_store *st, const void *prefix, size_t plen, const char *owner,
                      const char *path, uint64_t *keys, char *err, size_t errlen) {
  *keys = 0;
  if (errlen) err[0] = 0;
  if (!owner || !owner[0] || strlen(owner) >= 64 || plen >= SOS_STORE_MAX_KEY) {
    snprintf(err, errlen, "a restore needs an owner of 1 to 63 bytes and a shorter prefix");
    return SOS_EINVAL;
  }
  struct snap_in *in = sos_calloc(1, sizeof *in);
  if (in) in->md = EVP_MD_CTX_new();
  if (!in || !in->md) {
    if (in) sos_free(in);
    snprintf(err, errlen, "out of memory");
    return SOS_ENOMEM;
  }
  in->fd = open(path, O_RDONLY | O_CLOEXEC);
  int rc = 0;
  if (in->fd < 0) {
    rc = errno == ENOENT ? SOS_ENOENT : SOS_EIO;
    snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
  }
  uint64_t n = 0;
  if (!rc) rc = in_pass(in, plen, NULL, &n, err, errlen); /* all of it, before any change */
  if (!rc) rc = restore_apply(st, in, prefix, plen, owner, &n, err, errlen);
  if (rc && errlen && !err[0]) /* a read failed, or the file shrank between the passes */
    snprintf(err, errlen, "cannot read %s: %s", path,
             rc == SOS_EINVAL ? "it is shorter than it was" : sos_strerror(rc));
  if (!rc) *keys = n;
  if (in->fd >= 0) close(in->fd);
  EVP_MD_CTX_free(in->md);
  sos_free(in->val);
  sos_free(in);
  return rc;
}

void sos_store_stats(sos_store *st, uint64_t *commits, uint64_t *batches) {
  pthread_mutex_lock(&st->mu);
  *commits = st->commits;
  *batches = st->batches;
  pthread_mutex_unlock(&st->mu);
}
