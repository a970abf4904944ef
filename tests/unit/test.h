/*
 * test.h - the unit-test harness.
 *
 * TEST(name) { ... } defines a test that registers itself at start-up.
 * The runner (main.c) forks each test with a time limit, so a crash or a
 * hang fails that test alone, and prints "unit: N passed, N failed".
 * CHECK(cond) records a failure with file and line and carries on;
 * REQUIRE(cond) records it and ends the test.
 */
#ifndef SOS_TEST_H
#define SOS_TEST_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

struct sos_test {
  const char *name;
  void (*fn)(void);
  struct sos_test *next;
};

void sos_test_register(struct sos_test *t);
void sos_test_fail(const char *file, int line, const char *expr);
extern int sos_test_failures;

#define TEST(name)                                                            \
  static void test_##name(void);                                              \
  static struct sos_test test_rec_##name = {#name, test_##name, 0};           \
  __attribute__((constructor)) static void test_reg_##name(void) {            \
    sos_test_register(&test_rec_##name);                                      \
  }                                                                           \
  static void test_##name(void)

#define CHECK(c)                                                              \
  do {                                                                        \
    if (!(c)) sos_test_fail(__FILE__, __LINE__, #c);                          \
  } while (0)
#define REQUIRE(c)                                                            \
  do {                                                                        \
    if (!(c)) {                                                               \
      sos_test_fail(__FILE__, __LINE__, #c);                                  \
      return;                                                                 \
    }                                                                         \
  } while (0)
#define CHECK_EQ(a, b)                                                        \
  do {                                                                        \
    long long a_ = (long long)(a), b_ = (long long)(b);                       \
    if (a_ != b_) {                                                           \
      char m_[256];                                                           \
      snprintf(m_, sizeof m_, "%s == %s (%lld != %lld)", #a, #b, a_, b_);     \
      sos_test_fail(__FILE__, __LINE__, m_);                                  \
    }                                                                         \
  } while (0)
#define CHECK_STR(a, b)                                                       \
  do {                                                                        \
    const char *a_ = (a), *b_ = (b);                                          \
    if (!a_ || !b_ || strcmp(a_, b_) != 0) {                                  \
      char m_[512];                                                           \
      snprintf(m_, sizeof m_, "%s == \"%s\" (got \"%s\")", #a, b_ ? b_ : "",  \
               a_ ? a_ : "(null)");                                           \
      sos_test_fail(__FILE__, __LINE__, m_);                                  \
    }                                                                         \
  } while (0)

#endif
