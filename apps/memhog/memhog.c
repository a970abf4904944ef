/*
 * memhog.c - the memory limit, seen from inside.
 *
 *   grow  -> how many 1 MiB chunks malloc gave before it returned NULL,
 *            decimal (15 under `memory 16MiB`)
 *
 * Each chunk is written every 4 KiB so the memory is really used.  When
 * the instance's linear memory reaches its `memory` limit, memory.grow
 * fails, so malloc returns NULL: the program sees an ordinary
 * out-of-memory error, not a trap.  The chunks are freed before the
 * answer, so the next request can grow again into the same memory.
 */
#include <stdlib.h>
#include <string.h>

#include "sos.h"

#define CHUNK (1u << 20)
#define PAGE 4096u

/* A chunk starts with the link to the one before it. */
struct chunk {
  struct chunk *prev;
};

static int grow(const struct sos_request *req) {
  (void)req;
  struct chunk *top = NULL;
  unsigned n = 0;
  for (;;) {
    unsigned char *p = malloc(CHUNK);
    if (!p) break;
    for (size_t i = 0; i < CHUNK; i += PAGE) p[i] = (unsigned char)(n + 1);
    struct chunk *c = (struct chunk *)p;
    c->prev = top;
    top = c;
    n++;
  }
  while (top) {
    struct chunk *prev = top->prev;
    free(top);
    top = prev;
  }
  return sos_respondf("%u", n);
}

void sos_main(void) { sos_method("grow", grow); }
