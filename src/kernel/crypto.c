/*
 * crypto.c - the built-in service `crypto` (interface Crypto of package
 * sos): SHA-256, HMAC-SHA256, comparison in constant time and random
 * bytes, through OpenSSL's libcrypto.
 *
 * WebAssembly code could hash for itself, but the interpreter runs SHA-256
 * some ten times slower than OpenSSL's native code, and a comparison that
 * must not leak timing is easier to trust in one audited place.  The
 * HMAC can key with one of the caller's secrets by name (HmacReq.secret),
 * so an app that verifies signed webhooks never holds its signing secret
 * at all.  Every call answers at once; inputs are bounded by the call's
 * message size (16 MiB), random output by 64 KiB.
 */
#include "kernel/kernel.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <string.h>

enum { E_NO_SECRET = 1, E_TOO_BIG = 2 };
#define MAX_RANDOM 65536

/* A LEN field of r's request (type), or an empty one (never NULL: OpenSSL
 * reads NULL data or keys otherwise). */
static const uint8_t *field(struct kernel *k, const struct req *r, int type, const char *name,
                            size_t *n) {
  const uint8_t *p = sos__k_req_bytes(k, r, type, name, n);
  return p ? p : (const uint8_t *)"";
}

/* Answers r with one LEN field (tag 1) holding p. */
static void answer_bytes(struct kernel *k, struct req *r, const void *p, size_t n) {
  struct sos_buf b = {0};
  if (n) sos_idl_put_bytes(&b, 1, p, n);
  if (b.rc) sos__k_complete(k, r, SOS_STATUS_BUSY, "out of memory", 13);
  else sos__k_complete(k, r, SOS_STATUS_OK, b.p, b.len);
  sos_buf_free(&b);
}

static void hmac(struct kernel *k, struct req *r, int type) {
  size_t klen, dlen, slen;
  const uint8_t *key = field(k, r, type, "key", &klen);
  const uint8_t *data = field(k, r, type, "data", &dlen);
  const uint8_t *sname = field(k, r, type, "secret", &slen);
  uint8_t *secret = NULL, mac[EVP_MAX_MD_SIZE];
  unsigned mlen = 0;
  if (slen) {
    char name[64];
    if (slen >= sizeof name)
      return sos__k_answer_error(k, r, "Crypto", E_NO_SECRET, "no secret of that name");
    memcpy(name, sname, slen);
    name[slen] = 0;
    int rc = sos__k_secret_get(k, r->caller, name, &secret, &klen);
    if (rc)
      return sos__k_answer_error(k, r, "Crypto", E_NO_SECRET,
                                 rc == SOS_EPERM ? "the app does not declare that secret"
                                                 : "that secret is not set");
    key = secret;
  }
  bool ok = HMAC(EVP_sha256(), key, (int)klen, data, dlen, mac, &mlen) != NULL;
  if (secret) OPENSSL_cleanse(secret, klen);
  sos_free(secret);
  if (!ok) return sos__k_complete(k, r, SOS_STATUS_BUSY, "HMAC failed", 11);
  answer_bytes(k, r, mac, mlen);
}

/* Whether a and b hold the same bytes; the time taken depends on their
 * lengths only, never on where they differ. */
static void equal(struct kernel *k, struct req *r, int type) {
  size_t an, bn;
  const uint8_t *a = field(k, r, type, "a", &an), *b = field(k, r, type, "b", &bn);
  bool same = an == bn && CRYPTO_memcmp(a, b, an) == 0;
  struct sos_buf out = {0};
  if (same) {
    sos_idl_put_key(&out, 1, 0);
    sos_buf_varint(&out, 1);
  }
  if (out.rc) sos__k_complete(k, r, SOS_STATUS_BUSY, "out of memory", 13);
  else sos__k_complete(k, r, SOS_STATUS_OK, out.p, out.len);
  sos_buf_free(&out);
}

static void random_bytes(struct kernel *k, struct req *r, int type) {
  uint64_t n = sos__k_req_uint(k, r, type, "n");
  if (n > MAX_RANDOM)
    return sos__k_answer_error(k, r, "Crypto", E_TOO_BIG, "at most 65536 random bytes a call");
  uint8_t *buf = sos_malloc(n ? n : 1);
  if (!buf || RAND_bytes(buf, (int)n) != 1) {
    sos_free(buf);
    return sos__k_complete(k, r, SOS_STATUS_BUSY, "no random bytes", 15);
  }
  answer_bytes(k, r, buf, n);
  sos_free(buf);
}

void sos__k_crypto_call(struct kernel *k, struct req *r, int req_type) {
  if (strcmp(r->method, "sha256") == 0) {
    size_t n;
    const uint8_t *data = field(k, r, req_type, "data", &n);
    uint8_t md[SHA256_DIGEST_LENGTH];
    SHA256(data, n, md);
    answer_bytes(k, r, md, sizeof md);
  } else if (strcmp(r->method, "hmac_sha256") == 0) {
    hmac(k, r, req_type);
  } else if (strcmp(r->method, "equal") == 0) {
    equal(k, r, req_type);
  } else {
    random_bytes(k, r, req_type);
  }
}
