/*
 * tls.c - TLS termination for the HTTP gateway (OpenSSL), when node.conf
 * names a certificate and a key (http_tls_cert, http_tls_key).
 *
 * OpenSSL never touches a socket here: each connection has two memory
 * BIOs.  Bytes libuv reads are written into the read BIO and SSL_read
 * turns them into plaintext for the HTTP parser; what the handshake or
 * SSL_write produces is taken from the write BIO and handed to uv_write.
 * So TLS runs on the event loop without blocking it and without a
 * thread, and the gateway above sees the same bytes with or without it.
 * TLS 1.2 is the least version accepted.
 */
#include "net/net.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <string.h>

struct sos__net_tls {
  SSL *ssl;
  BIO *rbio, *wbio; /* owned by ssl */
};

/* OpenSSL's last error as text, after what. */
static int tls_error(char *err, size_t errlen, const char *what, const char *path) {
  char why[256];
  ERR_error_string_n(ERR_get_error(), why, sizeof why);
  snprintf(err, errlen, "%s %s: %s", what, path, why);
  ERR_clear_error();
  return SOS_EINVAL;
}

int sos__net_tls_ctx(const char *cert, const char *key, void **out, char *err, size_t errlen) {
  SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
  *out = NULL;
  if (!ctx) return SOS_ENOMEM;
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
  int rc = 0;
  if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1)
    rc = tls_error(err, errlen, "cannot use the certificate", cert);
  else if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1)
    rc = tls_error(err, errlen, "cannot use the key", key);
  else if (SSL_CTX_check_private_key(ctx) != 1)
    rc = tls_error(err, errlen, "the key does not match the certificate", cert);
  if (rc) {
    SSL_CTX_free(ctx);
    return rc;
  }
  *out = ctx;
  return 0;
}

void sos__net_tls_ctx_free(void *ctx) { SSL_CTX_free(ctx); }

struct sos__net_tls *sos__net_tls_new(void *ctx) {
  struct sos__net_tls *t = sos_calloc(1, sizeof *t);
  if (!t) return NULL;
  t->ssl = SSL_new(ctx);
  t->rbio = BIO_new(BIO_s_mem());
  t->wbio = BIO_new(BIO_s_mem());
  if (!t->ssl || !t->rbio || !t->wbio) {
    SSL_free(t->ssl);
    BIO_free(t->rbio);
    BIO_free(t->wbio);
    sos_free(t);
    return NULL;
  }
  SSL_set_bio(t->ssl, t->rbio, t->wbio);
  SSL_set_accept_state(t->ssl);
  return t;
}

void sos__net_tls_free(struct sos__net_tls *t) {
  if (!t) return;
  SSL_free(t->ssl);
  sos_free(t);
}

/* Moves what the write BIO holds into *out (sos_malloc'd), *outn bytes. */
static int drain(struct sos__net_tls *t, uint8_t **out, size_t *outn) {
  size_t n = (size_t)BIO_ctrl_pending(t->wbio);
  *out = NULL;
  *outn = 0;
  if (!n) return 0;
  if (!(*out = sos_malloc(n))) return -1;
  int got = BIO_read(t->wbio, *out, (int)n);
  *outn = got > 0 ? (size_t)got : 0;
  return 0;
}

int sos__net_tls_in(struct sos__net_tls *t, const uint8_t *p, size_t n, struct sos_buf *plain,
                    uint8_t **out, size_t *outn) {
  if (n && BIO_write(t->rbio, p, (int)n) != (int)n) return -1;
  uint8_t buf[16384];
  for (;;) {
    int got = SSL_read(t->ssl, buf, sizeof buf);
    if (got > 0) {
      sos_buf_add(plain, buf, (size_t)got);
      continue;
    }
    int e = SSL_get_error(t->ssl, got);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) break;
    ERR_clear_error();
    drain(t, out, outn); /* an alert, when OpenSSL made one */
    return e == SSL_ERROR_ZERO_RETURN ? 1 : -1;
  }
  return plain->rc ? -1 : drain(t, out, outn);
}

int sos__net_tls_out(struct sos__net_tls *t, const uint8_t *p, size_t n, uint8_t **out,
                     size_t *outn) {
  if (n && SSL_write(t->ssl, p, (int)n) != (int)n) {
    ERR_clear_error();
    return -1;
  }
  return drain(t, out, outn);
}
