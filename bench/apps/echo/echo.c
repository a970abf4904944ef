/* echo.c - the benchmark's callee: `ping` answers with the request. */
#include "sos.h"

static int ping(const struct sos_request *req) { return sos_respond(req->body, req->len); }

void sos_main(void) { sos_method("ping", ping); }
