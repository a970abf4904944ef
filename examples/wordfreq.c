/*
 * wordfreq.c - the most frequent words on stdin, with a bar chart.
 *
 * Run:  build/sos wasm run build/examples/wordfreq.wasm [TOP] < some.txt
 * Reads stdin through WASI's fd_read, counts words (letters and
 * apostrophes, case-folded) in a growing open-addressing hash table, and
 * prints the TOP (default 10) most frequent.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct entry {
  char *word;
  long count;
};

static struct entry *table;
static size_t cap = 1024, used;

static size_t hash(const char *s) {
  size_t h = 2166136261u;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 16777619u;
  return h;
}

static struct entry *slot(struct entry *t, size_t n, const char *w) {
  size_t i = hash(w) & (n - 1);
  while (t[i].word && strcmp(t[i].word, w) != 0) i = (i + 1) & (n - 1);
  return &t[i];
}

static void grow(void) {
  struct entry *bigger = calloc(cap * 2, sizeof *bigger);
  if (!bigger) {
    fprintf(stderr, "wordfreq: out of memory\n");
    exit(1);
  }
  for (size_t i = 0; i < cap; i++)
    if (table[i].word) *slot(bigger, cap * 2, table[i].word) = table[i];
  free(table);
  table = bigger;
  cap *= 2;
}

static void add(const char *w) {
  struct entry *e = slot(table, cap, w);
  if (!e->word) {
    e->word = strdup(w);
    used++;
  }
  e->count++;
  if (used * 2 > cap) grow();
}

static int by_count(const void *a, const void *b) {
  const struct entry *x = a, *y = b;
  if (x->count != y->count) return x->count < y->count ? 1 : -1;
  return strcmp(x->word, y->word);
}

int main(int argc, char **argv) {
  int top = argc > 1 ? atoi(argv[1]) : 10;
  char word[64];
  size_t len = 0;
  long total = 0;
  int c;
  table = calloc(cap, sizeof *table);
  if (!table) return 1;
  do {
    c = getchar();
    if (c != EOF && (isalpha(c) || (c == '\'' && len > 0))) {
      if (len < sizeof word - 1) word[len++] = (char)tolower(c);
    } else if (len > 0) {
      word[len] = '\0';
      add(word);
      total++;
      len = 0;
    }
  } while (c != EOF);

  size_t n = 0;
  for (size_t i = 0; i < cap; i++)
    if (table[i].word) table[n++] = table[i];
  qsort(table, n, sizeof *table, by_count);
  printf("%ld words, %zu different; the %d most frequent:\n", total, n, top);
  for (size_t i = 0; i < n && (int)i < top; i++) {
    int bar = (int)(40 * table[i].count / table[0].count);
    printf("  %-14s %6ld  %.*s\n", table[i].word, table[i].count, bar,
           "########################################");
  }
  return 0;
}
