/*
 * escape.c - a test service that attacks the kv system calls with crafted
 * arguments and answers one line per attempt, "NAME STATUS", so the test
 * can check each status.  Methods:
 *   probe     every attempt that returns (names, lengths, batches, keys
 *             that try to look like another store's)
 *   wildptr   kv_get with a key pointer past the end of memory: traps
 *   wildbuf   kv_get into a buffer past the end of memory: traps
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sos.h"

#define RAW(name) __attribute__((import_module("sos"), import_name(name)))
RAW("kv_get") int32_t raw_get(const void *s, size_t sl, const void *k, size_t kl, void *b, size_t cap, uint32_t *len);
RAW("kv_put") int32_t raw_put(const void *s, size_t sl, const void *k, size_t kl, const void *v, size_t vl);
RAW("kv_batch") int32_t raw_batch(const void *s, size_t sl, const void *ops, size_t len);
RAW("log_append") int64_t raw_append(const void *s, size_t sl, const void *r, size_t rl);
RAW("log_read") int32_t raw_read(const void *s, size_t sl, int64_t from, uint32_t lim, void *buf, size_t cap, uint32_t *len);
RAW("log_tail") int32_t raw_tail(const void *s, size_t sl, int64_t from, int32_t timeout);
RAW("log_trim") int32_t raw_trim(const void *s, size_t sl, int64_t before);
RAW("table_put") int32_t raw_tput(const void *s, size_t sl, const void *r, size_t rl);
RAW("table_query") int32_t raw_tquery(const void *s, size_t sl, uint32_t field, const void *lo, size_t lol, const void *hi, size_t hil, uint32_t lim, void *buf, size_t cap, uint32_t *len);
RAW("kv_scan") int32_t raw_scan(const void *s, size_t sl, const void *a, size_t al, const void *b, size_t bl, uint32_t lim, void *buf, size_t cap, uint32_t *len);

static char out[4096];
static size_t used;

static void note(const char *name, int32_t status) {
  used += (size_t)snprintf(out + used, sizeof out - used, "%s %d\n", name, (int)status);
}

static int probe(const struct sos_request *req) {
  (void)req;
  used = 0;
  static char big[(1u << 20) + 1];
  char key[300];
  memset(key, 'k', sizeof key);
  note("store-with-nul", raw_put("mine\0x", 6, "k", 1, "v", 1));
  note("undeclared-store", raw_put("theirs", 6, "k", 1, "v", 1));
  note("empty-store", raw_put("", 0, "k", 1, "v", 1));
  note("empty-key", raw_put("mine", 4, "", 0, "v", 1));
  note("long-key", raw_put("mine", 4, key, 257, "v", 1));
  note("max-key", raw_put("mine", 4, key, 256, "v", 1));
  note("big-value", raw_put("mine", 4, "k", 1, big, sizeof big));
  note("forged-key", raw_put("mine", 4, "\0box\0k1", 7, "forged", 6)); /* only ever ours */
  uint8_t bad[9] = {1, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0};     /* key length overflow */
  note("batch-overflow", raw_batch("mine", 4, bad, sizeof bad));
  uint8_t kind[9] = {9, 1, 0, 0, 0, 0, 0, 0, 0};
  note("batch-bad-kind", raw_batch("mine", 4, kind, sizeof kind));
  note("batch-empty", raw_batch("mine", 4, kind, 0));
  uint32_t len = 0;
  char buf[64];
  note("get-forged", raw_get("mine", 4, "\0box\0k1", 7, buf, sizeof buf, &len));
  note("get-other-service", raw_get("box", 3, "k1", 2, buf, sizeof buf, &len));
  note("scan-all", raw_scan("mine", 4, "", 0, "", 0, 100, out + 3000, 1000, &len));
  note("log-append-to-kv", (int32_t)raw_append("mine", 4, "r", 1));
  note("log-append-undeclared", (int32_t)raw_append("theirs", 6, "r", 1));
  note("log-append-big", (int32_t)raw_append("events", 6, big, sizeof big));
  note("log-read-negative", raw_read("events", 6, -1, 10, buf, sizeof buf, &len));
  note("log-tail-negative", raw_tail("events", 6, -5, 0));
  note("log-tail-empty-now", raw_tail("events", 6, 0, 0));
  note("log-trim-negative", raw_trim("events", 6, -1));
  note("log-append", (int32_t)raw_append("events", 6, "r", 1));
  note("log-read", raw_read("events", 6, 0, 10, buf, sizeof buf, &len));
  /* rows in the wire format (id: u64 = 1, note: text = 2): keys are
   * tag << 3 | wire type, 0x08 id as a VARINT, 0x12 note as a LEN */
  static const uint8_t good[] = {0x08, 7};
  static const uint8_t wrong_type[] = {0x0a, 1, 7};                /* id as LEN */
  static const uint8_t bad_wire[] = {0x08, 7, 0x13, 0};            /* wire type 3 */
  static const uint8_t bad_utf8[] = {0x08, 7, 0x12, 1, 0xff};
  static const uint8_t cut[] = {0x08};                             /* no value */
  static const uint8_t long_varint[] = {0x08, 0xff, 0xff, 0xff, 0xff, 0xff,
                                        0xff, 0xff, 0xff, 0xff, 0x02};
  static const uint8_t text_overrun[] = {0x08, 7, 0x12, 5, 'x'};
  static const uint8_t unknown_tag[] = {0x08, 7, 0x48, 1};         /* tag 9: kept */
  static const uint8_t twice[] = {0x08, 8, 0x08, 7};               /* the last counts: 7 */
  static const uint8_t no_key[] = {0x12, 1, 'z'};                  /* key 0 */
  note("table-row", raw_tput("rows", 4, good, sizeof good));
  note("table-wrong-type", raw_tput("rows", 4, wrong_type, sizeof wrong_type));
  note("table-bad-wire-type", raw_tput("rows", 4, bad_wire, sizeof bad_wire));
  note("table-bad-utf8", raw_tput("rows", 4, bad_utf8, sizeof bad_utf8));
  note("table-truncated", raw_tput("rows", 4, cut, sizeof cut));
  note("table-varint-past-64-bits", raw_tput("rows", 4, long_varint, sizeof long_varint));
  note("table-length-overrun", raw_tput("rows", 4, text_overrun, sizeof text_overrun));
  note("table-on-a-kv-store", raw_tput("mine", 4, good, sizeof good));
  note("table-unknown-field-kept", raw_tput("rows", 4, unknown_tag, sizeof unknown_tag));
  note("table-field-twice-last-counts", raw_tput("rows", 4, twice, sizeof twice));
  note("table-no-key-is-key-0", raw_tput("rows", 4, no_key, sizeof no_key));
  note("table-query-unindexed", raw_tquery("rows", 4, 2, "", 0, "", 0, 10, buf, sizeof buf, &len));
  note("table-query-bad-bound", raw_tquery("rows", 4, 1, cut, sizeof cut, "", 0, 10, buf, sizeof buf, &len));
  note("table-query-all", raw_tquery("rows", 4, 1, "", 0, "", 0, 10, buf, sizeof buf, &len));
  /* two rows in key order: 0 {note "z"} (3 bytes), then 7 as twice wrote it (4) */
  note("table-query-bytes", (int32_t)len);
  note("table-query-first-row", buf[4] == 0x12 && buf[6] == 'z');
  return sos_respond(out, used);
}

static int wildptr(const struct sos_request *req) {
  (void)req;
  uint32_t len;
  char buf[8];
  raw_get("mine", 4, (const void *)(uintptr_t)0xfffffff0u, 64, buf, sizeof buf, &len);
  return sos_respond_str("survived");
}

static int wildbuf(const struct sos_request *req) {
  (void)req;
  uint32_t len;
  raw_get("mine", 4, "max", 3, (void *)(uintptr_t)0xfffff000u, 65536, &len);
  return sos_respond_str("survived");
}

void sos_main(void) {
  sos_method("probe", probe);
  sos_method("wildptr", wildptr);
  sos_method("wildbuf", wildbuf);
}
