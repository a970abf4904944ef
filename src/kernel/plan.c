/*
 * plan.c - time travel: a graph of dependent calls that a caller sends as
 * one message and the kernel runs next to the callees.
 *
 * A plan (struct Plan of the `sos` package, src/idl/builtins.c, sent with
 * the call_plan system call) is a list of steps.  A step calls
 * service.method with a request built from its template (wire bytes) and
 * its binds: each bind sets a field of the request to a field of an
 * earlier step's result (`hello.name := lookup.person.name`).  A step may
 * also run once per element of a list in an earlier result (`each`),
 * that element going into one field of its request, after dropping the
 * elements a `where` condition rejects: map and filter.  Steps run as
 * soon as the steps they read from have succeeded, so independent steps
 * run in parallel.  Only the steps marked `keep` come back, in one
 * PlanResult message; the caller sees one handle, one round trip.
 *
 * Splicing is cheap because of the wire format (docs/wire.md): a field
 * that appears twice keeps its last value, so setting a field of a
 * request is appending one key and the source field's payload, copied
 * as it is, to the template.  The kernel checks first that the source
 * field and the target field have the same type (through both services'
 * schemas), so a plan can never make a callee misread a value.  Only
 * typed methods (of a service's interface) can be read from or bound to.
 *
 * A step that fails ends the plan: steps not started are not started,
 * the plan's status is the failed step's, and PlanResult.failed names it
 * (1-based).  Closing the plan's handle cancels it the same way.  Each
 * step's call obeys the caller's `uses`, the plan's deadline and the
 * callee's timeout, exactly as a call the caller made itself would.
 *
 * A plan's life: plan_get (k->mu held) takes the caller instance's kept
 * plan when the message has the same steps, else plan_new decodes and
 * checks it (and it is kept); advance launches the steps that depend on
 * nothing; each step's requests complete through sos__k_plan_step_done,
 * which records the result and launches what has become ready; when
 * nothing runs and nothing can start, the plan's own request completes
 * with the encoded PlanResult, and a kept plan waits for the next.
 */
#include "kernel/kernel.h"

#include <stdio.h>
#include <string.h>

#define MAX_STEPS 256
#define MAX_ITEMS 4096 /* calls one `each` step may make */
/* The most an instance's kept plan may take, message and steps (a step
 * is about 300 bytes decoded): with 10,000 idle instances that kept one
 * each, 160 MiB at worst; a plan of 50 steps or so fits. */
#define MAX_CACHED (16u << 10)

enum { S_WAIT, S_RUN, S_DONE };
enum { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE };

/* A bind, read from the plan message once (plan_new) and resolved
 * against the schemas once, when its step is launched first (resolve). */
struct bind {
  const char *field, *path; /* borrowed from the plan message */
  uint32_t flen, plen, from;
  struct sos_idl_path src;  /* path in step from's response struct */
  uint32_t tag;             /* the request's field it sets */
};

struct item {
  int status;
  uint8_t *body;
  uint32_t len;
};

struct step {
  const char *service, *method, *each_path, *each_field, *where_path, *where_text;
  uint32_t slen, mlen, each_plen, each_flen, where_plen, where_tlen;
  const uint8_t *tmpl;  /* its request for this run, before binds: */
  uint32_t tlen;
  const uint8_t *dtmpl; /* the plan's requests element, else its template */
  uint32_t dtlen;
  const uint8_t *blist; /* the list of Bind in the message */
  uint32_t blen, nbinds, each_from;
  struct bind *binds;    /* its nbinds binds, in the plan's array */
  bool each, where, where_num, keep;
  uint32_t where_op;
  int64_t where_int;
  int state, status;
  bool resolved;  /* svc, img, the types and binds are known ... */
  uint64_t gen;   /* ... as of this k->svc_gen */
  struct svc *svc;
  struct image_ref *img; /* the callee's image when it started (a reference) */
  int req_type, resp_type;
  struct item *items; /* one per call: &one, or one per element for each */
  struct item one;
  uint32_t nitems, pending;
  uint64_t deps[MAX_STEPS / 64];    /* the steps it reads from, one bit each */
  uint64_t readers[MAX_STEPS / 64]; /* the steps that read from it */
  uint32_t nreaders, unread;        /* how many; of them, not launched yet */
};

/* A plan and its steps are one allocation (plan_new). */
struct plan {
  /* The plan message but a leading requests field, and steps borrow from
   * it: borrowed itself from the plan's request, which outlives every read
   * of it (a plan whose request is answered early, orphaned, starts
   * nothing more); or the cached plan's own copy. */
  const uint8_t *msg;
  uint32_t len;
  const uint8_t *reqs; /* a requests list in msg (the last), or NULL */
  uint32_t rlen;
  /* An instance's cached plan (in->plan): kept decoded and resolved after
   * it ends, for the next plan of the instance with the same message but
   * the requests (plan_get). */
  uint8_t *copy;      /* msg, owned */
  struct inst *owner; /* NULL: its instance retired while it ran */
  bool busy;          /* it runs */
  struct step *steps;
  uint32_t nsteps, running;
  uint64_t done[MAX_STEPS / 64]; /* the steps in S_DONE */
  uint64_t todo[MAX_STEPS / 64]; /* the steps that may have become ready */
  uint32_t cap; /* steps the block has room for */
  struct bind *binds; /* every step's binds, in step order */
  uint32_t bcap;      /* binds it has room for (kept with the block) */
  struct req *spare;  /* a finished step's request, for the next step's
                         (kept with the block too) */
  int failed;     /* 1-based step that failed, or 0 */
  /* Steps not launched yet.  (Not next to running: gcc would update the
   * two with one 8-byte load, which stalls on their 4-byte stores.) */
  uint32_t left;
  bool cancelled;
  struct req *r; /* the caller's request (its handle) */
  struct inst *caller;
};

/* ---- reading wire bytes ------------------------------------------------ */

/* Step sets: a bit per step (deps, done). */
static void set_bit(uint64_t *set, uint32_t i) { set[i / 64] |= 1ull << (i % 64); }
static bool has_bit(const uint64_t *set, uint32_t i) { return (set[i / 64] >> (i % 64)) & 1; }

/* A cursor over wire bytes; every read is bounds-checked. */
struct cur {
  const uint8_t *p, *end;
};

static inline __attribute__((always_inline)) bool varint(struct cur *c, uint64_t *v) {
  if (c->p < c->end && *c->p < 0x80) { /* most varints: one byte */
    *v = *c->p++;
    return true;
  }
  uint64_t x = 0;
  for (int s = 0; s < 64 && c->p < c->end; s += 7) {
    uint8_t b = *c->p++;
    if (s == 63 && b > 1) return false; /* past 2^64 - 1 */
    x |= (uint64_t)(b & 0x7f) << s;
    if (!(b & 0x80)) {
      *v = x;
      return true;
    }
  }
  return false;
}

/* The next field: its tag, wire type, varint value or payload. */
static inline __attribute__((always_inline)) bool field(struct cur *c, uint32_t *tag, uint32_t *wire, uint64_t *u,
                  const uint8_t **p, uint32_t *n) {
  uint64_t key;
  if (c->p >= c->end || !varint(c, &key)) return false;
  *tag = key >> 3 > UINT32_MAX ? 0 : (uint32_t)(key >> 3); /* 0: unknown, skipped */
  *wire = key & 7;
  *p = c->p;
  *n = 0;
  switch (*wire) {
  case 0: return varint(c, u);
  case 1: *n = 8; break;
  case 5: *n = 4; break;
  case 2:
    if (!varint(c, u) || *u > (uint64_t)(c->end - c->p)) return false;
    *p = c->p;
    *n = (uint32_t)*u;
    break;
  default: return false;
  }
  if ((size_t)(c->end - c->p) < *n) return false;
  c->p += *n;
  return true;
}

/* The next element of a list of LEN elements. */
static bool element(struct cur *c, const uint8_t **p, uint32_t *n) {
  uint64_t len;
  if (!varint(c, &len) || len > (uint64_t)(c->end - c->p)) return false;
  *p = c->p;
  *n = (uint32_t)len;
  c->p += len;
  return true;
}

/* ---- decoding a plan ---------------------------------------------------- */

/* The plan is decoded strictly in one walk, without sos_idl_check's
 * separate pass: every field parses to the end of its struct, and a known
 * field must have its schema's wire type (W_* below: field 1 first, "0"
 * VARINT, "2" LEN); unknown fields are skipped, as the wire format says.
 * Text is not checked for UTF-8: names are compared with known names,
 * paths resolved through schemas.  Only a refused plan is checked again
 * by sos_idl_check, for its message. */
static const char W_PLAN[] = "22", W_STEP[] = "22222220", W_BIND[] = "22", W_REF[] = "02",
                  W_WHERE[] = "2002";

/* Whether (tag, wire) is a known field of the struct with wires w; a
 * known field with another wire type clears *ok. */
#define known(w, tag, wire, ok) known_of(w, sizeof w - 1, tag, wire, ok)
static bool known_of(const char *w, uint32_t n, uint32_t tag, uint32_t wire, bool *ok) {
  if (tag == 0 || tag > n) return false;
  if ((uint32_t)(w[tag - 1] - '0') != wire) *ok = false;
  return *ok;
}

static bool read_ref(const uint8_t *p, uint32_t n, uint32_t *step, const char **path,
                     uint32_t *plen) {
  struct cur c = {p, p + n};
  uint32_t tag, wire, len;
  uint64_t u = 0;
  const uint8_t *q;
  bool ok = true;
  while (ok && c.p < c.end) {
    if (!field(&c, &tag, &wire, &u, &q, &len)) return false;
    if (!known(W_REF, tag, wire, &ok)) continue;
    if (tag == 1) *step = (uint32_t)u, ok = u <= UINT32_MAX;
    if (tag == 2) *path = (const char *)q, *plen = len;
  }
  return ok;
}

/* How many LEN elements the list payload p (n bytes) holds, counting a
 * malformed one. */
static uint32_t count(const uint8_t *p, uint32_t n) {
  struct cur c = {p, p + n};
  const uint8_t *e;
  uint32_t elen, k = 0;
  while (c.p < c.end) {
    k++;
    if (!element(&c, &e, &elen)) break;
  }
  return k;
}

/* The next bind of a list at c into *b; false at the end or when the
 * list does not decode. */
static bool next_bind(struct cur *c, struct bind *b) {
  const uint8_t *e, *q;
  uint32_t elen, tag, wire, len;
  uint64_t u = 0;
  bool ok = true;
  if (c->p >= c->end || !element(c, &e, &elen)) return false;
  struct cur f = {e, e + elen};
  *b = (struct bind){0};
  while (ok && f.p < f.end) {
    if (!field(&f, &tag, &wire, &u, &q, &len)) return false;
    if (!known(W_BIND, tag, wire, &ok)) continue;
    if (tag == 1) b->field = (const char *)q, b->flen = len;
    if (tag == 2) ok = read_ref(q, len, &b->from, &b->path, &b->plen);
  }
  return ok;
}

/* Whether the list of binds p (n bytes) decodes. */
static bool binds_ok(const uint8_t *p, uint32_t n) {
  struct cur c = {p, p + n};
  struct bind b;
  while (c.p < c.end)
    if (!next_bind(&c, &b)) return false;
  return true;
}

/* Notes a step's list of binds; plan_new reads them (the last `binds`
 * field counts, but an earlier one must decode too, as sos_idl_check
 * requires: it is checked here, when a later one replaces it). */
static bool read_binds(struct step *st, const uint8_t *p, uint32_t n) {
  if (st->blist && !binds_ok(st->blist, st->blen)) return false;
  st->blist = p;
  st->blen = n;
  st->nbinds = count(p, n);
  return true;
}

static bool read_where(struct step *st, const uint8_t *p, uint32_t n) {
  struct cur c = {p, p + n};
  uint32_t tag, wire, len;
  uint64_t u = 0;
  const uint8_t *q;
  bool ok = true;
  st->where = true;
  while (ok && c.p < c.end) {
    if (!field(&c, &tag, &wire, &u, &q, &len)) return false;
    if (!known(W_WHERE, tag, wire, &ok)) continue;
    if (tag == 1) st->where_path = (const char *)q, st->where_plen = len;
    if (tag == 2) st->where_op = (uint32_t)u, ok = u <= INT32_MAX; /* an enum: i32 */
    if (tag == 3) st->where_num = true, st->where_int = (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
    if (tag == 4) st->where_text = (const char *)q, st->where_tlen = len;
  }
  return ok;
}

static bool read_step(struct step *st, const uint8_t *p, uint32_t n) {
  struct cur c = {p, p + n};
  uint32_t tag, wire, len;
  uint64_t u = 0;
  const uint8_t *q;
  bool ok = true;
  while (ok && c.p < c.end) {
    if (!field(&c, &tag, &wire, &u, &q, &len)) return false;
    if (!known(W_STEP, tag, wire, &ok)) continue;
    switch (tag) {
    case 1: st->service = (const char *)q, st->slen = len; break;
    case 2: st->method = (const char *)q, st->mlen = len; break;
    case 3: st->dtmpl = q, st->dtlen = len; break;
    case 4: ok = read_binds(st, q, len); break;
    case 5:
      st->each = true;
      ok = read_ref(q, len, &st->each_from, &st->each_path, &st->each_plen);
      break;
    case 6: st->each_field = (const char *)q, st->each_flen = len; break;
    case 7: ok = read_where(st, q, len); break;
    case 8:
      st->keep = u != 0;
      ok = u <= 1;
      break;
    }
  }
  return ok;
}

/* Frees a plan's block, with its binds and spare request. */
static void block_free(struct kernel *k, struct plan *pl) {
  if (!pl) return;
  sos_free(pl->binds);
  sos__k_req_free(k, pl->spare);
  sos_free(pl);
}

/* Frees what a run of pl leaves: its steps' results. */
static void run_clear(struct plan *pl) {
  for (uint32_t i = 0; i < pl->nsteps; i++) {
    struct step *st = &pl->steps[i];
    for (uint32_t j = 0; j < st->nitems; j++) sos_free(st->items[j].body);
    if (st->items != &st->one) sos_free(st->items);
    st->items = NULL;
    st->nitems = 0;
  }
}

/* Forgets what resolve found for every step (its image references). */
static void unresolve(struct kernel *k, struct plan *pl) {
  for (uint32_t i = 0; i < pl->nsteps; i++) {
    struct step *st = &pl->steps[i];
    if (st->img) sos__k_image_unref(k, st->img);
    st->img = NULL;
    st->svc = NULL;
    st->resolved = false;
  }
}

static void plan_destroy(struct kernel *k, struct plan *pl) {
  run_clear(pl);
  unresolve(k, pl);
  sos_free(pl->copy);
  pl->copy = NULL;
  /* The node keeps one block for the next plan: a plan of a few steps is
   * past malloc's small sizes, whose allocation costs a consolidation of
   * its free lists each time. */
  if (k->plan_spare && k->plan_spare->cap >= pl->cap) {
    block_free(k, pl);
  } else {
    block_free(k, k->plan_spare);
    k->plan_spare = pl;
  }
}

/* A run of pl ended: an instance's cached plan stays, the rest go. */
static void plan_free(struct kernel *k, struct plan *pl) {
  /* Its steps' deadline timer, kept by the spare request from step to
   * step (submit moves it), goes with the run. */
  if (pl->spare) sos__k_timer_clear(k, &pl->spare->timer);
  if (pl->copy && pl->owner) {
    run_clear(pl);
    pl->busy = false;
    pl->r = NULL;
    pl->caller = NULL;
    return;
  }
  plan_destroy(k, pl);
}

/* Copies a borrowed string of n bytes into buf (cap bytes); false when it
 * does not fit or holds a NUL. */
static bool cstr(const char *p, uint32_t n, char *buf, size_t cap) {
  if (n >= cap || (n && memchr(p, 0, n))) return false;
  memcpy(buf, p, n);
  buf[n] = 0;
  return true;
}

/* Whether p (n bytes) is a list of LEN elements. */
static bool list_ok(const uint8_t *p, uint32_t n) {
  struct cur c = {p, p + n};
  const uint8_t *e;
  uint32_t elen;
  while (c.p < c.end)
    if (!element(&c, &e, &elen)) return false;
  return true;
}

/* The steps list of a plan message: its payload in *p, *n, and the last
 * requests list's in *rp, *rn (an earlier one must decode too); returns
 * how many steps lists there are, or -1 when the message does not parse. */
static int plan_fields(const uint8_t *msg, uint32_t len, const uint8_t **p, uint32_t *n,
                       const uint8_t **rp, uint32_t *rn) {
  struct cur c = {msg, msg + len};
  uint32_t tag, wire, flen;
  int seen = 0;
  uint64_t u = 0;
  const uint8_t *q;
  bool ok = true;
  while (ok && c.p < c.end) {
    if (!field(&c, &tag, &wire, &u, &q, &flen)) return -1;
    if (!known(W_PLAN, tag, wire, &ok)) continue;
    if (tag == 1) *p = q, *n = flen, seen++;
    if (tag == 2 && *rp && !list_ok(*rp, *rn)) return -1;
    if (tag == 2) *rp = q, *rn = flen;
  }
  return ok ? seen : -1;
}

/* Decodes the plan message msg (len bytes, borrowed) into a new plan in
 * *out (fit: in a block of its own size, not the node's spare, which may
 * be larger: it is to be kept); 0, or a status with err set (*out, when
 * set, is freed with plan_destroy).  Checked here: what needs no callee
 * (the encoding, counts, names, references to earlier steps only). */
static int plan_new(struct kernel *k, const uint8_t *msg, uint32_t len, bool fit,
                    struct plan **out, char *err, size_t errlen) {
  const uint8_t *sp = NULL, *e, *rp = NULL;
  uint32_t sn = 0, m = 0, elen, rn = 0;
  *out = NULL;
  int lists = plan_fields(msg, len, &sp, &sn, &rp, &rn);
  if (lists > 1) {
    snprintf(err, errlen, "a plan has one list of steps");
    return SOS_STATUS_INVALID;
  }
  if (lists == 1 && (m = count(sp, sn)) > MAX_STEPS) {
    snprintf(err, errlen, "a plan has at most %d steps", MAX_STEPS);
    return SOS_STATUS_TOO_BIG;
  }
  struct plan *pl = k->plan_spare;
  uint32_t cap = m, bcap = 0;
  struct bind *binds = NULL;
  struct req *spare = NULL;
  if (!fit && pl && pl->cap >= m) { /* fit: a block of its own size, to keep */
    cap = pl->cap;
    binds = pl->binds, bcap = pl->bcap, spare = pl->spare;
    k->plan_spare = NULL;
  } else if (!(pl = sos_malloc(sizeof *pl + m * sizeof(struct step)))) {
    return SOS_STATUS_BUSY;
  }
  memset(pl, 0, sizeof *pl + m * sizeof(struct step));
  pl->cap = cap;
  pl->binds = binds, pl->bcap = bcap, pl->spare = spare;
  pl->msg = msg;
  pl->len = len;
  pl->reqs = rp;
  pl->rlen = rn;
  pl->steps = (struct step *)(pl + 1);
  bool ok = lists >= 0;
  if (!sp) sp = (const uint8_t *)"";
  struct cur l = {sp, sp + sn};
  uint32_t nb = 0;
  while (ok && pl->nsteps < m) {
    struct step *st = &pl->steps[pl->nsteps++];
    ok = element(&l, &e, &elen) && read_step(st, e, elen);
    nb += st->nbinds;
  }
  *out = pl;
  if (ok && nb > pl->bcap) {
    sos_free(pl->binds);
    pl->bcap = 0;
    if (!(pl->binds = sos_malloc(nb * sizeof *pl->binds))) return SOS_STATUS_BUSY;
    pl->bcap = nb;
  }
  /* Every step's binds into the plan's array, each checked as it is read. */
  struct bind *bd = pl->binds;
  for (uint32_t i = 0; ok && i < pl->nsteps; i++) {
    struct step *st = &pl->steps[i];
    const uint8_t *bl = st->blist ? st->blist : (const uint8_t *)""; /* none: no NULL + 0 */
    struct cur c = {bl, bl + st->blen};
    st->binds = bd;
    for (uint32_t j = 0; ok && j < st->nbinds; j++) ok = next_bind(&c, bd++);
  }
  if (!ok) {
    if (!sos_idl_check(k->sos_idl, k->plan_type, msg, len, err, errlen))
      snprintf(err, errlen, "the plan's encoding is not that of sos.Plan");
    return SOS_STATUS_INVALID;
  }
  if (!m) {
    snprintf(err, errlen, "a plan needs at least one step");
    return SOS_STATUS_INVALID;
  }
  for (uint32_t i = 0; i < pl->nsteps; i++) {
    struct step *st = &pl->steps[i];
    for (uint32_t j = 0; j < st->nbinds; j++) {
      const struct bind *b = &st->binds[j];
      if (b->from >= i || !b->flen) {
        snprintf(err, errlen, "step %u: a bind must name a field and an earlier step", i);
        return SOS_STATUS_INVALID;
      }
      set_bit(st->deps, b->from);
    }
    if (st->each && (st->each_from >= i || !st->each_flen)) {
      snprintf(err, errlen, "step %u: each must name an earlier step and a field", i);
      return SOS_STATUS_INVALID;
    }
    if (st->each) set_bit(st->deps, st->each_from);
    for (uint32_t j = 0; j < i; j++)
      if (has_bit(st->deps, j)) set_bit(pl->steps[j].readers, i), pl->steps[j].nreaders++;
  }
  return 0;
}

void sos__k_plan_free_spare(struct kernel *k) {
  block_free(k, k->plan_spare);
  k->plan_spare = NULL;
}

/* ---- the instance's cached plan -------------------------------------------- */

/* A handler that sends plans usually sends the same steps each time with
 * other requests: the SDK writes the requests first, as one list (Plan
 * field 2, an element per step), and the steps after.  So the message
 * but a leading requests field is what runs of "the same plan" share:
 * each instance keeps its last plan decoded and resolved, and a plan
 * whose rest is byte for byte that plan's reuses it.  Its resolution
 * holds while no service has come or gone (k->svc_gen). */

/* Splits msg into a leading requests field's payload (*lead, or NULL)
 * and the rest (*rest, *rn). */
static void split(const uint8_t *msg, uint32_t len, const uint8_t **lead, uint32_t *ln,
                  const uint8_t **rest, uint32_t *rn) {
  uint32_t tag, wire, n;
  uint64_t u = 0;
  const uint8_t *q;
  *lead = NULL, *ln = 0, *rest = msg, *rn = len;
  if (!len) return;
  struct cur c = {msg, msg + len};
  if (field(&c, &tag, &wire, &u, &q, &n) && tag == 2 && wire == 2)
    *lead = q, *ln = n, *rest = c.p, *rn = (uint32_t)(c.end - c.p);
}

/* Sets each step's request for this run: the element of the requests
 * list (the rest's own when it has one: the later field counts), else
 * its template.  False when the list does not decode or is too long. */
static bool apply_requests(struct plan *pl, const uint8_t *lead, uint32_t ln) {
  if (lead && !list_ok(lead, ln)) return false;
  if (pl->reqs) lead = pl->reqs, ln = pl->rlen;
  for (uint32_t i = 0; i < pl->nsteps; i++)
    pl->steps[i].tmpl = pl->steps[i].dtmpl, pl->steps[i].tlen = pl->steps[i].dtlen;
  if (!lead) return true;
  struct cur c = {lead, lead + ln};
  for (uint32_t i = 0; c.p < c.end; i++)
    if (i == pl->nsteps || !element(&c, &pl->steps[i].tmpl, &pl->steps[i].tlen)) return false;
  return true;
}

/* Readies cached plan pl for another run. */
static void reset(struct kernel *k, struct plan *pl) {
  bool stale = false;
  for (uint32_t i = 0; i < pl->nsteps; i++) {
    struct step *st = &pl->steps[i];
    if (st->img && (!st->resolved || st->gen != k->svc_gen)) stale = true;
    st->state = S_WAIT;
    st->status = 0;
    st->one = (struct item){0};
    st->pending = 0;
  }
  if (stale) unresolve(k, pl);
  pl->running = 0;
  memset(pl->done, 0, sizeof pl->done);
  pl->failed = 0;
  pl->cancelled = false;
}

/* Readies pl's run-time state for a run from its first steps. */
static void run_begin(struct plan *pl) {
  pl->left = pl->nsteps;
  memset(pl->todo, 0, sizeof pl->todo);
  for (uint32_t i = 0; i < pl->nsteps; i++) {
    pl->steps[i].unread = pl->steps[i].nreaders;
    set_bit(pl->todo, i);
  }
}

/* The plan of message msg for caller (NULL: none, nothing cached) in
 * *out, ready to run: 0, or a status with err set. */
static int plan_get(struct kernel *k, struct inst *caller, const uint8_t *msg, uint32_t len,
                    struct plan **out, char *err, size_t errlen) {
  const uint8_t *lead, *rest;
  uint32_t ln, rn;
  split(msg, len, &lead, &ln, &rest, &rn);
  struct plan *c = caller ? caller->plan : NULL, *pl = c;
  if (c && !c->busy && c->len == rn && memcmp(c->msg, rest, rn) == 0) {
    reset(k, c);
    caller->svc->plans_reused++;
  } else {
    uint8_t *copy = NULL;
    if (caller && !(c && c->busy) && rn <= MAX_CACHED && (copy = sos_malloc(rn ? rn : 1))) {
      if (rn) memcpy(copy, rest, rn);
      rest = copy;
    }
    int status = plan_new(k, rest, rn, copy != NULL, &pl, err, errlen);
    if (status) {
      if (pl) plan_destroy(k, pl);
      sos_free(copy);
      return status;
    }
    pl->copy = copy; /* without an owner: freed with the plan */
    if (copy && rn + pl->cap * sizeof(struct step) + pl->bcap * sizeof(struct bind) <=
                    MAX_CACHED) {
      if (c) plan_destroy(k, c);
      pl->owner = caller;
      caller->plan = pl;
    }
  }
  pl->busy = true;
  *out = pl;
  run_begin(pl);
  if (!apply_requests(pl, lead, ln)) {
    if (!sos_idl_check(k->sos_idl, k->plan_type, msg, len, err, errlen))
      snprintf(err, errlen, "requests: one per step at most, as a list of bytes");
    return SOS_STATUS_INVALID;
  }
  return 0;
}

void sos__k_plan_stale(struct kernel *k) {
  for (struct svc *s = k->svcs; s; s = s->next)
    for (struct inst *in = s->all; in; in = in->all_next)
      if (in->plan && !in->plan->busy) unresolve(k, in->plan);
}

void sos__k_plan_drop(struct kernel *k, struct inst *in) {
  struct plan *pl = in->plan;
  in->plan = NULL;
  if (!pl) return;
  if (pl->busy) /* it ends on its own, and goes then */
    pl->owner = NULL;
  else
    plan_destroy(k, pl);
}

/* ---- launching steps ----------------------------------------------------- */

/* The type and place of a field, from a schema and a message. */
static int field_at(const struct sos_idl *idl, int type, const uint8_t *msg, uint32_t len,
                    const char *path, uint32_t plen, struct sos_idl_value *v, char *err,
                    size_t errlen) {
  struct sos_idl_path at;
  return sos_idl_path_resolve(idl, type, path, plen, &at, err, errlen) ||
                 sos_idl_path_get(idl, &at, msg, len, v, err, errlen)
             ? SOS_STATUS_INVALID
             : 0;
}

/* Whether a source field's value fits a target field (same type, same
 * list-ness unless elem, where the source is a list and the target takes
 * one element; structs and enums by name). */
static bool same_type(const struct step *from, const struct sos_idl_value *s,
                      const struct step *to, const struct sos_idl_value *t, bool elem) {
  if (s->type != t->type || (t->flags & SOS_APP_F_LIST)) {
    if (s->type != t->type) return false;
  }
  bool slist = (s->flags & SOS_APP_F_LIST) != 0, tlist = (t->flags & SOS_APP_F_LIST) != 0;
  if (elem ? (!slist || tlist) : slist != tlist) return false;
  if (s->type == SOS_APP_T_STRUCT) {
    const char *a = sos_idl_struct_name(from->img->idl, s->type_index);
    const char *b = sos_idl_struct_name(to->img->idl, t->type_index);
    return a && b && strcmp(a, b) == 0;
  }
  return true;
}

/* Appends field tag with the source's payload to the request b. */
static void append_field(struct sos_buf *b, uint32_t tag, const struct sos_idl_value *v) {
  if (!v->present) return;
  sos_idl_put_key(b, tag, v->wire);
  if (v->wire == 0) sos_buf_varint(b, v->u);
  else if (v->wire == 2) {
    sos_buf_varint(b, v->n);
    sos_buf_add(b, v->p, v->n);
  } else {
    uint8_t t[8];
    for (int i = 0; i < 8; i++) t[i] = (uint8_t)(v->u >> (8 * i));
    sos_buf_add(b, t, v->wire == 1 ? 8 : 4);
  }
}

/* The request of step st in b (emptied first): its template and its
 * binds. */
static int build_request(struct plan *pl, struct step *st, struct sos_buf *b, char *err,
                         size_t errlen) {
  b->len = 0;
  b->rc = 0;
  sos_buf_add(b, st->tmpl, st->tlen);
  for (uint32_t j = 0; j < st->nbinds; j++) {
    const struct bind *bd = &st->binds[j];
    const struct step *from = &pl->steps[bd->from];
    struct sos_idl_value s;
    if (sos_idl_path_get(from->img->idl, &bd->src, from->items[0].body, from->items[0].len,
                         &s, err, errlen))
      return SOS_STATUS_INVALID;
    append_field(b, bd->tag, &s);
  }
  return 0;
}

/* Whether element e of a list (of the type in v) passes st's where. */
static bool passes(const struct step *from, const struct step *st,
                   const struct sos_idl_value *v, const uint8_t *e, uint32_t n) {
  struct sos_idl_value f = {0};
  char err[8];
  if (!st->where) return true;
  if (v->type == SOS_APP_T_STRUCT) {
    if (field_at(from->img->idl, v->type_index, e, n, st->where_path, st->where_plen, &f,
                 err, sizeof err))
      return false;
  } else {
    f.type = v->type;
    f.p = e, f.n = n;
    struct cur c = {e, e + n};
    if (v->wire == 0 && varint(&c, &f.u)) f.i = (int64_t)(f.u >> 1) ^ -(int64_t)(f.u & 1);
  }
  int cmp;
  if (st->where_text && (f.type == SOS_APP_T_TEXT || f.type == SOS_APP_T_BYTES)) {
    size_t m = f.n < st->where_tlen ? f.n : st->where_tlen;
    cmp = memcmp(f.p, st->where_text, m);
    if (!cmp) cmp = f.n < st->where_tlen ? -1 : f.n > st->where_tlen;
  } else if (st->where_num && f.type >= SOS_APP_T_I8 && f.type <= SOS_APP_T_I64) {
    cmp = f.i < st->where_int ? -1 : f.i > st->where_int;
  } else if (st->where_num && f.type >= SOS_APP_T_BOOL && f.type <= SOS_APP_T_U64) {
    cmp = st->where_int < 0               ? 1
          : f.u < (uint64_t)st->where_int ? -1
                                          : f.u > (uint64_t)st->where_int;
  } else if (st->where_num && f.type == SOS_APP_T_ENUM) {
    cmp = (int64_t)f.u < st->where_int ? -1 : (int64_t)f.u > st->where_int;
  } else {
    return false;
  }
  switch (st->where_op) {
  case OP_EQ: return cmp == 0;
  case OP_NE: return cmp != 0;
  case OP_LT: return cmp < 0;
  case OP_LE: return cmp <= 0;
  case OP_GT: return cmp > 0;
  default: return cmp >= 0;
  }
}

/* Submits one call of step st (item index i) with request bytes b. */
static void submit(struct kernel *k, struct plan *pl, struct step *st, uint32_t i,
                   const struct sos_buf *b) {
  struct req *r = NULL;
  if (!b->rc) {
    r = sos__k_req_renew(k, pl->spare, st->method, st->mlen, b->p, b->len);
    pl->spare = NULL;
  }
  st->pending++;
  if (!r) {
    st->items[i].status = SOS_STATUS_BUSY;
    st->pending--;
    return;
  }
  r->svc = st->svc;
  r->plan = pl;
  r->plan_step = (uint32_t)(st - pl->steps);
  r->plan_item = i;
  uint64_t d = sos__k_after_ms(st->svc->cur->def->timeout_ms);
  r->deadline = pl->r->deadline && pl->r->deadline < d ? pl->r->deadline : d;
  st->svc->calls_planned++;
  sos__k_submit(k, r);
}

/* The calls of an `each` step: one per element that passes where. */
static int launch_each(struct kernel *k, struct plan *pl, struct step *st, char *err,
                       size_t errlen) {
  struct step *from = &pl->steps[st->each_from];
  struct sos_idl_value v, t;
  int rc = field_at(from->img->idl, from->resp_type, from->items[0].body,
                    from->items[0].len, st->each_path, st->each_plen, &v, err, errlen);
  if (!rc)
    rc = field_at(st->img->idl, st->req_type, NULL, 0, st->each_field, st->each_flen, &t,
                  err, errlen);
  if (rc) return rc;
  if (!same_type(from, &v, st, &t, true) ||
      (v.wire != 2 && v.type != SOS_APP_T_STRUCT && v.type != SOS_APP_T_TEXT &&
       v.type != SOS_APP_T_BYTES && t.wire != 0)) {
    snprintf(err, errlen, "each: step %u's %.*s is not a list of what %.*s takes",
             st->each_from, (int)st->each_plen, st->each_path, (int)st->each_flen,
             st->each_field);
    return SOS_STATUS_INVALID;
  }
  /* Elements: LEN-prefixed for text, bytes and structs; varints otherwise
   * (fixed-width floats are refused above, as wire 0 or 2 only). */
  bool lenp = t.wire == 2;
  struct cur c = {v.p, v.p + v.n};
  const uint8_t *marks[MAX_ITEMS];
  uint32_t lens[MAX_ITEMS], n = 0;
  while (c.p < c.end) {
    const uint8_t *e = c.p;
    uint32_t elen;
    uint64_t u = 0;
    if (lenp ? !element(&c, &e, &elen) : !varint(&c, &u)) break;
    if (!lenp) elen = (uint32_t)(c.p - e);
    if (!passes(from, st, &v, e, elen)) continue;
    if (n == MAX_ITEMS) {
      snprintf(err, errlen, "each: more than %d elements", MAX_ITEMS);
      return SOS_STATUS_TOO_BIG;
    }
    marks[n] = e;
    lens[n++] = elen;
  }
  if (n && !(st->items = sos_calloc(n, sizeof *st->items))) return SOS_STATUS_BUSY;
  st->nitems = n;
  for (uint32_t i = 0; i < n && !pl->failed; i++) {
    struct sos_buf *b = &k->plan_buf;
    if ((rc = build_request(pl, st, b, err, errlen))) return rc;
    sos_idl_put_key(b, t.tag, t.wire);
    if (lenp) sos_buf_varint(b, lens[i]);
    sos_buf_add(b, marks[i], lens[i]);
    submit(k, pl, st, i, b);
  }
  return 0;
}

/* An earlier step that called the same service and method and was
 * resolved, whose checks hold for st too; or NULL.  A chain calls one
 * method many times: its later steps skip the lookups. */
static const struct step *resolved_twin(const struct plan *pl, const struct step *st) {
  for (const struct step *o = st - 1; o >= pl->steps && o >= st - 4; o--)
    if (o->resolved && o->slen == st->slen && o->mlen == st->mlen &&
        memcmp(o->service, st->service, st->slen) == 0 &&
        memcmp(o->method, st->method, st->mlen) == 0)
      return o;
  return NULL;
}

/* Whether bind b of a step reads what bind t of its twin reads, from a
 * step of the same response type, so that t's resolution holds for b. */
static bool same_bind(const struct plan *pl, const struct bind *b, const struct bind *t) {
  const struct step *fb = &pl->steps[b->from], *ft = &pl->steps[t->from];
  return b->flen == t->flen && b->plen == t->plen && fb->img == ft->img &&
         fb->resp_type == ft->resp_type && memcmp(b->field, t->field, b->flen) == 0 &&
         memcmp(b->path, t->path, b->plen) == 0;
}

/* Resolves the binds of step st (its schema known) against the schemas
 * of the steps they read from, checking that the types agree: the paths
 * are looked up once, not on every call. */
static int resolve_binds(struct plan *pl, struct step *st, const struct step *twin, char *err,
                         size_t errlen) {
  for (uint32_t j = 0; j < st->nbinds; j++) {
    struct bind *bd = &st->binds[j];
    if (twin && j < twin->nbinds && same_bind(pl, bd, &twin->binds[j])) {
      bd->src = twin->binds[j].src;
      bd->tag = twin->binds[j].tag;
      continue;
    }
    const struct step *from = &pl->steps[bd->from];
    struct sos_idl_path to;
    struct sos_idl_value s, t;
    if (sos_idl_path_resolve(from->img->idl, from->resp_type, bd->path, bd->plen, &bd->src,
                             err, errlen) ||
        sos_idl_path_resolve(st->img->idl, st->req_type, bd->field, bd->flen, &to, err,
                             errlen))
      return SOS_STATUS_INVALID;
    if (to.n != 1) {
      snprintf(err, errlen, "bind %.*s: a bind sets a field of the request itself",
               (int)bd->flen, bd->field);
      return SOS_STATUS_INVALID;
    }
    sos_idl_path_get(from->img->idl, &bd->src, NULL, 0, &s, NULL, 0);
    sos_idl_path_get(st->img->idl, &to, NULL, 0, &t, NULL, 0);
    if (!same_type(from, &s, st, &t, false)) {
      snprintf(err, errlen, "bind %.*s: step %u's %.*s has another type", (int)bd->flen,
               bd->field, bd->from, (int)bd->plen, bd->path);
      return SOS_STATUS_INVALID;
    }
    bd->tag = t.tag;
  }
  return 0;
}

/* Resolves step st's service and schema and checks the caller may call it. */
static int resolve_step(struct kernel *k, struct plan *pl, struct step *st, char *err,
                        size_t errlen) {
  char name[SOS_ABI_MAX_NAME + 1], method[SOS_ABI_MAX_NAME + 1];
  uint32_t i = (uint32_t)(st - pl->steps);
  const struct step *twin = resolved_twin(pl, st);
  if (twin && twin->req_type >= 0 && twin->gen == k->svc_gen) { /* its svc is still there */
    st->svc = twin->svc;
    st->img = twin->img;
    st->img->refs++;
    st->req_type = twin->req_type;
    st->resp_type = twin->resp_type;
    return resolve_binds(pl, st, twin, err, errlen);
  }
  if (!cstr(st->service, st->slen, name, sizeof name) || !st->slen ||
      !cstr(st->method, st->mlen, method, sizeof method)) {
    snprintf(err, errlen, "step %u: bad service or method name", i);
    return SOS_STATUS_INVALID;
  }
  if (!sos__k_allowed(pl->caller->ver->img->app, name)) {
    snprintf(err, errlen, "step %u: %s is not in the caller's uses", i, name);
    return SOS_STATUS_DENIED;
  }
  if (!(st->svc = sos__k_svc_find(k, name)) || st->svc->removed) {
    snprintf(err, errlen, "step %u: no service named %s", i, name);
    return SOS_STATUS_NOT_FOUND;
  }
  st->img = st->svc->cur->img;
  st->img->refs++;
  const char *iface = st->svc->cur->def->implements;
  int ix = st->img->idl && iface ? sos_idl_interface(st->img->idl, iface) : -1;
  if (ix < 0 ||
      sos_idl_method(st->img->idl, ix, method, &st->req_type, &st->resp_type) < 0) {
    st->req_type = st->resp_type = -1;
    bool read = st->nbinds || st->each;
    for (uint32_t j = i + 1; j < pl->nsteps && !read; j++)
      read = has_bit(pl->steps[j].deps, i);
    if (read) {
      snprintf(err, errlen,
               "step %u: %s.%s is not a typed method, so its fields cannot be "
               "bound",
               i, name, method);
      return SOS_STATUS_INVALID;
    }
  }
  char why[400];
  if (sos__k_typed_agree(k, pl->caller->ver->img, st->svc, why, sizeof why)) {
    snprintf(err, errlen, "step %u: %s", i, why);
    return SOS_STATUS_INVALID;
  }
  return resolve_binds(pl, st, NULL, err, errlen);
}

/* Resolves st unless that is done: a cached plan's steps are resolved once,
 * as long as no service comes or goes (also while it runs: a service
 * removed between two steps may be freed, st->svc with it). */
static int resolve(struct kernel *k, struct plan *pl, struct step *st, char *err,
                   size_t errlen) {
  if (st->resolved && st->gen == k->svc_gen) return 0;
  if (st->img) sos__k_image_unref(k, st->img);
  st->img = NULL;
  st->svc = NULL;
  int rc = resolve_step(k, pl, st, err, errlen);
  st->resolved = rc == 0;
  st->gen = k->svc_gen;
  return rc;
}

/* Starts step st, whose inputs are ready: status 0, or a failure. */
static int launch(struct kernel *k, struct plan *pl, struct step *st, char *err,
                  size_t errlen) {
  int rc = resolve(k, pl, st, err, errlen);
  if (rc) return rc;
  st->state = S_RUN;
  pl->running++;
  pl->left--;
  if (st->each) return launch_each(k, pl, st, err, errlen);
  st->items = &st->one;
  st->nitems = 1;
  rc = build_request(pl, st, &k->plan_buf, err, errlen);
  if (!rc) submit(k, pl, st, 0, &k->plan_buf);
  return rc;
}

/* ---- finishing ------------------------------------------------------------ */

/* The bytes of a varint, and of a field of tag < 16 with payload n. */
static size_t vlen(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) v >>= 7, n++;
  return n;
}
static size_t int_field(uint64_t v) { return v ? 1 + vlen(v) : 0; }
static size_t len_field(size_t n) { return 1 + vlen(n) + n; }

/* The encoding of an Item (each) and a StepResult, without their own
 * length prefix. */
static size_t item_size(const struct item *it) {
  return int_field((uint64_t)it->status) + (it->len ? len_field(it->len) : 0);
}
static size_t items_size(const struct step *st) {
  size_t n = 0;
  for (uint32_t j = 0; j < st->nitems; j++) {
    size_t e = item_size(&st->items[j]);
    n += vlen(e) + e;
  }
  return n;
}
static size_t result_size(const struct step *st, uint32_t i) {
  size_t n = int_field(i) + int_field((uint64_t)st->status);
  if (!st->each && st->nitems && st->items[0].len) n += len_field(st->items[0].len);
  size_t items = st->each ? items_size(st) : 0;
  return n + (items ? len_field(items) : 0);
}

static void put_int(struct sos_buf *b, uint32_t tag, uint64_t v) {
  if (v) sos_idl_put_key(b, tag, 0), sos_buf_varint(b, v);
}

/* Encodes what the caller gets, a PlanResult: the kept steps' results.
 * Sizes first, so that it is written into one buffer of the right size. */
static void encode_result(struct plan *pl, struct sos_buf *out) {
  size_t list = 0;
  for (uint32_t i = 0; i < pl->nsteps; i++) {
    const struct step *st = &pl->steps[i];
    if (!st->keep || st->state != S_DONE) continue;
    size_t n = result_size(st, i);
    list += vlen(n) + n;
  }
  if (!sos_buf_room(out, (list ? len_field(list) : 0) + int_field((uint64_t)pl->failed)))
    return;
  if (list) sos_idl_put_key(out, 1, 2), sos_buf_varint(out, list);
  for (uint32_t i = 0; i < pl->nsteps && list; i++) {
    const struct step *st = &pl->steps[i];
    if (!st->keep || st->state != S_DONE) continue;
    sos_buf_varint(out, result_size(st, i));
    put_int(out, 1, i);
    put_int(out, 2, (uint64_t)st->status);
    if (!st->each && st->nitems && st->items[0].len)
      sos_idl_put_bytes(out, 3, st->items[0].body, st->items[0].len);
    size_t items = st->each ? items_size(st) : 0;
    if (items) sos_idl_put_key(out, 4, 2), sos_buf_varint(out, items);
    for (uint32_t j = 0; items && j < st->nitems; j++) {
      const struct item *it = &st->items[j];
      sos_buf_varint(out, item_size(it));
      put_int(out, 1, (uint64_t)it->status);
      if (it->len) sos_idl_put_bytes(out, 2, it->body, it->len);
    }
  }
  put_int(out, 2, (uint64_t)pl->failed);
}

/* Completes the plan's request when nothing runs any more. */
static void finish(struct kernel *k, struct plan *pl, int status, const char *msg) {
  struct req *r = pl->r;
  if (pl->running) return;
  if (!r) { /* answered already (its deadline passed) */
    plan_free(k, pl);
    return;
  }
  struct sos_buf b = {0};
  if (msg && msg[0]) sos_buf_add(&b, msg, strlen(msg));
  else encode_result(pl, &b);
  r->plan_self = NULL;
  plan_free(k, pl);
  if (b.rc) sos_buf_free(&b);
  sos__k_complete_own(k, r, b.rc ? SOS_STATUS_BUSY : status, b.p, b.len);
}

/* Step i of pl is over: the steps that read from it may be ready. */
static void step_over(struct plan *pl, uint32_t i) {
  struct step *st = &pl->steps[i];
  st->state = S_DONE;
  set_bit(pl->done, i);
  for (uint32_t w = i / 64; st->nreaders && w < MAX_STEPS / 64; w++)
    pl->todo[w] |= st->readers[w];
}

/* The lowest step in pl->todo, taken out of it; false when none. */
static bool next_todo(struct plan *pl, uint32_t *i) {
  for (uint32_t w = 0; w < MAX_STEPS / 64; w++)
    if (pl->todo[w]) {
      *i = w * 64 + (uint32_t)__builtin_ctzll(pl->todo[w]);
      pl->todo[w] &= pl->todo[w] - 1;
      return true;
    }
  return false;
}

/* Step st has launched: the results it read from are not needed any more
 * by it, and a step's that no other step will read and that does not
 * come back is freed now (so that a long chain holds two, not all). */
static void launched(struct plan *pl, const struct step *st) {
  for (uint32_t w = 0; w <= (uint32_t)(st - pl->steps) / 64; w++)
    for (uint64_t d = st->deps[w]; d; d &= d - 1) {
      struct step *from = &pl->steps[w * 64 + (uint32_t)__builtin_ctzll(d)];
      if (--from->unread || from->keep) continue;
      for (uint32_t j = 0; j < from->nitems; j++) {
        sos_free(from->items[j].body);
        from->items[j].body = NULL;
        from->items[j].len = 0;
      }
    }
}

/* Launches every step whose inputs are ready (of those in todo, in
 * order: a step only reads from earlier ones); finishes when none runs. */
static void advance(struct kernel *k, struct plan *pl) {
  char err[512];
  err[0] = 0; /* not = "": that would clear all 512 bytes per step */
  int status = 0;
  uint32_t i;
  while (!pl->failed && !pl->cancelled && next_todo(pl, &i)) {
    struct step *st = &pl->steps[i];
    if (st->state != S_WAIT) continue;
    bool ready = true;
    for (uint32_t w = 0; w <= i / 64 && ready; w++) ready = !(st->deps[w] & ~pl->done[w]);
    if (!ready) continue;
    int rc = launch(k, pl, st, err, sizeof err);
    if (rc) {
      st->status = status = rc;
      pl->failed = (int)i + 1;
      if (st->state == S_RUN && !st->pending) pl->running--;
      step_over(pl, i);
      continue;
    }
    launched(pl, st);
    if (st->state == S_RUN && !st->pending) { /* an each over no element */
      step_over(pl, i);
      pl->running--;
    }
  }
  if (pl->running) return;
  if (!status && pl->failed) status = pl->steps[pl->failed - 1].status;
  if (pl->cancelled && !status) status = SOS_STATUS_CANCELLED;
  finish(k, pl, status, status && err[0] ? err : NULL);
}

void sos__k_plan_step_done(struct kernel *k, struct req *r) {
  struct plan *pl = r->plan;
  uint32_t index = r->plan_step;
  struct step *st = &pl->steps[index];
  struct item *it = &st->items[r->plan_item];
  it->status = r->status;
  it->body = r->resp;
  it->len = r->resp_len;
  r->resp = NULL;
  if (!pl->spare)
    pl->spare = r;
  else
    sos__k_req_free(k, r);
  if (it->status && !st->status) st->status = it->status;
  if (--st->pending) return;
  step_over(pl, index);
  pl->running--;
  if (st->status && !pl->failed) pl->failed = (int)index + 1;
  advance(k, pl);
}

int sos__k_plan_start(struct kernel *k, struct inst *caller, struct req *r) {
  char err[512];
  err[0] = 0;
  struct plan *pl = NULL;
  caller->svc->sent++;
  int status = plan_get(k, caller, r->body, r->len, &pl, err, sizeof err);
  if (status) {
    if (pl) plan_free(k, pl);
    sos__k_complete(k, r, status, err, strlen(err));
    return 0;
  }
  pl->r = r;
  pl->caller = caller;
  r->plan_self = pl;
  advance(k, pl);
  return 0;
}

int sos__k_plan_decode(struct kernel *k, const uint8_t *msg, uint32_t len, char *err,
                       size_t errlen) {
  struct plan *pl = NULL;
  int status = plan_get(k, NULL, msg, len, &pl, err, errlen);
  if (pl) plan_free(k, pl);
  return status;
}

bool sos__k_plan_more(const struct req *r) {
  const struct plan *pl = r->plan;
  return pl->left && !pl->failed && !pl->cancelled;
}

void sos__k_plan_cancel(struct kernel *k, struct req *r) {
  struct plan *pl = r->plan_self;
  (void)k;
  if (pl) pl->cancelled = true;
}

void sos__k_plan_orphan(struct kernel *k, struct req *r) {
  struct plan *pl = r->plan_self;
  r->plan_self = NULL;
  pl->cancelled = true;
  pl->r = NULL;
  if (!pl->running) plan_free(k, pl);
}
