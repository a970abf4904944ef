/*
 * numbers.c - small typed methods that plans chain together:
 *
 *   next(Num) -> Num          n + 1, label "next"
 *   range(Count) -> NumList   0, 1, ... n - 1
 *   square(Wrap) -> Num       num.n squared
 *   fail(Num) -> Num          always the declared error refused
 *   slow(Num) -> Num          n + 1 after 20 ms, logging "slow N" first
 *
 * and, untyped, next_text: the same as next on decimal text ("41" -> "42"),
 * what a service without an interface would do (the benchmark compares).
 */
#include <stdlib.h>
#include "numbers.sos.h"
#include "sos.h"

int numbers_Numbers_next_serve(const numbers_Num *req, numbers_Num *resp, sos_arena *a) {
  (void)a;
  resp->n = req->n + 1;
  resp->label = SOS_TEXT("next");
  return 0;
}

int numbers_Numbers_range_serve(const numbers_Count *req, numbers_NumList *resp,
                                sos_arena *a) {
  if (req->n > 1000) return sos_wire_fail(numbers_Numbers_refused, "at most 1000");
  resp->items.items = sos_arena_alloc(a, (req->n ? req->n : 1) * sizeof(numbers_Num));
  if (!resp->items.items) return -SOS_STATUS_TOO_BIG;
  for (uint32_t i = 0; i < req->n; i++)
    resp->items.items[i] = (numbers_Num){.n = i, .label = SOS_TEXT("item")};
  resp->items.n = req->n;
  return 0;
}

int numbers_Numbers_square_serve(const numbers_Wrap *req, numbers_Num *resp, sos_arena *a) {
  (void)a;
  resp->n = req->num.n * req->num.n;
  return 0;
}

int numbers_Numbers_fail_serve(const numbers_Num *req, numbers_Num *resp, sos_arena *a) {
  (void)resp, (void)a;
  return sos_wire_fail(numbers_Numbers_refused, "refused %lld", (long long)req->n);
}

int numbers_Numbers_slow_serve(const numbers_Num *req, numbers_Num *resp, sos_arena *a) {
  sos_log(SOS_LOG_INFO, "slow %lld", (long long)req->n);
  sos_sleep_ms(20);
  return numbers_Numbers_next_serve(req, resp, a);
}

static int next_text(const struct sos_request *req) {
  return sos_respondf("%lld", atoll(req->body) + 1);
}

void sos_main(void) {
  numbers_Numbers_register();
  sos_method("next_text", next_text);
}
