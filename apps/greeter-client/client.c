/*
 * client.c - calling a typed service: greeter's interface Greeter,
 * imported from ../greeter/app.sos, through the stubs that `sos build`
 * generates (greeter-client.sos.h).
 *
 *   hi NAME      -> greeter.hello {name: NAME}, answered with its greeting
 *   moods NAME   -> two calls at once, happy and grumpy, with the async
 *                   stubs (_start, sos_await_all, _finish): both
 *                   greetings, one a line
 *
 * A failed call fails the request with the call's status; for one of
 * Greeter's declared errors (an empty NAME is no_name) the message is
 * "greeter: no_name (1): a greeting needs a name", from
 * sos_wire_last_error().
 */
#include "greeter-client.sos.h"
#include "sos.h"

/* The request being handled's arena holds the decoded responses. */
#define ARENA sos_wire_arena()

/* Fails the request with the last typed call's failure. */
static int failed(int status) {
  const sos_wire_fault *f = sos_wire_last_error();
  int rc = f->code ? sos_fail(status, "greeter: %s (%u): %s", f->name, (unsigned)f->code,
                              f->message)
                   : sos_fail(status, "greeter: %s", f->message);
  sos_arena_reset(ARENA);
  return rc;
}

static int hi(const struct sos_request *r) {
  greeter_Greeter g = greeter_Greeter_at("greeter");
  greeter_HelloReq req = {.name = {r->body, (uint32_t)r->len}};
  greeter_HelloResp resp;
  int status = greeter_Greeter_hello(g, &req, &resp, ARENA);
  if (status) return failed(status);
  status = sos_respond(resp.greeting.p, resp.greeting.len); /* copied at once */
  sos_arena_reset(ARENA);
  return status;
}

static int moods(const struct sos_request *r) {
  greeter_Greeter g = greeter_Greeter_at("greeter");
  greeter_HelloReq happy = {.name = {r->body, (uint32_t)r->len}, .mood = greeter_Mood_happy};
  greeter_HelloReq grumpy = happy;
  grumpy.mood = greeter_Mood_grumpy;
  int h[2] = {greeter_Greeter_hello_start(g, &happy), greeter_Greeter_hello_start(g, &grumpy)};
  if (h[0] < 0 || h[1] < 0) return failed(h[0] < 0 ? -h[0] : -h[1]);
  int rc = sos_await_all(h, 2, SOS_FOREVER);
  if (rc < 0) return sos_fail(-rc, "waiting for greeter: %s", sos_status_text(rc));
  greeter_HelloResp a, b;
  int sa = greeter_Greeter_hello_finish(h[0], &a, ARENA);
  int sb = greeter_Greeter_hello_finish(h[1], &b, ARENA);
  if (sa || sb) return failed(sa ? sa : sb);
  rc = sos_respondf("%.*s\n%.*s", (int)a.greeting.len, a.greeting.p, (int)b.greeting.len,
                    b.greeting.p);
  sos_arena_reset(ARENA);
  return rc;
}

void sos_main(void) {
  sos_method("hi", hi);
  sos_method("moods", moods);
}
