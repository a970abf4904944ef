/*
 * fuzz_http.c - libFuzzer target for the HTTP gateway's own parsing and
 * writing (src/net/route.c): what a service answers, which no app can be
 * trusted to get right, and the request target of a request.
 *
 * An input is split at its first NUL: before it, a request target for
 * sos__net_split_url; after it, the bytes a service answered, given to
 * sos__net_response as an HttpResponse (package sos, compiled once from
 * src/lang/builtins.c).  Beyond "no crash, no leak, no undefined
 * behaviour", the target aborts (a finding) when what it would send is
 * not a well-framed HTTP/1.1 response: a status line of 200 to 599, header
 * lines each "Name: value" with a token name and no CR, LF or NUL inside,
 * exactly one Content-Length, which equals the body's length, and no
 * Transfer-Encoding; or when a split target's path is not inside it.
 *
 * Built by scripts/fuzz.sh (target "http") with clang
 * -fsanitize=fuzzer,address,undefined.  route.c's request side
 * (sos__net_route) needs the kernel; the two kernel functions it names
 * are stubbed below and never called.
 */
#include "net/net.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* route.c's request side, not exercised here. */
struct req *sos__k_req_new(const char *method, size_t mlen, const void *body, size_t len) {
  (void)method, (void)mlen, (void)body, (void)len;
  abort();
}
uint64_t sos__k_now(void) { abort(); }

static struct sos_idl *idl;
static int resp_type;

static void setup(void) {
  struct sos_app *app = NULL;
  char err[512];
  if (sos_app_parse(sos_app_builtins, strlen(sos_app_builtins), "package sos", &app, err,
                    sizeof err) ||
      sos_idl_new(app, &idl, err, sizeof err))
    abort();
  sos_app_free(app);
  resp_type = sos_idl_struct(idl, "HttpResponse");
}

/* Checks one response as the gateway would send it. */
static void check_response(const uint8_t *out, size_t n, bool head_only) {
  const char *p = (const char *)out, *end = p + n, *head_end = NULL;
  for (const char *q = p; q + 4 <= end && !head_end; q++)
    if (!memcmp(q, "\r\n\r\n", 4)) head_end = q + 2;
  if (!head_end || n < 13 || memcmp(p, "HTTP/1.1 ", 9)) abort();
  int status = atoi(p + 9);
  if (status < 200 || status > 599) abort();
  const char *line = memchr(p, '\n', (size_t)(end - p)) + 1;
  long length = -1;
  while (line < head_end) {
    const char *eol = memchr(line, '\r', (size_t)(head_end - line));
    if (!eol || eol[1] != '\n') abort();
    const char *colon = memchr(line, ':', (size_t)(eol - line));
    if (!colon || colon == line) abort();
    for (const char *c = line; c < colon; c++)
      if (!sos__net_tchar((unsigned char)*c)) abort();
    for (const char *c = colon; c < eol; c++)
      if (*c == 0 || *c == '\n') abort();
    if (!strncasecmp(line, "transfer-encoding:", 18)) abort();
    if (!strncasecmp(line, "content-length:", 15)) {
      if (length >= 0) abort(); /* two of them */
      length = atol(colon + 1);
    }
    line = eol + 2;
  }
  size_t body = (size_t)(end - head_end - 2);
  if (length < 0 || (!head_only && (size_t)length != body) || (head_only && body)) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!idl) setup();
  const uint8_t *nul = memchr(data, 0, size);
  size_t tlen = nul ? (size_t)(nul - data) : size;
  struct sos__net_request in;
  memset(&in, 0, sizeof in);
  if (sos__net_split_url((const char *)data, tlen, &in) == 0) {
    const char *t = (const char *)data;
    if (in.path < t || in.path + in.path_len > t + tlen) {
      if (!(in.path_len == 1 && in.path[0] == '/')) abort(); /* "http://host" means "/" */
    }
    if (in.query && (in.query < t || in.query + in.query_len > t + tlen)) abort();
  }
  if (!nul) return 0;
  struct req r;
  memset(&r, 0, sizeof r);
  r.method = (char *)"page";
  r.status = SOS_STATUS_OK;
  r.resp = (uint8_t *)nul + 1;
  r.resp_len = (uint32_t)(size - tlen - 1);
  for (int head_only = 0; head_only < 2; head_only++) {
    uint8_t *out = NULL;
    size_t n = 0, body = 0;
    unsigned status = 0;
    char msg[300];
    if (sos__net_response(idl, resp_type, &r, true, head_only, &out, &n, &status, &body, msg,
                          sizeof msg) == 0)
      check_response(out, n, head_only);
    else if (status < 500 || status > 504)
      abort();
    sos_free(out);
  }
  return 0;
}
