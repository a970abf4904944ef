/*
 * fuzz_plan.c - libFuzzer target for the kernel's plan decoder
 * (src/kernel/plan.c): the message of time travel's call_plan, which any
 * instance can send, decoded in one strict walk of its own instead of
 * sos_idl_check's separate pass.
 *
 * Each input is a plan message (struct Plan of package sos, compiled
 * once by sos__k_typed_init from src/lang/builtins.c), given to
 * sos__k_plan_decode.  The decoder and the schema-driven checker
 * (sos_idl_check) read the same wire format (docs/wire.md), so beyond
 * "no crash, no leak, no undefined behaviour" the target aborts (a
 * finding) when they disagree or the message is wrong:
 *
 *   - a plan the decoder accepts is one sos_idl_check accepts.  The
 *     decoder does not check text for UTF-8 (names are compared with
 *     known names, paths resolved through schemas), so inputs holding a
 *     byte of 0x80 or above are left out of this one;
 *   - bytes sos_idl_check accepts are never refused as "the plan's
 *     encoding ...": the fast walk must take everything the schema does
 *     (it may still refuse the plan for what it means: no steps, a bind
 *     to a later step);
 *   - a refusal comes with a message: NUL-terminated and not empty, in a
 *     buffer of 512 bytes and in one of 16 (each allocated to its size,
 *     so that ASan sees a write past it), with the same status both times.
 *
 * Built by scripts/fuzz.sh (target "plan") with clang
 * -fsanitize=fuzzer,address,undefined from this file, plan.c, typed.c
 * and the sources of src/base, src/lang and src/idl.  The kernel
 * functions those two files name outside the decoding path (running a
 * plan's steps, outside typed calls) are stubbed below and never called.
 */
#include "kernel/kernel.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- the kernel outside the decoder: never called ------------------------ */

bool sos__k_allowed(const struct sos_app *app, const char *name) {
  (void)app, (void)name;
  abort();
}
bool sos__k_builtin(const char *name) {
  (void)name;
  abort();
}
const char *sos__k_builtin_interface(const char *name) {
  (void)name;
  abort();
}
void sos__k_complete(struct kernel *k, struct req *r, int status, const void *resp,
                     size_t len) {
  (void)k, (void)r, (void)status, (void)resp, (void)len;
  abort();
}
void sos__k_complete_own(struct kernel *k, struct req *r, int status, uint8_t *resp,
                         size_t len) {
  (void)k, (void)r, (void)status, (void)resp, (void)len;
  abort();
}
void sos__k_image_unref(struct kernel *k, struct image_ref *ir) {
  (void)k, (void)ir;
  abort();
}
uint64_t sos__k_now(void) { abort(); }
uint64_t sos__k_after_ms(uint64_t ms) { (void)ms; abort(); }
void sos__k_req_body(struct req *r, uint8_t *body, uint32_t len) {
  (void)r, (void)body, (void)len;
  abort();
}
void sos__k_req_free(struct kernel *k, struct req *r) { /* NULL: nothing to free */
  (void)k;
  if (r) abort();
}
struct req *sos__k_req_new(const char *method, size_t mlen, const void *body,
                           size_t len) {
  (void)method, (void)mlen, (void)body, (void)len;
  abort();
}
struct req *sos__k_req_renew(struct kernel *k, struct req *old, const char *method,
                             size_t mlen, const void *body, size_t len) {
  (void)k, (void)old, (void)method, (void)mlen, (void)body, (void)len;
  abort();
}
void sos__k_submit(struct kernel *k, struct req *r) {
  (void)k, (void)r;
  abort();
}
struct svc *sos__k_svc_find(struct kernel *k, const char *name) {
  (void)k, (void)name;
  abort();
}
void sos__k_timer_clear(struct kernel *k, struct ktimer *t) { /* a run's spare request */
  (void)k, (void)t;
  abort();
}

/* ---- the target ----------------------------------------------------------- */

static struct kernel k; /* only sos_idl and plan_type are used */

/* Stops the run with a message: a property did not hold. */
static void broken(const char *what, const char *detail) {
  fprintf(stderr, "fuzz_plan: %s\n%s\n", what, detail ? detail : "");
  abort();
}

static void setup(void) {
  if (sos__k_typed_init(&k) != 0 || k.plan_type < 0)
    broken("package sos does not compile", NULL);
}

/* Decodes the input with a message buffer of errlen bytes (filled with
 * 'x' first, so a missing NUL shows); checks the message on failure. */
static int decode(const uint8_t *data, size_t size, char *err, size_t errlen) {
  memset(err, 'x', errlen);
  int status = sos__k_plan_decode(&k, data, (uint32_t)size, err, errlen);
  if (status && !memchr(err, 0, errlen))
    broken("a refusal's message is not terminated", NULL);
  if (status && !err[0]) broken("a refusal has an empty message", NULL);
  return status;
}

/* The libFuzzer entry point. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!k.sos_idl) setup();
  if (size > UINT32_MAX) return 0;
  char *err = malloc(512), *small = malloc(16), why[512];
  if (!err || !small) abort();
  int status = decode(data, size, err, 512);
  if (decode(data, size, small, 16) != status)
    broken("the status differs with a 16-byte message buffer", err);
  bool checks = sos_idl_check(k.sos_idl, k.plan_type, data, size, why, sizeof why) == 0;
  bool ascii = true;
  for (size_t i = 0; i < size && ascii; i++) ascii = data[i] < 0x80;
  if (status == 0 && !checks && ascii)
    broken("decoded a plan sos_idl_check refuses", why);
  if (status && checks && !strncmp(err, "the plan's encoding", 19))
    broken("refused the encoding of a plan sos_idl_check accepts", err);
  free(err);
  free(small);
  return 0;
}
