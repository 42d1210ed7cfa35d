/*
 * The native baseline of bench/hashing/hamming.ts: exact Hamming top-k over 64-bit codes with
 * the hardware popcount (__builtin_popcountll, one POPCNT with -march=native), one thread, the
 * same algorithm as Lumen's kernel: every distance, the k nearest kept sorted by (distance,
 * position), a code entering only when nearer than the k-th (ties oldest first).
 *
 *   gcc -O3 -march=native -o hamming_scan hamming_scan.c
 *   ./hamming_scan DB_FILE QUERY_FILE K   (files of 8-byte codes) -> JSON on stdout
 *
 * The popcount of an XOR does not depend on byte order, so the codes are read as they lie.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t *read_codes(const char *path, size_t *count) {
  FILE *f = fopen(path, "rb");
  if (!f) { perror(path); exit(1); }
  fseek(f, 0, SEEK_END);
  long bytes = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint64_t *codes = aligned_alloc(64, ((size_t)bytes + 63) / 64 * 64);
  if (!codes || fread(codes, 1, (size_t)bytes, f) != (size_t)bytes) { fprintf(stderr, "cannot read %s\n", path); exit(1); }
  fclose(f);
  *count = (size_t)bytes / 8;
  return codes;
}

static void top_k(const uint64_t *db, size_t n, uint64_t q, int k, int32_t *index, int *distance) {
  int filled = 0;
  for (size_t i = 0; i < n; i++) {
    int d = __builtin_popcountll(db[i] ^ q);
    if (filled < k || d < distance[k - 1]) {
      int p = filled < k ? filled++ : k - 1;
      while (p > 0 && distance[p - 1] > d) {
        distance[p] = distance[p - 1];
        index[p] = index[p - 1];
        p--;
      }
      distance[p] = d;
      index[p] = (int32_t)i;
    }
  }
  for (int p = filled; p < k; p++) distance[p] = -1, index[p] = -1;
}

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

int main(int argc, char **argv) {
  if (argc != 4) { fprintf(stderr, "usage: %s DB_FILE QUERY_FILE K\n", argv[0]); return 2; }
  size_t n, nq;
  uint64_t *db = read_codes(argv[1], &n);
  uint64_t *queries = read_codes(argv[2], &nq);
  int k = atoi(argv[3]);
  int32_t *index = malloc(sizeof(int32_t) * k * nq);
  int *distance = malloc(sizeof(int) * k * nq);
  double ms = 0;
  /* A warm-up pass (page faults, caches), then the timed one. */
  for (int pass = 0; pass < 2; pass++) {
    double start = now_ms();
    for (size_t j = 0; j < nq; j++) top_k(db, n, queries[j], k, index + j * k, distance + j * k);
    ms = (now_ms() - start) / (double)nq;
  }
  printf("{\"msPerQuery\": %.6f, \"indices\": [", ms);
  for (size_t j = 0; j < nq; j++) {
    printf("%s[", j ? "," : "");
    for (int p = 0; p < k; p++) printf("%s%d", p ? "," : "", index[j * k + p]);
    printf("]");
  }
  printf("], \"distances\": [");
  for (size_t j = 0; j < nq; j++) {
    printf("%s[", j ? "," : "");
    for (int p = 0; p < k; p++) printf("%s%d", p ? "," : "", distance[j * k + p]);
    printf("]");
  }
  printf("]}\n");
  return 0;
}
