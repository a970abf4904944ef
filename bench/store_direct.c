/*
 * store_direct.c - the native reference for the storage benchmark
 * (scripts/bench_store.sh): the same operations as bench/apps/kvbench,
 * done by C code calling LMDB directly and through the store layer.
 *
 *   store_direct DIR N K   fills K keys k00000000.. (16-byte values), then
 *   prints "NAME ns_per_op" lines:
 *     lmdb_get_txn   mdb_get with a read transaction per get (what the
 *                    kernel does for each kv_get)
 *     lmdb_get       mdb_get in one long read transaction (the floor)
 *     store_get      sos_store_get
 *     lmdb_put_sync  one durable write transaction per put
 *     store_put_4t   sos_store_submit of single puts from 4 threads,
 *                    each waiting for durability (group commit)
 */
#include "sos/base.h"
#include "sos/store.h"

#include <lmdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static uint64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static const char val[16] = "0123456789abcdef";
static int N, K;

/* The next random key among the first K, formatted as the guest does. */
static int key_of(char *key, uint32_t *x) {
  *x = *x * 1664525u + 1013904223u;
  uint32_t i = *x % (uint32_t)K;
  key[0] = 'k';
  for (int d = 8; d >= 1; d--, i /= 10) key[d] = (char)('0' + i % 10);
  return 9;
}

static void lmdb_gets(const char *dir) {
  MDB_env *env;
  MDB_txn *t;
  MDB_dbi dbi;
  mdb_env_create(&env);
  mdb_env_set_maxdbs(env, 4);
  mdb_env_set_mapsize(env, 1ull << 30);
  char path[512];
  snprintf(path, sizeof path, "%s/raw", dir);
  mkdir(path, 0700);
  mdb_env_open(env, path, MDB_NOTLS, 0600);
  mdb_txn_begin(env, NULL, 0, &t);
  mdb_dbi_open(t, "data", MDB_CREATE, &dbi);
  for (int i = 0; i < K; i++) {
    char key[16];
    MDB_val k = {(size_t)snprintf(key, sizeof key, "k%08d", i), key}, v = {16, (void *)val};
    mdb_put(t, dbi, &k, &v, 0);
  }
  mdb_txn_commit(t);
  uint32_t x = 12345;
  uint64_t t0 = now_ns();
  for (int i = 0; i < N; i++) {
    char key[16];
    MDB_val k = {(size_t)key_of(key, &x), key}, v;
    mdb_txn_begin(env, NULL, MDB_RDONLY, &t);
    if (mdb_get(t, dbi, &k, &v)) abort();
    mdb_txn_abort(t);
  }
  printf("lmdb_get_txn %.1f\n", (double)(now_ns() - t0) / N);
  mdb_txn_begin(env, NULL, MDB_RDONLY, &t);
  t0 = now_ns();
  for (int i = 0; i < N; i++) {
    char key[16];
    MDB_val k = {(size_t)key_of(key, &x), key}, v;
    if (mdb_get(t, dbi, &k, &v)) abort();
  }
  printf("lmdb_get %.1f\n", (double)(now_ns() - t0) / N);
  mdb_txn_abort(t);
  int puts = 200;
  t0 = now_ns();
  for (int i = 0; i < puts; i++) {
    char key[24];
    MDB_val k = {(size_t)snprintf(key, sizeof key, "p%08d", i), key}, v = {16, (void *)val};
    mdb_txn_begin(env, NULL, 0, &t);
    mdb_put(t, dbi, &k, &v, 0);
    mdb_txn_commit(t);
  }
  printf("lmdb_put_sync %.1f\n", (double)(now_ns() - t0) / puts);
  mdb_env_close(env);
}

struct waiter {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int done;
};

static void on_done(void *user, int rc, uint64_t info) {
  (void)info;
  struct waiter *w = user;
  if (rc) abort();
  pthread_mutex_lock(&w->mu);
  w->done = 1;
  pthread_cond_signal(&w->cv);
  pthread_mutex_unlock(&w->mu);
}

static sos_store *st;
static int per_thread = 2000;

static void *putter(void *arg) {
  struct sos_store_quota q = {"bench", 0, 0};
  struct waiter w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};
  for (int i = 0; i < per_thread; i++) {
    char key[32];
    int kl = snprintf(key, sizeof key, "t%ld-%d", (long)(intptr_t)arg, i);
    struct sos_store_op op = {SOS_STORE_PUT, false, key, (uint32_t)kl, val, 16};
    w.done = 0;
    if (sos_store_submit(st, &q, &op, 1, on_done, &w)) abort();
    pthread_mutex_lock(&w.mu);
    while (!w.done) pthread_cond_wait(&w.cv, &w.mu);
    pthread_mutex_unlock(&w.mu);
  }
  return NULL;
}

int main(int argc, char **argv) {
  if (argc != 4) return 2;
  N = atoi(argv[2]);
  K = atoi(argv[3]);
  lmdb_gets(argv[1]);
  char path[512], err[256];
  snprintf(path, sizeof path, "%s/store", argv[1]);
  if (sos_store_open(path, NULL, &st, err, sizeof err)) return fprintf(stderr, "%s\n", err), 1;
  struct sos_store_quota q = {"bench", 0, 0};
  for (int i = 0; i < K; i += 256) {
    struct sos_store_op ops[256];
    char keys[256][16];
    int n = 0;
    for (; n < 256 && i + n < K; n++) {
      int kl = snprintf(keys[n], 16, "k%08d", i + n);
      ops[n] = (struct sos_store_op){SOS_STORE_PUT, false, keys[n], (uint32_t)kl, val, 16};
    }
    struct waiter w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};
    sos_store_submit(st, &q, ops, (uint32_t)n, on_done, &w);
    pthread_mutex_lock(&w.mu);
    while (!w.done) pthread_cond_wait(&w.cv, &w.mu);
    pthread_mutex_unlock(&w.mu);
  }
  uint32_t x = 12345;
  char buf[64];
  size_t len;
  uint64_t t0 = now_ns();
  for (int i = 0; i < N; i++) {
    char key[16];
    int kl = key_of(key, &x);
    if (sos_store_get(st, key, (size_t)kl, buf, sizeof buf, &len)) abort();
  }
  printf("store_get %.1f\n", (double)(now_ns() - t0) / N);
  pthread_t th[4];
  t0 = now_ns();
  for (long i = 0; i < 4; i++) pthread_create(&th[i], NULL, putter, (void *)i);
  for (int i = 0; i < 4; i++) pthread_join(th[i], NULL);
  printf("store_put_4t %.1f\n", (double)(now_ns() - t0) / (4 * per_thread));
  sos_store_close(st);
  return 0;
}
