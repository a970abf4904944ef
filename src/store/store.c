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
 * LMDB errors become SOS errors here and go no further (STYLE.md).
 */
#include "sos/store.h"

#include "sos/base.h"

#include <errno.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

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
  if (read_txn(st, &t)) return SOS_EIO;
  if (mdb_cursor_open(t, st->data, &c)) {
    mdb_txn_abort(t);
    return SOS_EIO;
  }
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
        ops[i].kind < SOS_STORE_PUT || ops[i].kind > SOS_STORE_TRIM ||
        (ops[i].kind == SOS_STORE_TRIM && ops[i].vlen != 8) ||
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

/* Applies one op in t, adding its effect on usage to d[2]; an append puts
 * its offset in *offset. */
static int apply_op(sos_store *st, MDB_txn *t, const struct sos_store_op *op, int64_t d[2],
                    uint64_t *offset) {
  if (op->kind == SOS_STORE_APPEND) return apply_append(st, t, op, d, offset);
  if (op->kind == SOS_STORE_TRIM) return apply_trim(st, t, op, d);
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

int64_t sos_store_purge(sos_store *st, const void *prefix, size_t plen, const char *owner) {
  MDB_txn *t;
  MDB_cursor *c;
  if (mdb_txn_begin(st->env, NULL, 0, &t)) return SOS_EIO;
  if (mdb_cursor_open(t, st->data, &c)) {
    mdb_txn_abort(t);
    return SOS_EIO;
  }
  MDB_val k = {plen, (void *)prefix}, v;
  int64_t n = 0, d[2] = {0, 0};
  int rc = mdb_cursor_get(c, &k, &v, plen ? MDB_SET_RANGE : MDB_FIRST);
  while (rc == 0 && k.mv_size >= plen && !memcmp(k.mv_data, prefix, plen)) {
    d[0] -= (int64_t)(k.mv_size + v.mv_size);
    d[1] -= 1;
    n++;
    if ((rc = mdb_cursor_del(c, 0))) break;
    rc = mdb_cursor_get(c, &k, &v, MDB_GET_CURRENT); /* the next key, after a delete */
    if (rc == EINVAL) rc = MDB_NOTFOUND;             /* deleted the last one */
  }
  mdb_cursor_close(c);
  if ((rc && rc != MDB_NOTFOUND) || charge(st, t, owner, 0, 0, d)) {
    mdb_txn_abort(t);
    return SOS_EIO;
  }
  return mdb_txn_commit(t) ? SOS_EIO : n;
}

void sos_store_stats(sos_store *st, uint64_t *commits, uint64_t *batches) {
  pthread_mutex_lock(&st->mu);
  *commits = st->commits;
  *batches = st->batches;
  pthread_mutex_unlock(&st->mu);
}
