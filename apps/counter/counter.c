/*
 * counter.c - state in instance memory: a count that lives as long as the
 * instance does.
 *
 *   incr  -> the new count, decimal
 *   get   -> the count, decimal
 *
 * An instance keeps its memory between requests and handles one request
 * at a time, so a global needs no lock.  The app runs exactly one
 * instance (`instances 1..1`), so every caller sees the same count; the
 * count starts again at 0 when the instance is replaced (a new version, a
 * crash).  Durable state belongs in a store.
 */
#include "sos.h"

static unsigned long long count;

static int incr(const struct sos_request *req) {
  (void)req;
  return sos_respondf("%llu", ++count);
}

static int get(const struct sos_request *req) {
  (void)req;
  return sos_respondf("%llu", count);
}

void sos_main(void) {
  sos_method("incr", incr);
  sos_method("get", get);
}
