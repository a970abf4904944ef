/*
 * lang_http_test.c - the `http` route statement of app.sos and `import
 * "sos"`: parsing, the canonical printer and sos fmt, merging over
 * `extends`, and the checks a resolved definition must pass (the route's
 * service exists; a typed service's method takes sos.HttpRequest and
 * answers sos.HttpResponse).
 */
#include "lang_util.h"

TEST(lang_http_parse_routes) {
  struct sos_app *a = parse(WRAP("  service web {}\n"
                                 "  http \"/\" -> web\n"
                                 "  http \"/api/\" host \"Example.COM:8080\" -> web.api\n"));
  CHECK(a != NULL);
  if (!a) return;
  CHECK_EQ(a->nroutes, 2);
  CHECK_STR(a->routes[0].prefix, "/");
  CHECK(a->routes[0].host == NULL);
  CHECK_STR(a->routes[0].service, "web");
  CHECK_STR(a->routes[0].method, "http"); /* the default method */
  CHECK_STR(a->routes[1].host, "example.com:8080"); /* lower-cased */
  CHECK_STR(a->routes[1].method, "api");
  CHECK_EQ(a->routes[1].pos.line, 5);
  char *text = print(a);
  CHECK(same_text(text, "app x 1.0.0 {\n  module \"x.wasm\"\n"
                        "  service web {\n    instances 1..4\n    memory 16MiB\n"
                        "    timeout 5s\n    queue 64\n    quota 64MiB\n    keys 1000000\n  }\n"
                        "  http \"/\" -> web\n"
                        "  http \"/api/\" host \"example.com:8080\" -> web.api\n}\n"));
  sos_free(text);
  sos_app_free(a);
  char *f = fmt("app x 1.0.0 {\n  http  \"/a\"   ->  web . page\n}\n");
  CHECK(same_text(f, "app x 1.0.0 {\n  http \"/a\" -> web.page\n}\n"));
  sos_free(f);
}

TEST(lang_http_parse_errors) {
  FAILS(WRAP("  http / -> web\n"), "3:8: unexpected character \"/\"");
  FAILS(WRAP("  http web\n"),
        "3:8: expected a path prefix in quotes, as in http \"/\" -> web, found \"web\"");
  FAILS(WRAP("  http \"api\" -> web\n"),
        "3:8: bad path prefix \"api\": it starts with \"/\" and holds no spaces, \"?\" or "
        "\"#\" (at most 1024 bytes)");
  FAILS(WRAP("  http \"/a b\" -> web\n"),
        "3:8: bad path prefix \"/a b\": it starts with \"/\" and holds no spaces, \"?\" or "
        "\"#\" (at most 1024 bytes)");
  FAILS(WRAP("  http \"/a?x\" -> web\n"),
        "3:8: bad path prefix \"/a?x\": it starts with \"/\" and holds no spaces, \"?\" or "
        "\"#\" (at most 1024 bytes)");
  FAILS(WRAP("  http \"/\" host \"a b\" -> web\n"),
        "3:17: bad host \"a b\": use letters, digits, \".\" and \"-\", with an optional "
        "\":port\"");
  FAILS(WRAP("  http \"/\" host web\n"),
        "3:17: expected a host name in quotes, as in host \"example.com\", found \"web\"");
  FAILS(WRAP("  http \"/\" web\n"),
        "3:12: expected \"->\" and a service, as in http \"/\" -> web, found \"web\"");
  FAILS(WRAP("  http \"/\" -> Web\n"),
        "3:15: bad service name \"Web\": use lower-case letters, digits and \"-\", starting "
        "with a letter (at most 63)");
  FAILS(WRAP("  http \"/\" -> web.\n"), "3:19: expected a method name, found the end of the line");
  FAILS(WRAP("  http \"/\" -> web\n  http \"/\" -> web.other\n"),
        "4:8: http route \"/\" is declared twice (first at line 3)");
  /* the same prefix for two hosts, or a host and any host, is fine */
  struct sos_app *a = parse(WRAP("  http \"/\" -> web\n  http \"/\" host \"a\" -> web\n"
                                 "  http \"/\" host \"b\" -> web\n"));
  CHECK(a && a->nroutes == 3);
  sos_app_free(a);
}

TEST(lang_http_routes_resolve) {
  make_root();
  put("untyped/app.sos", "app u 1.0.0 {\n  module \"u.wasm\"\n  service web {}\n"
                         "  http \"/\" -> web.anything\n}\n");
  struct sos_app *a = load("untyped/app.sos");
  CHECK(a && a->nroutes == 1); /* an untyped service takes any method */
  sos_app_free(a);
  put("typed/app.sos", "app t 1.0.0 {\n  module \"t.wasm\"\n  import \"sos\"\n"
                       "  interface Web { page(HttpRequest) -> HttpResponse }\n"
                       "  service web implements Web {}\n  http \"/\" -> web.page\n}\n");
  a = load("typed/app.sos");
  CHECK(a != NULL);
  if (a) {
    const struct sos_app_struct *rq = sos_app_struct(a, "HttpRequest");
    CHECK(rq && strcmp(rq->package, "sos") == 0);
    CHECK(sos_app_struct(a, "HttpHeader") != NULL);
    CHECK(a->nstructs_own == 0); /* imported, not the app's own */
  }
  sos_app_free(a);
  put("nosvc/app.sos", "app n 1.0.0 {\n  module \"n.wasm\"\n  http \"/x\" -> web\n}\n");
  LOAD_FAILS("nosvc/app.sos",
             "@/nosvc/app.sos:3:8: http route \"/x\" goes to web, which is not a service of "
             "this app");
  put("nomethod/app.sos", "app n 1.0.0 {\n  module \"n.wasm\"\n  import \"sos\"\n"
                          "  interface Web { page(HttpRequest) -> HttpResponse }\n"
                          "  service web implements Web {}\n  http \"/\" -> web\n}\n");
  LOAD_FAILS("nomethod/app.sos",
             "@/nomethod/app.sos:6:8: http route \"/\" calls web.http, but interface Web has "
             "no method http");
  put("badtypes/app.sos", "app n 1.0.0 {\n  module \"n.wasm\"\n  import \"sos\"\n"
                          "  struct HttpReq {}\n"
                          "  interface Web { page(HttpReq) -> HttpResponse }\n"
                          "  service web implements Web {}\n  http \"/\" -> web.page\n}\n");
  LOAD_FAILS("badtypes/app.sos",
             "@/badtypes/app.sos:7:8: http route \"/\" calls web.page, which must take "
             "HttpRequest and return HttpResponse (import \"sos\" declares them)");
  /* a struct of the app's own named HttpRequest is not sos's */
  put("own/app.sos", "app n 1.0.0 {\n  module \"n.wasm\"\n"
                     "  struct HttpRequest {}\n  struct HttpResponse {}\n"
                     "  interface Web { page(HttpRequest) -> HttpResponse }\n"
                     "  service web implements Web {}\n  http \"/\" -> web.page\n}\n");
  LOAD_FAILS("own/app.sos",
             "@/own/app.sos:7:8: http route \"/\" calls web.page, which must take "
             "HttpRequest and return HttpResponse (import \"sos\" declares them)");
  /* and importing sos next to it clashes by name */
  put("clash/app.sos", "app n 1.0.0 {\n  module \"n.wasm\"\n  import \"sos\"\n"
                       "  struct Empty {}\n}\n");
  LOAD_FAILS("clash/app.sos",
             "@/clash/app.sos:3:10: Empty is declared by both n and the imported package "
             "sos; rename one");
  remove_root();
}

TEST(lang_http_routes_extend) {
  make_root();
  put("base/app.sos", "app b 1.0.0 {\n  module \"b.wasm\"\n  service web {}\n"
                      "  http \"/\" -> web\n  http \"/api/\" -> web.api\n}\n");
  put("ext/app.sos", "app e 1.0.0 extends \"../base/app.sos\" {\n"
                     "  http \"/api/\" -> web.api2\n  http \"/new\" -> web\n}\n");
  struct sos_app *a = load("ext/app.sos");
  CHECK(a != NULL);
  if (a) {
    CHECK_EQ(a->nroutes, 3);
    CHECK_STR(a->routes[0].prefix, "/");
    CHECK_STR(a->routes[1].method, "api2"); /* replaced in place */
    CHECK_STR(a->routes[2].prefix, "/new");
  }
  sos_app_free(a);
  /* import "sos" in a base stays SOS's package, not a path beside the base */
  put("wbase/app.sos", "app b 1.0.0 {\n  module \"b.wasm\"\n  import \"sos\"\n"
                       "  interface Web { page(HttpRequest) -> HttpResponse }\n"
                       "  service web implements Web {}\n  http \"/\" -> web.page\n}\n");
  put("wext/app.sos", "app e 1.0.0 extends \"../wbase/app.sos\" {\n  env X = \"1\"\n}\n");
  a = load("wext/app.sos");
  CHECK(a && sos_app_struct(a, "HttpRequest") != NULL);
  sos_app_free(a);
  remove_root();
}

TEST(lang_secret_and_egress) {
  struct sos_app *a = parse(WRAP("  secret SLACK_TOKEN, signing_secret\n"
                                 "  egress \"api.slack.com\",\n    \"http://127.0.0.1:9000\"\n"
                                 "  egress \"hooks.slack.com:443\"\n"));
  CHECK(a != NULL);
  if (!a) return;
  CHECK_EQ(a->nsecrets, 2);
  CHECK_STR(a->secrets[1], "signing_secret");
  CHECK_EQ(a->negress, 3);
  CHECK_STR(a->egress[1], "http://127.0.0.1:9000");
  char *text = print(a);
  CHECK(same_text(text, "app x 1.0.0 {\n  module \"x.wasm\"\n"
                        "  secret SLACK_TOKEN, signing_secret\n"
                        "  egress \"api.slack.com\", \"http://127.0.0.1:9000\", "
                        "\"hooks.slack.com:443\"\n}\n"));
  sos_free(text);
  sos_app_free(a);
  FAILS(WRAP("  secret A, A\n"), "3:13: \"A\" is listed twice in secret");
  FAILS(WRAP("  secret \"A\"\n"), "3:10: expected a secret name, found a string");
  FAILS(WRAP("  secret a-b\n"),
        "3:10: bad secret name \"a-b\": use letters, digits and \"_\", not starting with a "
        "digit (at most 63)");
  FAILS(WRAP("  egress api.slack.com\n"),
        "3:10: expected a host in quotes, such as \"api.slack.com\", found \"api\"");
  const char *bad = "bad egress host \"%s\": write a lower-case host name, optionally with "
                    ":PORT, or http://HOST[:PORT] to allow plain HTTP";
  const char *hosts[] = {"https://a.com/path", "A.com", "a.com:", "a.com:x", "ftp://a.com",
                         "a b", ":80", "a:1:2"};
  for (size_t i = 0; i < sizeof hosts / sizeof hosts[0]; i++) {
    char text2[200], want[300], msg[250];
    snprintf(text2, sizeof text2, WRAP("  egress \"%s\"\n"), hosts[i]);
    snprintf(msg, sizeof msg, bad, hosts[i]);
    snprintf(want, sizeof want, "3:10: %s", msg);
    FAILS(text2, want);
  }
  make_root();
  put("base/app.sos", "app b 1.0.0 {\n  module \"b.wasm\"\n  service b {}\n  secret A, B\n  egress \"a.com\"\n}\n");
  put("ext/app.sos", "app e 1.0.0 extends \"../base/app.sos\" {\n  secret B, C\n"
                     "  egress \"b.com\"\n}\n");
  a = load("ext/app.sos");
  CHECK(a && a->nsecrets == 3 && a->negress == 2);
  if (a) CHECK_STR(a->secrets[2], "C");
  sos_app_free(a);
  remove_root();
}
