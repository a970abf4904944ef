/*
 * greeter.c - a typed service: it implements interface Greeter of
 * app.sos through the code that `sos build` generates (greeter.sos.h).
 *
 *   hello {name, times, mood} -> {greeting, words}
 *       "hello, NAME" (mood happy: "hello, NAME!", grumpy: "oh, it's
 *       you, NAME"), said `times` times (0 counts as once), joined by
 *       spaces; words is how many times it was said.
 *       Errors: no_name for an empty name, too_many for times over 10.
 *
 * The generated glue decodes the request (refusing malformed bytes with
 * SOS_STATUS_INVALID), calls greeter_Greeter_hello_serve and encodes what
 * it fills in, or the Error struct of a declared error.  The greeting is
 * built in the request's arena `a`, so nothing here calls malloc or free:
 * the arena is reset once the answer has gone.
 */
#include "greeter.sos.h"
#include "sos.h"

#include <stdio.h>
#include <string.h>

enum { MAX_TIMES = 10 };

/* The greeting for one name and mood, into buf; its length. */
static int greeting(char *buf, size_t cap, sos_text name, greeter_Mood mood) {
  const char *fmt = mood == greeter_Mood_happy    ? "hello, %.*s!"
                    : mood == greeter_Mood_grumpy ? "oh, it's you, %.*s"
                                                  : "hello, %.*s";
  return snprintf(buf, cap, fmt, (int)name.len, name.p);
}

int greeter_Greeter_hello_serve(const greeter_HelloReq *req, greeter_HelloResp *resp,
                                sos_arena *a) {
  if (req->name.len == 0) return sos_wire_fail(greeter_Greeter_no_name, "a greeting needs a name");
  if (req->times > MAX_TIMES)
    return sos_wire_fail(greeter_Greeter_too_many, "%u times is more than %d", req->times,
                         MAX_TIMES);
  uint32_t times = req->times ? req->times : 1;
  int one = greeting(NULL, 0, req->name, req->mood);
  size_t cap = ((size_t)one + 1) * times;
  char *text = sos_arena_alloc(a, cap);
  if (!text) return sos_wire_fail(-SOS_STATUS_TOO_BIG, "out of memory for the greeting");
  size_t len = 0;
  for (uint32_t i = 0; i < times; i++) {
    if (i) text[len++] = ' ';
    len += (size_t)greeting(text + len, cap - len, req->name, req->mood);
  }
  resp->greeting.p = text;
  resp->greeting.len = (uint32_t)len;
  resp->words = times;
  return 0;
}

void sos_main(void) { greeter_Greeter_register(); }
