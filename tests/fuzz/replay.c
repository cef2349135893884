/*
 * The corpus replayer of the regular build: feeds every file of the folders
 * given (a target's committed corpus) to LLVMFuzzerTestOneInput, and then 64
 * deterministic mutations of each (bit flips, byte changes, truncations,
 * insertions), so CI exercises every decoder on hostile bytes without clang.
 * "--seeds DIR" writes the target's seeds instead.  Exit 0, or abort on a
 * finding (with the file named on stderr first).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz.h"

#define MUTATIONS 64

static uint32_t g_state = 2463534242u;

static uint32_t rnd(uint32_t n)
{
    g_state ^= g_state << 13;
    g_state ^= g_state >> 17;
    g_state ^= g_state << 5;
    return n ? g_state % n : 0;
}

static size_t mutate(const uint8_t *p, size_t n, uint8_t *q)
{
    size_t m = n, k = 1 + rnd(4);
    memcpy(q, p, n);
    for (size_t t = 0; t < k; t++) {
        size_t i = m ? rnd((uint32_t)m) : 0;
        switch (rnd(5)) {
        case 0: if (m) q[i] ^= (uint8_t)(1u << rnd(8)); break;
        case 1: if (m) q[i] = (uint8_t)rnd(256); break;
        case 2: m = i; break;
        case 3: memmove(q + i + 1, q + i, m - i); q[i] = (uint8_t)rnd(256); m++; break;
        default: if (m) { memmove(q + i, q + i + 1, m - i - 1); m--; } break;
        }
    }
    return m;
}

static size_t replay_file(const char *zPath)
{
    FILE *f = fopen(zPath, "rb");
    if (f == NULL) {
        fprintf(stderr, "replay: cannot open %s\n", zPath);
        exit(2);
    }
    uint8_t *p = malloc(1 << 24);
    size_t n = fread(p, 1, 1 << 24, f);
    fclose(f);
    uint8_t *q = malloc(n + 8);
    fprintf(stderr, "%s\n", zPath); /* named first, so a crash points at it */
    LLVMFuzzerTestOneInput(p, n);
    for (int i = 0; i < MUTATIONS; i++) {
        size_t m = mutate(p, n, q);
        /* a copy of exactly m bytes, so ASan sees a read past the end */
        uint8_t *c = malloc(m ? m : 1);
        memcpy(c, q, m);
        LLVMFuzzerTestOneInput(c, m);
        free(c);
    }
    free(q);
    free(p);
    return 1;
}

int main(int argc, char **argv)
{
    size_t nFiles = 0;
    if (argc == 3 && strcmp(argv[1], "--seeds") == 0) {
        pa_fuzz_seeds(argv[2]);
        return 0;
    }
    for (int i = 1; i < argc; i++) {
        DIR *d = opendir(argv[i]);
        if (d == NULL) {
            nFiles += replay_file(argv[i]);
            continue;
        }
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (e->d_name[0] == '.')
                continue;
            char zPath[4096];
            snprintf(zPath, sizeof zPath, "%s/%s", argv[i], e->d_name);
            nFiles += replay_file(zPath);
        }
        closedir(d);
    }
    printf("replayed %zu files and %zu mutations\n", nFiles, nFiles * MUTATIONS);
    if (nFiles == 0) {
        fprintf(stderr, "replay: no corpus file\n");
        return 1;
    }
    return 0;
}
