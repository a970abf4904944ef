/*
 * guestbook.c - a web app on SOS: visitors sign a guestbook.
 *
 * Three methods answer the node's HTTP gateway (app.sos has the routes):
 *
 *   page    GET /        the page: a form, the newest entries, the visit
 *                        count (each GET counts one visit)
 *           POST /       the form (application/x-www-form-urlencoded):
 *                        saves the entry and redirects to / (303), or
 *                        shows the page again with the error and what
 *                        was typed (400)
 *   api     GET  /api/entries   {"entries":[{id,at,name,message}...],"visits":N}
 *           POST /api/entries   {"name","message"} -> 201 {"entry":{...}},
 *                               or 400 {"error":"..."}
 *           GET  /api/stats     {"entries":N,"visits":N}
 *   asset   GET /static/NAME    the app's files (style.css, app.js)
 *
 * State: the table `entries` (struct Entry, key id) and the kv store
 * `counters` (keys "entries", the last id given, and "visits"), both in
 * the node's LMDB, so they survive restarts.  Entry ids go up by
 * compare-and-swap, so concurrent instances never hand out one id twice;
 * visits by the store's own add (sos_kv_add) without waiting for the
 * disk, so that a page view costs no fsync (a crash may lose the last
 * few milliseconds of visits; a clean stop loses none).
 *
 * Everything a visitor typed is checked (UTF-8 text, 1 to 40 characters
 * of name and 1 to 500 of message, no control characters but newlines
 * and tabs) and escaped wherever it is written: HTML-escaped in the page,
 * JSON-escaped (with <, > and & as \u escapes) in the API.
 */
#define _GNU_SOURCE /* gmtime_r, memmem */
#include "guestbook.sos.h"
#include "sos.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_NAME 40
#define MAX_MESSAGE 500
#define SHOWN 50 /* entries on the page and in the API */

/* ---- a growable text buffer ------------------------------------------------- */

struct buf {
  char *p;
  size_t len, cap;
  int failed;
};

static void add(struct buf *b, const char *s, size_t n) {
  if (b->failed) return;
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap * 2 : 4096;
    while (cap < b->len + n + 1) cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) {
      b->failed = 1;
      return;
    }
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = 0;
}

static void adds(struct buf *b, const char *s) { add(b, s, strlen(s)); }

static void addf(struct buf *b, const char *fmt, ...) {
  char tmp[256];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (n > 0) add(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* s escaped for HTML text and attribute values. */
static void add_html(struct buf *b, const char *s, size_t n) {
  for (size_t i = 0; i < n; i++) {
    switch (s[i]) {
    case '&': adds(b, "&amp;"); break;
    case '<': adds(b, "&lt;"); break;
    case '>': adds(b, "&gt;"); break;
    case '"': adds(b, "&quot;"); break;
    case '\'': adds(b, "&#39;"); break;
    default: add(b, s + i, 1);
    }
  }
}

/* s as a JSON string (sos_json_quote: <, > and & escaped too, so the
 * text is safe even inside a <script>). */
static void add_json(struct buf *b, const char *s, size_t n) {
  char *q = malloc(sos_json_quote(NULL, s, n));
  if (!q) {
    b->failed = 1;
    return;
  }
  add(b, q, sos_json_quote(q, s, n));
  free(q);
}

/* ---- answers -------------------------------------------------------------------- */

/* Answers status with b's bytes (freed here) as content type. */
/* Sets the status, the content type and the body (n bytes in the arena). */
static int set_body(sos_HttpResponse *resp, sos_arena *a, unsigned status, const char *type,
                    const char *body, size_t n) {
  sos_HttpHeader *h = sos_arena_alloc(a, 2 * sizeof *h);
  if (!h) return -SOS_STATUS_TOO_BIG;
  h[0] = (sos_HttpHeader){SOS_TEXT("content-type"), {type, (uint32_t)strlen(type)}};
  h[1] = (sos_HttpHeader){SOS_TEXT("cache-control"), SOS_TEXT("no-store")};
  resp->status = status;
  resp->headers = (sos_HttpHeader_list){h, 2};
  resp->body = (sos_bytes){(const uint8_t *)body, (uint32_t)n};
  return 0;
}

static int answer(sos_HttpResponse *resp, sos_arena *a, unsigned status, const char *type,
                  struct buf *b) {
  char *body = b->failed ? NULL : sos_arena_alloc(a, b->len ? b->len : 1);
  if (body && b->len) memcpy(body, b->p, b->len);
  free(b->p);
  return body ? set_body(resp, a, status, type, body, b->len) : -SOS_STATUS_TOO_BIG;
}

static int json_error(sos_HttpResponse *resp, sos_arena *a, unsigned status, const char *msg) {
  struct buf b = {0};
  adds(&b, "{\"error\":");
  add_json(&b, msg, strlen(msg));
  adds(&b, "}\n");
  return answer(resp, a, status, "application/json", &b);
}

static int text_answer(sos_HttpResponse *resp, sos_arena *a, unsigned status, const char *msg) {
  struct buf b = {0};
  adds(&b, msg);
  return answer(resp, a, status, "text/plain; charset=utf-8", &b);
}

/* 405 with the methods allowed. */
static int not_allowed(sos_HttpResponse *resp, sos_arena *a, const char *allow) {
  int rc = text_answer(resp, a, 405, "method not allowed\n");
  sos_HttpHeader *h = sos_arena_alloc(a, 3 * sizeof *h);
  if (rc || !h) return rc ? rc : -SOS_STATUS_TOO_BIG;
  memcpy(h, resp->headers.items, 2 * sizeof *h);
  h[2] = (sos_HttpHeader){SOS_TEXT("allow"), {allow, (uint32_t)strlen(allow)}};
  resp->headers = (sos_HttpHeader_list){h, 3};
  return 0;
}

static int is(sos_text t, const char *s) {
  return t.len == strlen(s) && memcmp(t.p, s, t.len) == 0;
}

/* ---- checking what visitors type --------------------------------------------- */

/* How many characters the UTF-8 text s holds, or -1 when it is not UTF-8
 * or holds a control character other than newline and tab (none at all
 * when one_line). */
static int chars(const char *s, size_t n, int one_line) {
  int count = 0;
  for (size_t i = 0; i < n; count++) {
    unsigned char c = (unsigned char)s[i];
    size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (!len || i + len > n) return -1;
    uint32_t cp = len == 1 ? c : c & (0x7f >> len);
    for (size_t j = 1; j < len; j++) {
      if (((unsigned char)s[i + j] & 0xc0) != 0x80) return -1;
      cp = cp << 6 | ((unsigned char)s[i + j] & 0x3f);
    }
    static const uint32_t least[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < least[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return -1;
    if ((cp < 0x20 && (one_line || (cp != '\n' && cp != '\t'))) || cp == 0x7f) return -1;
    i += len;
  }
  return count;
}

/* Trims spaces (and, for a message, blank lines) off both ends. */
static sos_text trim(const char *s, size_t n) {
  while (n && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')) s++, n--;
  while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r')) n--;
  return (sos_text){s, (uint32_t)n};
}

/* NULL when name and message may be saved, else why not, for a person. */
static const char *invalid(sos_text name, sos_text message) {
  int nc = chars(name.p, name.len, 1), mc = chars(message.p, message.len, 0);
  if (nc < 0) return "Your name has characters that cannot be shown; please retype it.";
  if (mc < 0) return "Your message has characters that cannot be shown; please retype it.";
  if (nc == 0) return "Please tell us your name.";
  if (nc > MAX_NAME) return "Your name is too long: 40 characters at most.";
  if (mc == 0) return "Please write a message.";
  if (mc > MAX_MESSAGE) return "Your message is too long: 500 characters at most.";
  return NULL;
}

/* ---- storage --------------------------------------------------------------------- */

/* Adds one to counter key and returns the new value, or 0 on failure. */
static uint64_t bump(const char *key) {
  for (int i = 0; i < 32; i++) {
    char old[32], now[32];
    size_t olen = 0;
    int st = sos_kv_get_buf("counters", key, strlen(key), old, sizeof old - 1, &olen);
    if (st != SOS_STATUS_OK && st != SOS_STATUS_NOT_FOUND) return 0;
    old[st == SOS_STATUS_OK && olen < sizeof old ? olen : 0] = 0;
    uint64_t v = strtoull(old, NULL, 10) + 1;
    int n = snprintf(now, sizeof now, "%llu", (unsigned long long)v);
    st = sos_kv_cas("counters", key, strlen(key), st == SOS_STATUS_OK ? old : NULL, olen, now,
                    (size_t)n);
    if (st == SOS_STATUS_OK) return v;
    if (st != SOS_STATUS_CONFLICT) return 0;
  }
  return 0;
}

static uint64_t counter(const char *key) {
  char v[32];
  size_t n = 0;
  if (sos_kv_get_buf("counters", key, strlen(key), v, sizeof v - 1, &n) != SOS_STATUS_OK ||
      n >= sizeof v)
    return 0;
  v[n] = 0;
  return strtoull(v, NULL, 10);
}

/* Saves an entry; 0 and *e filled, or a status. */
static int save(sos_text name, sos_text message, guestbook_Entry *e) {
  uint64_t id = bump("entries");
  if (!id) return SOS_STATUS_ERROR;
  *e = (guestbook_Entry){.id = id, .at = sos_now_ns() / 1000000, .name = name,
                         .message = message};
  uint8_t mem[1024];
  sos_wbuf w;
  sos_wbuf_init(&w, mem, sizeof mem);
  int st = guestbook_Entry_encode(e, &w);
  struct sos_row row = sos_row_of(w.p, w.len);
  if (!st) st = sos_table_put("entries", &row);
  sos_wbuf_free(&w);
  return st;
}

/* The newest entries, newest first. */
struct shown {
  guestbook_Entry e[SHOWN];
  char *text[SHOWN]; /* each entry's name and message, copied */
  int n;
};

static int take_row(void *user, const unsigned char *row, size_t len) {
  struct shown *s = user;
  guestbook_Entry e;
  if (s->n == SHOWN || guestbook_Entry_decode(&e, row, len, NULL)) return 0;
  char *t = malloc(e.name.len + e.message.len + 1);
  if (!t) return 1;
  memcpy(t, e.name.p, e.name.len);
  memcpy(t + e.name.len, e.message.p, e.message.len);
  e.name.p = t;
  e.message.p = t + e.name.len;
  s->text[s->n] = t;
  s->e[s->n++] = e;
  return 0;
}

static int newest(struct shown *s) {
  uint64_t last = counter("entries");
  struct sos_row lo = SOS_ROW_INIT;
  sos_row_u64(&lo, 1, last > SHOWN ? last - SHOWN + 1 : 0);
  s->n = 0;
  int got = sos_table_query("entries", 1, &lo, NULL, SHOWN, take_row, s);
  sos_row_free(&lo);
  for (int i = 0; i < s->n / 2; i++) { /* oldest first from the query */
    guestbook_Entry e = s->e[i];
    char *t = s->text[i];
    s->e[i] = s->e[s->n - 1 - i], s->text[i] = s->text[s->n - 1 - i];
    s->e[s->n - 1 - i] = e, s->text[s->n - 1 - i] = t;
  }
  return got < 0 ? -got : 0;
}

static void shown_free(struct shown *s) {
  for (int i = 0; i < s->n; i++) free(s->text[i]);
}

/* ---- the page ----------------------------------------------------------------------- */

static void add_when(struct buf *b, int64_t ms, int iso) {
  time_t t = (time_t)(ms / 1000);
  struct tm tm;
  char when[40];
  gmtime_r(&t, &tm);
  strftime(when, sizeof when, iso ? "%Y-%m-%dT%H:%M:%SZ" : "%Y-%m-%d %H:%M UTC", &tm);
  adds(b, when);
}

static void add_entry(struct buf *b, const guestbook_Entry *e) {
  addf(b, "{\"id\":%llu,\"at\":%lld,\"name\":", (unsigned long long)e->id, (long long)e->at);
  add_json(b, e->name.p, e->name.len);
  adds(b, ",\"message\":");
  add_json(b, e->message.p, e->message.len);
  adds(b, "}");
}

/* The newest entries as the page's list items and as the API's JSON
 * array items, kept in the instance's memory between requests: an
 * instance lives on, so a page view that finds the "entries" counter
 * where it was re-sends the bytes it made instead of querying the table
 * and escaping every entry again.  Any instance's new entry moves the
 * counter, so no instance shows a stale list.  (A list is kept only when
 * its newest row is the counter's: an entry counted but not yet written
 * is not cached as missing.) */
static struct {
  uint64_t last; /* the "entries" counter the fragments were made at */
  int valid;
  struct buf html, json;
  struct buf tail; /* the whole page after the visit count, for a plain GET */
} cache;

/* The page up to the visit count, and from there to the list. */
static const char page_head[] =
    "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    "<title>Guestbook</title>\n<link rel=\"stylesheet\" href=\"/static/style.css\">\n"
    "</head>\n<body>\n<main>\n<header>\n<h1>Guestbook</h1>\n"
    "<p>Leave a note for the next visitor. This page has been visited "
    "<strong id=\"visits\">";
static const char page_footer[] =
    "<footer>Served by SOS: a WebAssembly service behind the node's HTTP "
    "gateway, its entries in a table and its visit counter in a kv store. "
    "<a href=\"/api/entries\">The same as JSON</a>.</footer>\n</main>\n"
    "<script src=\"/static/app.js\"></script>\n</body>\n</html>\n";

/* The form, with error and what was typed (when a post was refused). */
static void add_form(struct buf *b, const char *error, sos_text name, sos_text message) {
  adds(b, "<form id=\"sign\" method=\"post\" action=\"/\">\n");
  if (error) {
    adds(b, "<p class=\"error\" role=\"alert\">");
    add_html(b, error, strlen(error));
    adds(b, "</p>\n");
  }
  adds(b, "<label for=\"name\">Name</label>\n<input id=\"name\" name=\"name\" maxlength=\"40\" "
          "required autocomplete=\"name\" value=\"");
  add_html(b, name.p, name.len);
  adds(b, "\">\n<label for=\"message\">Message</label>\n<textarea id=\"message\" "
          "name=\"message\" maxlength=\"500\" required>");
  add_html(b, message.p, message.len);
  adds(b, "</textarea>\n<div class=\"row\"><span id=\"count\" class=\"count\"></span>"
          "<button type=\"submit\">Sign the guestbook</button></div>\n</form>\n");
}

static int fragments(void) {
  uint64_t last = counter("entries");
  if (cache.valid && cache.last == last) return 0;
  struct shown s;
  int st = newest(&s);
  if (st) return st;
  struct buf html = {0}, json = {0};
  if (!s.n) adds(&html, "<p id=\"empty\">No entries yet. Be the first!</p>\n");
  adds(&html, "<ol id=\"entries\">\n");
  for (int i = 0; i < s.n; i++) {
    const guestbook_Entry *e = &s.e[i];
    addf(&html, "<li id=\"e%llu\"><span class=\"who\">", (unsigned long long)e->id);
    add_html(&html, e->name.p, e->name.len);
    adds(&html, "</span><time datetime=\"");
    add_when(&html, e->at, 1);
    adds(&html, "\">");
    add_when(&html, e->at, 0);
    adds(&html, "</time><p>");
    add_html(&html, e->message.p, e->message.len);
    adds(&html, "</p></li>\n");
    if (i) adds(&json, ",");
    add_entry(&json, e);
  }
  adds(&html, "</ol>\n");
  add(&json, "", 0);
  int complete = s.n == 0 ? last == 0 : s.e[0].id == last;
  shown_free(&s);
  if (html.failed || json.failed) {
    free(html.p);
    free(json.p);
    return SOS_STATUS_TOO_BIG;
  }
  struct buf tail = {0}; /* what a plain GET sends after the count */
  adds(&tail, "</strong> times.</p>\n</header>\n");
  add_form(&tail, NULL, (sos_text){0}, (sos_text){0});
  add(&tail, html.p, html.len);
  adds(&tail, page_footer);
  if (tail.failed) {
    free(html.p);
    free(json.p);
    free(tail.p);
    return SOS_STATUS_TOO_BIG;
  }
  free(cache.html.p);
  free(cache.json.p);
  free(cache.tail.p);
  cache.html = html;
  cache.json = json;
  cache.tail = tail;
  cache.last = last;
  cache.valid = complete;
  return 0;
}

/* The page, with error and what was typed when a post was refused. */
static int render(sos_HttpResponse *resp, sos_arena *a, unsigned status, const char *error,
                  sos_text name, sos_text message, uint64_t visits) {
  int st = fragments();
  if (st) return -st;
  char num[24];
  int nl = snprintf(num, sizeof num, "%llu", (unsigned long long)visits);
  if (!error && !name.len && !message.len) { /* a plain GET: three copies */
    size_t hl = sizeof page_head - 1, n = hl + (size_t)nl + cache.tail.len;
    char *body = sos_arena_alloc(a, n);
    if (!body) return -SOS_STATUS_TOO_BIG;
    memcpy(body, page_head, hl);
    memcpy(body + hl, num, (size_t)nl);
    memcpy(body + hl + nl, cache.tail.p, cache.tail.len);
    return set_body(resp, a, status, "text/html; charset=utf-8", body, n);
  }
  struct buf b = {0};
  adds(&b, page_head);
  add(&b, num, (size_t)nl);
  adds(&b, "</strong> times.</p>\n</header>\n");
  add_form(&b, error, name, message);
  add(&b, cache.html.p, cache.html.len);
  adds(&b, page_footer);
  return answer(resp, a, status, "text/html; charset=utf-8", &b);
}

/* The value of field key of a form body (sos_form_text), empty when absent. */
static sos_text form_field(sos_bytes body, const char *key, sos_arena *a) {
  sos_text v;
  sos_form_text(body.p, body.len, key, &v, a);
  return v;
}

int guestbook_Guestbook_page_serve(const sos_HttpRequest *req, sos_HttpResponse *resp,
                                   sos_arena *a) {
  if (!is(req->path, "/")) return text_answer(resp, a, 404, "no such page\n");
  if (is(req->method, "GET") || is(req->method, "HEAD")) {
    /* One more visit: the store adds it in place with the next commit, so
     * a page view neither waits for the disk nor conflicts with another;
     * the page shows the count so far, this visit included. */
    sos_kv_add("counters", "visits", 6, 1, 0);
    return render(resp, a, 200, NULL, (sos_text){0}, (sos_text){0}, counter("visits") + 1);
  }
  if (!is(req->method, "POST")) return not_allowed(resp, a, "GET, HEAD, POST");
  sos_text typed = form_field(req->body, "name", a), name = trim(typed.p, typed.len);
  sos_text raw = form_field(req->body, "message", a), message = trim(raw.p, raw.len);
  const char *why = invalid(name, message);
  if (why) return render(resp, a, 400, why, name, raw, counter("visits"));
  guestbook_Entry e;
  int st = save(name, message, &e);
  if (st) return render(resp, a, 503, "The entry could not be saved; please try again.", name,
                        raw, counter("visits"));
  sos_HttpHeader *h = sos_arena_alloc(a, sizeof *h);
  if (!h) return -SOS_STATUS_TOO_BIG;
  *h = (sos_HttpHeader){SOS_TEXT("location"), SOS_TEXT("/")};
  resp->status = 303; /* post, redirect, get: a reload does not post again */
  resp->headers = (sos_HttpHeader_list){h, 1};
  return 0;
}

/* ---- the JSON API ------------------------------------------------------------------ */


/* {"name": "...", "message": "..."}: 0 with both (absent ones empty), or
 * -1 when the body is not a JSON object. */
static int parse_entry(sos_bytes body, sos_text *name, sos_text *message, sos_arena *a) {
  size_t i = 0;
  while (i < body.len && (body.p[i] == ' ' || body.p[i] == '\n' || body.p[i] == '\r' ||
                          body.p[i] == '\t'))
    i++;
  if (i == body.len || body.p[i] != '{') return -1;
  sos_json_text(body.p, body.len, "name", name, a);
  sos_json_text(body.p, body.len, "message", message, a);
  return 0;
}

int guestbook_Guestbook_api_serve(const sos_HttpRequest *req, sos_HttpResponse *resp,
                                  sos_arena *a) {
  struct buf b = {0};
  if (is(req->path, "/api/stats")) {
    if (!is(req->method, "GET") && !is(req->method, "HEAD"))
      return not_allowed(resp, a, "GET, HEAD");
    addf(&b, "{\"entries\":%llu,\"visits\":%llu}\n", (unsigned long long)counter("entries"),
         (unsigned long long)counter("visits"));
    return answer(resp, a, 200, "application/json", &b);
  }
  if (!is(req->path, "/api/entries")) return json_error(resp, a, 404, "no such API");
  if (is(req->method, "GET") || is(req->method, "HEAD")) {
    int st = fragments();
    if (st) return -st;
    adds(&b, "{\"entries\":[");
    add(&b, cache.json.p, cache.json.len);
    addf(&b, "],\"visits\":%llu}\n", (unsigned long long)counter("visits"));
    return answer(resp, a, 200, "application/json", &b);
  }
  if (!is(req->method, "POST")) return not_allowed(resp, a, "GET, HEAD, POST");
  sos_text name, message;
  if (parse_entry(req->body, &name, &message, a))
    return json_error(resp, a, 400, "Send a JSON object: {\"name\": \"...\", \"message\": \"...\"}.");
  name = trim(name.p, name.len);
  message = trim(message.p, message.len);
  const char *why = invalid(name, message);
  if (why) return json_error(resp, a, 400, why);
  guestbook_Entry e;
  if (save(name, message, &e))
    return json_error(resp, a, 503, "The entry could not be saved; please try again.");
  adds(&b, "{\"entry\":");
  add_entry(&b, &e);
  adds(&b, "}\n");
  return answer(resp, a, 201, "application/json", &b);
}

/* ---- the app's files ---------------------------------------------------------------- */

static const char *type_of(const char *path) {
  const char *dot = strrchr(path, '.');
  if (dot && !strcmp(dot, ".css")) return "text/css; charset=utf-8";
  if (dot && !strcmp(dot, ".js")) return "text/javascript; charset=utf-8";
  if (dot && !strcmp(dot, ".html")) return "text/html; charset=utf-8";
  if (dot && !strcmp(dot, ".png")) return "image/png";
  if (dot && !strcmp(dot, ".svg")) return "image/svg+xml";
  return "application/octet-stream";
}

int guestbook_Guestbook_asset_serve(const sos_HttpRequest *req, sos_HttpResponse *resp,
                                    sos_arena *a) {
  if (!is(req->method, "GET") && !is(req->method, "HEAD")) return not_allowed(resp, a, "GET, HEAD");
  char path[256];
  if (req->path.len >= sizeof path || memmem(req->path.p, req->path.len, "..", 2))
    return text_answer(resp, a, 404, "no such file\n");
  snprintf(path, sizeof path, "%.*s", (int)req->path.len - 1, req->path.p + 1); /* static/... */
  FILE *f = fopen(path, "rb");
  if (!f) return text_answer(resp, a, 404, "no such file\n");
  struct buf b = {0};
  char chunk[4096];
  size_t n;
  while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) add(&b, chunk, n);
  fclose(f);
  int rc = answer(resp, a, 200, type_of(path), &b);
  if (!rc) resp->headers.items[1].value = SOS_TEXT("max-age=300");
  return rc;
}

void sos_main(void) { guestbook_Guestbook_register(); }
