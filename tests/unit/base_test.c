/* base_test.c - errors and the allocator's fault injection. */
#include "sos/base.h"
#include "test.h"

TEST(base_strerror_names_every_code) {
  CHECK_STR(sos_strerror(0), "success");
  CHECK_STR(sos_strerror(SOS_ENOMEM), "out of memory");
  CHECK_STR(sos_err_name(SOS_EMALFORMED), "SOS_EMALFORMED");
  CHECK_STR(sos_strerror(-9999), "unknown error");
}

TEST(base_alloc_fails_at_nth) {
  sos_alloc_fail_at(3);
  void *a = sos_malloc(8), *b = sos_malloc(8), *c = sos_malloc(8);
  CHECK(a != NULL);
  CHECK(b != NULL);
  CHECK(c == NULL);
  sos_alloc_fail_at(0);
  void *d = sos_malloc(8);
  CHECK(d != NULL);
  sos_free(a);
  sos_free(b);
  sos_free(d);
}
