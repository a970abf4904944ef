/*
 * slackbot.c - a Slack bot on SOS: karma.
 *
 * In a channel the bot is in, "<@U123> ++" gives U123 a point and
 * "<@U123> --" takes one (several in one message are fine; nobody can
 * give themselves karma); the bot answers in the channel with the new
 * totals.  The slash command /karma answers the leaderboard, and
 * "/karma @someone" one person's points.
 *
 *   events    the Events API endpoint (app.sos: http "/slack/events"):
 *             url_verification answers the challenge; event_callback
 *             (app_mention, message) is acknowledged at once with
 *             respond_now, inside Slack's three seconds, and only then
 *             are points counted and the reply posted (chat.postMessage
 *             through the http built-in, with the bot token).
 *   command   the slash command endpoint (form-encoded).
 *
 * Every request is verified as Slack documents ("Verifying requests from
 * Slack"): the signature is v0= and the hex HMAC-SHA256, keyed with the
 * signing secret, of "v0:" TIMESTAMP ":" BODY; a timestamp more than five
 * minutes from now is refused (replays of old captures), and so is a
 * signature seen before (a replay within the five minutes).  The HMAC is
 * computed by the crypto built-in keyed with the secret by name, so this
 * code never holds the signing secret, and compared in constant time
 * (crypto.equal).  Slack retries an event it thinks was lost, with a new
 * signature and the same event_id: those are acknowledged and not
 * counted twice.  State: kv `karma` (user id -> points, as decimal
 * text), kv `seen` ("sig:TIME:SIGNATURE", "event:ID" and "evts:TIME:ID"
 * keys, the old ones forgotten after each event: prune()).
 */
#include "slackbot.sos.h"
#include "sos.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SKEW_S 300 /* Slack: refuse requests older than five minutes */

static bool is(sos_text t, const char *s) {
  return t.len == strlen(s) && memcmp(t.p, s, t.len) == 0;
}

static sos_text header_of(const sos_HttpRequest *req, const char *name) {
  for (uint32_t i = 0; i < req->headers.n; i++)
    if (is(req->headers.items[i].name, name)) return req->headers.items[i].value;
  return (sos_text){0};
}

/* printf into the arena. */
static sos_text fmt(sos_arena *a, const char *f, ...) {
  va_list ap;
  va_start(ap, f);
  int n = vsnprintf(NULL, 0, f, ap);
  va_end(ap);
  char *p = n >= 0 ? sos_arena_alloc(a, (size_t)n + 1) : NULL;
  if (!p) return (sos_text){0};
  va_start(ap, f);
  vsnprintf(p, (size_t)n + 1, f, ap);
  va_end(ap);
  return (sos_text){p, (uint32_t)n};
}

/* Answers status with a JSON (or text) body. */
static int answer(sos_HttpResponse *resp, sos_arena *a, unsigned status, const char *type,
                  sos_text body) {
  sos_HttpHeader *h = sos_arena_alloc(a, sizeof *h);
  if (!h) return -SOS_STATUS_TOO_BIG;
  *h = (sos_HttpHeader){SOS_TEXT("content-type"), {type, (uint32_t)strlen(type)}};
  resp->status = status;
  resp->headers = (sos_HttpHeader_list){h, 1};
  resp->body = (sos_bytes){(const uint8_t *)body.p, body.len};
  return 0;
}

static int refuse(sos_HttpResponse *resp, sos_arena *a, const char *why) {
  sos_warn("refused a request: %s", why);
  return answer(resp, a, 401, "text/plain; charset=utf-8", fmt(a, "%s\n", why));
}

/* ---- verifying Slack's signature ---------------------------------------------- */

/* NULL when req is a fresh request signed with the signing secret, else
 * why not. */
static const char *unverified(const sos_HttpRequest *req, sos_arena *a) {
  sos_text ts = header_of(req, "x-slack-request-timestamp");
  sos_text sig = header_of(req, "x-slack-signature");
  if (!ts.len || !sig.len) return "not signed by Slack (no X-Slack-Signature)";
  char tbuf[24];
  if (ts.len >= sizeof tbuf) return "bad timestamp";
  memcpy(tbuf, ts.p, ts.len);
  tbuf[ts.len] = 0;
  char *end;
  long long t = strtoll(tbuf, &end, 10);
  if (*end || t <= 0 || tbuf[0] == '0') return "bad timestamp";
  long long now = (long long)(sos_now_ns() / 1000000000);
  if (t < now - MAX_SKEW_S || t > now + MAX_SKEW_S) return "stale timestamp (more than 5 minutes off)";
  if (sig.len != 67 || memcmp(sig.p, "v0=", 3)) return "bad signature";
  /* v0:TIMESTAMP:BODY, HMAC-SHA256 keyed with the secret by name */
  size_t n = 3 + ts.len + 1 + req->body.len;
  uint8_t *base = sos_arena_alloc(a, n ? n : 1);
  if (!base) return "out of memory";
  memcpy(base, "v0:", 3);
  memcpy(base + 3, ts.p, ts.len);
  base[3 + ts.len] = ':';
  memcpy(base + 4 + ts.len, req->body.p, req->body.len);
  sos_HmacReq hr = {.data = {base, (uint32_t)n}, .secret = SOS_TEXT("SLACK_SIGNING_SECRET")};
  sos_Digest d = {0};
  sos_Crypto crypto = sos_Crypto_at("crypto");
  if (sos_Crypto_hmac_sha256(crypto, &hr, &d, a) || d.digest.len != 32)
    return "cannot compute the signature (is SLACK_SIGNING_SECRET set?)";
  char hex[65];
  for (int i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", d.digest.p[i]);
  sos_EqualReq eq = {.a = {(const uint8_t *)hex, 64}, .b = {(const uint8_t *)sig.p + 3, 64}};
  sos_Equal same = {0};
  if (sos_Crypto_equal(crypto, &eq, &same, a) || !same.equal) return "bad signature";
  /* a signature is good once: the same signed request again is a replay.
   * The key starts with the timestamp, so that prune() finds the old ones
   * in order (a signature covers its timestamp: one signature, one key). */
  char key[96];
  int klen = snprintf(key, sizeof key, "sig:%s:%.*s", tbuf, (int)sig.len - 3, sig.p + 3);
  int st = sos_kv_cas("seen", key, (size_t)klen, NULL, 0, tbuf, ts.len);
  if (st == SOS_STATUS_CONFLICT) return "replayed request (this signature was seen before)";
  if (st) return "cannot record the request";
  return NULL;
}

/* ---- karma ------------------------------------------------------------------------ */

/* Adds delta to user's points (compare-and-swap); the new total in *now. */
static int add_karma(const char *user, size_t ulen, int delta, long long *now) {
  for (int i = 0; i < 32; i++) {
    char old[32], val[32];
    size_t olen = 0;
    int st = sos_kv_get_buf("karma", user, ulen, old, sizeof old - 1, &olen);
    if (st != SOS_STATUS_OK && st != SOS_STATUS_NOT_FOUND) return st;
    old[st == SOS_STATUS_OK && olen < sizeof old ? olen : 0] = 0;
    *now = strtoll(old, NULL, 10) + delta;
    int n = snprintf(val, sizeof val, "%lld", *now);
    st = sos_kv_cas("karma", user, ulen, st == SOS_STATUS_OK ? old : NULL, olen, val, (size_t)n);
    if (st != SOS_STATUS_CONFLICT) return st;
  }
  return SOS_STATUS_CONFLICT;
}

/* Whether c may be in a Slack user id. */
static bool id_char(char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

/* Counts every "<@U123> ++" / "--" in text from author; the reply lines
 * (empty when there were none). */
static sos_text count_karma(sos_text text, sos_text author, sos_arena *a) {
  size_t cap = 64 + text.len * 4, o = 0;
  char *out = sos_arena_alloc(a, cap);
  if (!out) return (sos_text){0};
  for (size_t i = 0; i + 3 < text.len; i++) {
    if (text.p[i] != '<' || text.p[i + 1] != '@') continue;
    size_t s = i + 2, e = s;
    while (e < text.len && id_char(text.p[e])) e++;
    if (e == s || e >= text.len || (text.p[e] != '>' && text.p[e] != '|')) continue;
    size_t close = e;
    while (close < text.len && text.p[close] != '>') close++;
    size_t op = close + 1;
    while (op < text.len && text.p[op] == ' ') op++;
    if (op + 1 >= text.len || text.p[op] != text.p[op + 1] ||
        (text.p[op] != '+' && text.p[op] != '-'))
      continue;
    int delta = text.p[op] == '+' ? 1 : -1;
    i = op + 1;
    if (e - s == author.len && !memcmp(text.p + s, author.p, author.len)) {
      o += (size_t)snprintf(out + o, cap - o, "<@%.*s> cannot give themselves karma\n",
                            (int)(e - s), text.p + s);
      continue;
    }
    long long now = 0;
    if (add_karma(text.p + s, e - s, delta, &now)) continue;
    o += (size_t)snprintf(out + o, cap - o, "<@%.*s> %s a point: %lld now\n", (int)(e - s),
                          text.p + s, delta > 0 ? "gets" : "loses", now);
  }
  return (sos_text){out, (uint32_t)o};
}

/* Posts text to channel through Slack's Web API (chat.postMessage). */
static void post(sos_text channel, sos_text text, sos_arena *a) {
  sos_SecretName sn = {.name = SOS_TEXT("SLACK_BOT_TOKEN")};
  sos_SecretValue token = {0};
  if (sos_Secrets_get(sos_Secrets_at("secrets"), &sn, &token, a)) {
    sos_error("cannot post: SLACK_BOT_TOKEN: %s", sos_wire_last_error()->message);
    return;
  }
  size_t qc = sos_json_quote(NULL, channel.p, channel.len), qt = sos_json_quote(NULL, text.p, text.len);
  char *body = sos_arena_alloc(a, qc + qt + 32);
  if (!body) return;
  size_t n = (size_t)sprintf(body, "{\"channel\":");
  n += sos_json_quote(body + n, channel.p, channel.len);
  n += (size_t)sprintf(body + n, ",\"text\":");
  n += sos_json_quote(body + n, text.p, text.len);
  body[n++] = '}';
  sos_HttpHeader h[2] = {
      {SOS_TEXT("authorization"), fmt(a, "Bearer %.*s", (int)token.value.len, token.value.p)},
      {SOS_TEXT("content-type"), SOS_TEXT("application/json; charset=utf-8")}};
  sos_Fetch f = {.method = SOS_TEXT("POST"),
                 .url = fmt(a, "%s/chat.postMessage", sos_param_str("SLACK_API", "https://slack.com/api")),
                 .headers = {h, 2},
                 .body = {(const uint8_t *)body, (uint32_t)n},
                 .timeout_ms = 5000};
  sos_HttpResponse got = {0};
  if (sos_HttpClient_fetch(sos_HttpClient_at("http"), &f, &got, a)) {
    sos_error("chat.postMessage failed: %s", sos_wire_last_error()->message);
    return;
  }
  sos_text ok = {0};
  sos_json_text(got.body.p, got.body.len, "error", &ok, a);
  if (got.status != 200 || ok.len)
    sos_error("chat.postMessage answered %u %.*s", got.status, (int)ok.len, ok.p);
}

/* ---- the Events API ------------------------------------------------------------------- */

/* Records event_id (and, under "evts:TIME:", when it came, for prune());
 * false when it was handled before (a retry). */
static bool first_time(sos_text id) {
  char key[160], when[180], ts[24];
  int idl = (int)(id.len < 120 ? id.len : 120);
  int n = snprintf(key, sizeof key, "event:%.*s", idl, id.p);
  int tn = snprintf(ts, sizeof ts, "%010lld", (long long)(sos_now_ns() / 1000000000));
  int wn = snprintf(when, sizeof when, "evts:%s:%.*s", ts, idl, id.p);
  struct sos_kv_batch b = SOS_KV_BATCH_INIT;
  sos_kv_batch_check_absent(&b, key, (size_t)n);
  sos_kv_batch_put(&b, key, (size_t)n, ts, (size_t)tn);
  sos_kv_batch_put(&b, when, (size_t)wn, "", 0);
  int st = sos_kv_batch_commit(&b, "seen");
  sos_kv_batch_free(&b);
  return st == SOS_STATUS_OK;
}

/* Forgets what no request can replay any more: signatures older than the
 * five minutes a request is valid, event ids older than an hour (Slack
 * retries within minutes).  At most 64 of each a request, in one batch,
 * after the acknowledgement, so the store stays bounded without a sweep. */
struct prune {
  struct sos_kv_batch b;
  int events;
};

static int prune_key(void *user, const char *key, size_t klen, const char *val, size_t vlen) {
  struct prune *p = user;
  (void)val, (void)vlen;
  if (p->b.n >= 128) return 1; /* enough for one request; the next goes on */
  sos_kv_batch_del(&p->b, key, klen);
  if (p->events && klen > 16) { /* evts:TTTTTTTTTT:ID: the event's own key too */
    char ev[160];
    int n = snprintf(ev, sizeof ev, "event:%.*s", (int)(klen - 16), key + 16);
    sos_kv_batch_del(&p->b, ev, (size_t)n);
  }
  return 0;
}

static void prune(void) {
  long long now = (long long)(sos_now_ns() / 1000000000);
  char sig_end[32], ev_end[32];
  int sn = snprintf(sig_end, sizeof sig_end, "sig:%lld", now - MAX_SKEW_S - 60);
  int en = snprintf(ev_end, sizeof ev_end, "evts:%010lld", now - 3600);
  struct prune p = {SOS_KV_BATCH_INIT, 0};
  sos_kv_scan_range("seen", "sig:", 4, sig_end, (size_t)sn, prune_key, &p);
  p.events = 1;
  sos_kv_scan_range("seen", "evts:", 5, ev_end, (size_t)en, prune_key, &p);
  if (p.b.n && sos_kv_batch_commit(&p.b, "seen") == SOS_STATUS_OK)
    sos_debug("forgot %zu old signatures and events", p.b.n);
  sos_kv_batch_free(&p.b);
}

/* Acknowledges the request now (200, empty): Slack wants an answer within
 * three seconds, and the rest may take longer. */
static void acknowledge(void) {
  sos_HttpResponse ok = {.status = 200};
  uint8_t mem[64];
  sos_wbuf w;
  sos_wbuf_init(&w, mem, sizeof mem);
  if (sos_HttpResponse_encode(&ok, &w) == 0) sos_respond_now(w.p, w.len);
  sos_wbuf_free(&w);
}

int slackbot_Slack_events_serve(const sos_HttpRequest *req, sos_HttpResponse *resp,
                                sos_arena *a) {
  if (!is(req->method, "POST")) return refuse(resp, a, "the Events API posts");
  const char *why = unverified(req, a);
  if (why) return refuse(resp, a, why);
  const void *js = req->body.p;
  size_t n = req->body.len;
  sos_text type = {0}, challenge = {0}, id = {0}, etype = {0}, text = {0}, channel = {0},
           user = {0}, bot = {0};
  sos_json_text(js, n, "type", &type, a);
  if (is(type, "url_verification")) {
    sos_json_text(js, n, "challenge", &challenge, a);
    char *q = sos_arena_alloc(a, sos_json_quote(NULL, challenge.p, challenge.len) + 16);
    if (!q) return -SOS_STATUS_TOO_BIG;
    size_t len = (size_t)sprintf(q, "{\"challenge\":");
    len += sos_json_quote(q + len, challenge.p, challenge.len);
    q[len++] = '}';
    return answer(resp, a, 200, "application/json", (sos_text){q, (uint32_t)len});
  }
  if (!is(type, "event_callback")) return answer(resp, a, 200, "text/plain", SOS_TEXT(""));
  sos_json_text(js, n, "event_id", &id, a);
  if (id.len && !first_time(id)) { /* Slack's retry of one we have */
    sos_info("event %.*s again (a retry): acknowledged, not counted", (int)id.len, id.p);
    return answer(resp, a, 200, "text/plain", SOS_TEXT(""));
  }
  acknowledge(); /* from here on, the work is after the answer */
  prune();
  sos_json_text(js, n, "event.type", &etype, a);
  sos_json_text(js, n, "event.text", &text, a);
  sos_json_text(js, n, "event.channel", &channel, a);
  sos_json_text(js, n, "event.user", &user, a);
  sos_json_text(js, n, "event.bot_id", &bot, a);
  if (bot.len || (!is(etype, "app_mention") && !is(etype, "message"))) return 0;
  sos_text reply = count_karma(text, user, a);
  if (reply.len && channel.len) post(channel, reply, a);
  return 0;
}

/* ---- the slash command ------------------------------------------------------------------- */

/* The value of field key of a form body (sos_form_text), empty when absent. */
static sos_text form_field(sos_bytes body, const char *key, sos_arena *a) {
  sos_text v;
  sos_form_text(body.p, body.len, key, &v, a);
  return v;
}

struct board {
  char who[10][24];
  long long points[10];
  int n;
};

/* Keeps the ten highest totals, highest first. */
static int rank(void *user, const char *key, size_t klen, const char *val, size_t vlen) {
  struct board *b = user;
  char v[32];
  snprintf(v, sizeof v, "%.*s", (int)(vlen < 31 ? vlen : 31), val);
  long long p = strtoll(v, NULL, 10);
  int at = b->n < 10 ? b->n : 10;
  while (at > 0 && b->points[at - 1] < p) at--;
  if (at >= 10) return 0;
  int last = b->n < 10 ? b->n : 9;
  memmove(&b->points[at + 1], &b->points[at], (size_t)(last - at) * sizeof b->points[0]);
  memmove(&b->who[at + 1], &b->who[at], (size_t)(last - at) * sizeof b->who[0]);
  b->points[at] = p;
  snprintf(b->who[at], sizeof b->who[at], "%.*s", (int)(klen < 23 ? klen : 23), key);
  if (b->n < 10) b->n++;
  return 0;
}

int slackbot_Slack_command_serve(const sos_HttpRequest *req, sos_HttpResponse *resp,
                                 sos_arena *a) {
  if (!is(req->method, "POST")) return refuse(resp, a, "slash commands post");
  const char *why = unverified(req, a);
  if (why) return refuse(resp, a, why);
  sos_text command = form_field(req->body, "command", a), text = form_field(req->body, "text", a);
  if (!is(command, "/karma"))
    return answer(resp, a, 200, "text/plain; charset=utf-8", SOS_TEXT("I only know /karma.\n"));
  char out[1200];
  size_t o = 0;
  if (text.len > 3 && text.p[0] == '<' && text.p[1] == '@') { /* one person */
    size_t e = 2;
    while (e < text.len && id_char(text.p[e])) e++;
    char v[32] = "0";
    size_t vlen = 1;
    if (sos_kv_get_buf("karma", text.p + 2, e - 2, v, sizeof v - 1, &vlen) == SOS_STATUS_OK)
      v[vlen < sizeof v ? vlen : 0] = 0;
    o = (size_t)snprintf(out, sizeof out, "<@%.*s> has %s points", (int)(e - 2), text.p + 2, v);
  } else {
    struct board b = {.n = 0};
    sos_kv_scan_prefix("karma", "", 0, rank, &b);
    o = (size_t)snprintf(out, sizeof out, b.n ? "Karma leaderboard:" : "No karma yet: say @someone ++");
    for (int i = 0; i < b.n && o < sizeof out; i++)
      o += (size_t)snprintf(out + o, sizeof out - o, "\n%d. <@%s> %lld", i + 1, b.who[i], b.points[i]);
  }
  if (o >= sizeof out) o = sizeof out - 1;
  size_t cap = sos_json_quote(NULL, out, o) + 48;
  char *js = sos_arena_alloc(a, cap);
  if (!js) return -SOS_STATUS_TOO_BIG;
  size_t n = (size_t)sprintf(js, "{\"response_type\":\"in_channel\",\"text\":");
  n += sos_json_quote(js + n, out, o);
  js[n++] = '}';
  return answer(resp, a, 200, "application/json", (sos_text){js, (uint32_t)n});
}

void sos_main(void) { slackbot_Slack_register(); }
