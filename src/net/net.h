/*
 * net.h - what the files of src/net share: the gateway's view of one
 * HTTP request (http.c reads it, route.c turns it into a service call)
 * and the conversion of the service's answer back into HTTP.
 */
#ifndef SOS_NET_H
#define SOS_NET_H

#include "kernel/kernel.h"

/* A header as http.c keeps it: offsets into the request's header buffer. */
struct sos__net_header {
  uint32_t name, nlen, value, vlen;
};

/* One complete request, borrowed from the connection. */
struct sos__net_request {
  const char *method;            /* "GET" */
  const char *path, *query;      /* split out of the request target */
  size_t path_len, query_len;
  const char *host;              /* the Host header ("" when absent) */
  size_t host_len;
  const char *remote;            /* "127.0.0.1:5555" */
  const uint8_t *body;
  size_t body_len;
  const uint8_t *hbuf;           /* header names (lower case) and values */
  const struct sos__net_header *h;
  uint32_t nh;
};

/* Splits a request target (RFC 9112 §3.2: origin-form, absolute-form or
 * "*") into in's path and query; -1 when it is none of them. */
int sos__net_split_url(const char *url, size_t len, struct sos__net_request *in);

/* Finds the route for in among the current versions' `http` routes
 * (k->mu held) and makes the call: *out, a new request for the route's
 * service and method whose body is an HttpRequest (struct req_type of
 * k->sos_idl), not yet submitted.  Returns 0, or the HTTP status to
 * answer instead (404: no route; 400: the request cannot be a valid
 * HttpRequest, such as header bytes that are not UTF-8; 503: out of
 * memory or shutting down) with a message in msg. */
int sos__net_route(struct kernel *k, const struct sos__net_request *in, int req_type,
                   struct req **out, char *msg, size_t msglen);

/* The HTTP response for finished call r: its HttpResponse (struct
 * resp_type of idl) as status line, headers and body, in *out (n bytes,
 * sos_free), with *status and *body_len for the access log.  keep: the
 * connection stays open; head_only: a HEAD request, without the body.
 * Returns 0, or -1 with *status (502, 503, 504) and msg when the call
 * failed or its answer is not an HttpResponse the gateway may send. */
int sos__net_response(const struct sos_idl *idl, int resp_type, const struct req *r, bool keep,
                      bool head_only, uint8_t **out, size_t *n, unsigned *status,
                      size_t *body_len, char *msg, size_t msglen);

/* The head of a stream (respond_part): r's first part p (n bytes), an
 * HttpResponse, checked as sos__net_response checks an answer, into a
 * head framed `Transfer-Encoding: chunked` (*out, *outn: the caller's),
 * and the first part's own body (*body, *blen, in p) to send as the
 * first chunk.  0, or -1 with *status and msg as for sos__net_response. */
int sos__net_stream_head(const struct sos_idl *idl, int resp_type, const struct req *r,
                         const uint8_t *p, size_t n, bool keep, uint8_t **out, size_t *outn,
                         unsigned *status, const uint8_t **body, size_t *blen, char *msg,
                         size_t msglen);

/* Appends the status line and the headers the gateway always writes;
 * body_len SOS__NET_CHUNKED frames the body in chunks. */
#define SOS__NET_CHUNKED (SIZE_MAX - 1)
void sos__net_head_start(struct sos_buf *b, unsigned status, size_t body_len, bool keep);

/* Calls each(user, name, nlen, value, vlen) for every HttpHeader of a
 * list<HttpHeader> payload (p, n bytes; elements back to back).  Returns
 * -1 when an element is malformed or may not be sent (a name that is not
 * a token, CR, LF or NUL in a value: they would split the message), or
 * what a nonzero each returned; else 0. */
typedef int sos__net_header_fn(void *user, const uint8_t *name, size_t nlen,
                               const uint8_t *value, size_t vlen);
int sos__net_headers(const uint8_t *p, size_t n, sos__net_header_fn *each, void *user);

/* Whether c may be in a header name (RFC 9110 §5.6.2, tchar). */
bool sos__net_tchar(unsigned char c);

/* ---- TLS (tls.c) ---- */
struct sos__net_tls;
/* An OpenSSL server context for the certificate chain and key files (PEM)
 * in *ctx; SOS_EINVAL with why (OpenSSL's words) in err. */
int sos__net_tls_ctx(const char *cert, const char *key, void **ctx, char *err, size_t errlen);
void sos__net_tls_ctx_free(void *ctx);
/* One connection's TLS state, or NULL when out of memory. */
struct sos__net_tls *sos__net_tls_new(void *ctx);
void sos__net_tls_free(struct sos__net_tls *t);
/* Takes n bytes received: appends the plaintext they complete to plain and
 * puts in *out (sos_malloc'd; *outn bytes, 0 and NULL when none) what must
 * be sent back (the handshake).  Returns 0, 1 when the peer closed TLS
 * cleanly, -1 on a TLS error (the connection is to be closed; *out may
 * hold an alert to send first). */
int sos__net_tls_in(struct sos__net_tls *t, const uint8_t *p, size_t n, struct sos_buf *plain,
                    uint8_t **out, size_t *outn);
/* Encrypts n bytes into *out (sos_malloc'd, *outn bytes); -1 on failure. */
int sos__net_tls_out(struct sos__net_tls *t, const uint8_t *p, size_t n, uint8_t **out,
                     size_t *outn);

/* "ADDRESS:PORT" of a TCP handle's peer (or, for a listening one, its own). */
void sos__net_peer(const uv_tcp_t *t, char *buf, size_t n);

#endif
