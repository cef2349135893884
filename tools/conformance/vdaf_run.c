/*
 * `privagg conformance vdaf PATH...`: walks the paths, loads each JSON vector file,
 * names the algorithm by the file name's prefix before the first '_' and hands it
 * to the Prio3 replayer (vdaf_prio3.c) or the XOF known-answer check (vdaf_xof.c).
 * A file that cannot be run (unknown VDAF, missing field, bad JSON) is a FAIL with
 * the reason, never a skip; only XofFixedKeyAes128 (Poplar1 only) is skipped.
 * Also the shared hex and comparison helpers.
 */
#include <dirent.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sodium.h>
#include <string.h>
#include <sys/stat.h>

#include "conformance/vdaf_conformance.h"

int pa_vdaf_failf(pa_vdaf_result *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->msg, sizeof r->msg, fmt, ap);
    va_end(ap);
    return PA_VDAF_FAIL;
}

static void hex_into(char *dst, size_t cap, const uint8_t *p, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    size_t o = 0;
    for (size_t i = 0; i < n && o + 2 < cap; i++) {
        dst[o++] = digits[p[i] >> 4];
        dst[o++] = digits[p[i] & 15];
    }
    dst[o] = 0;
}

/* Up to `span` bytes of p starting at `from`, with "…" marks where cut, and the length. */
static void excerpt(char *dst, size_t cap, const uint8_t *p, size_t n, size_t from, size_t span)
{
    char hex[2 * 64 + 1];
    size_t end = from + span < n ? from + span : n;
    if (from > n)
        from = n;
    hex_into(hex, sizeof hex, p + from, end - from);
    if (n <= span)
        snprintf(dst, cap, "%s", n ? hex : "(empty)");
    else
        snprintf(dst, cap, "%s%s%s (%zu bytes)", from ? "…" : "", hex, end < n ? "…" : "", n);
}

int pa_vdaf_compare(pa_vdaf_result *r, const char *where, const uint8_t *expected,
                    size_t expected_len, const uint8_t *got, size_t got_len)
{
    char e[200], g[200];
    size_t first = 0, span = 24;
    if (expected_len == got_len && (expected_len == 0 || memcmp(expected, got, got_len) == 0))
        return PA_VDAF_PASS;
    while (first < expected_len && first < got_len && expected[first] == got[first])
        first++;
    size_t from = first > 4 ? first - 4 : 0;
    if (expected_len <= span && got_len <= span)
        from = 0;
    excerpt(e, sizeof e, expected, expected_len, from, span);
    excerpt(g, sizeof g, got, got_len, from, span);
    if (from)
        return pa_vdaf_failf(r, "%s: expected %s got %s (first difference at byte %zu)", where, e,
                             g, first);
    return pa_vdaf_failf(r, "%s: expected %s got %s", where, e, g);
}

int pa_vdaf_hex_value(pa_vdaf_result *r, json_t *val, const char *what, uint8_t **out,
                      size_t *len)
{
    *out = NULL;
    *len = 0;
    if (!json_is_string(val)) {
        pa_vdaf_failf(r, "field '%s' missing or not a hex string", what);
        return -1;
    }
    const char *s = json_string_value(val);
    size_t n = strlen(s);
    if (n % 2) {
        pa_vdaf_failf(r, "field '%s': odd-length hex", what);
        return -1;
    }
    uint8_t *b = malloc(n / 2 + 1);
    if (b == NULL) {
        pa_vdaf_failf(r, "out of memory");
        return -1;
    }
    size_t nBin = 0;
    if (sodium_hex2bin(b, n / 2, s, n, NULL, &nBin, NULL) != 0 || nBin != n / 2) {
        free(b);
        pa_vdaf_failf(r, "field '%s': bad hex digit", what);
        return -1;
    }
    *out = b;
    *len = nBin;
    return 0;
}

int pa_vdaf_hex_member(pa_vdaf_result *r, json_t *obj, const char *key, uint8_t **out,
                       size_t *len)
{
    return pa_vdaf_hex_value(r, json_object_get(obj, key), key, out, len);
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

int pa_vdaf_run_file(const char *path, FILE *out)
{
    pa_vdaf_result r;
    json_error_t err;
    char vdaf[128];
    const char *base = base_name(path);
    int status;

    r.msg[0] = 0;
    json_t *root = json_load_file(path, 0, &err);
    if (root == NULL) {
        fprintf(out, "FAIL %s: bad JSON: line %d: %s\n", path, err.line, err.text);
        return PA_VDAF_FAIL;
    }
    size_t n = strcspn(base, "_.");
    if (n >= sizeof vdaf)
        n = sizeof vdaf - 1;
    memcpy(vdaf, base, n);
    vdaf[n] = 0;

    if (strncmp(vdaf, "Xof", 3) == 0) {
        if (strcmp(vdaf, "XofFixedKeyAes128") == 0) {
            fprintf(out, "SKIP %s: Poplar1 only\n", path);
            json_decref(root);
            return PA_VDAF_SKIP;
        }
        status = pa_vdaf_run_xof(vdaf, root, &r);
    } else if (!json_is_object(root)) {
        status = pa_vdaf_failf(&r, "top level is not a JSON object");
    } else {
        status = pa_vdaf_run_prio3(vdaf, root, &r);
    }
    json_decref(root);
    if (status == PA_VDAF_PASS)
        fprintf(out, "PASS %s\n", path);
    else
        fprintf(out, "FAIL %s: %s\n", path, r.msg[0] ? r.msg : "unknown failure");
    fflush(out);
    return status;
}

static int ends_with_json(const char *name)
{
    size_t n = strlen(name);
    return n > 5 && strcmp(name + n - 5, ".json") == 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Run every *.json in dir, sorted by name.  Updates the worst status. */
static int run_dir(const char *dir, FILE *out, int *failed)
{
    DIR *d = opendir(dir);
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    if (d == NULL) {
        fprintf(out, "FAIL %s: cannot open folder\n", dir);
        *failed = 1;
        return 0;
    }
    while ((e = readdir(d)) != NULL) {
        if (!ends_with_json(e->d_name))
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 32;
            char **nn = realloc(names, cap * sizeof *nn);
            if (nn == NULL)
                break;
            names = nn;
        }
        size_t len = strlen(dir) + strlen(e->d_name) + 2;
        names[n] = malloc(len);
        if (names[n] == NULL)
            break;
        snprintf(names[n], len, "%s/%s", dir, e->d_name);
        n++;
    }
    closedir(d);
    if (n > 1) /* qsort(NULL, 0, ...) is undefined (UBSan: "null pointer passed as argument 1") */
        qsort(names, n, sizeof *names, cmp_str);
    for (size_t i = 0; i < n; i++) {
        if (pa_vdaf_run_file(names[i], out) == PA_VDAF_FAIL)
            *failed = 1;
        free(names[i]);
    }
    free(names);
    return (int)n;
}

int pa_conformance_vdaf_main(int argc, char **argv, FILE *out)
{
    int failed = 0, files = 0;
    if (argc < 1) {
        fprintf(stderr, "usage: privagg conformance vdaf PATH...\n"
                        "example: privagg conformance vdaf tests/vectors/vdaf\n");
        return 2;
    }
    for (int i = 0; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            fprintf(out, "FAIL %s: no such file or folder\n", argv[i]);
            failed = 1;
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            files += run_dir(argv[i], out, &failed);
        } else {
            files++;
            if (pa_vdaf_run_file(argv[i], out) == PA_VDAF_FAIL)
                failed = 1;
        }
    }
    if (files == 0) {
        fprintf(out, "FAIL: no vector files (*.json) found in the paths given\n");
        failed = 1;
    }
    return failed ? 1 : 0;
}
