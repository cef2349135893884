/*
 * Fuzz target: the private and public key files and the leader/helper pairing
 * bundle (pa_keys_read_private, pa_keys_read_public, pa_pairing_read), read from
 * a file of mode 0600 as the CLI reads them.  Byte 0 picks the reader (0, 1, 2
 * modulo 3), the rest is the file.  Seeds: freshly generated files of every role.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz.h"
#include "privagg/common.h"
#include "privagg/keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *p, size_t n)
{
    if (n < 1 || n > (1u << 20) + 16)
        return 0;
    const char *zPath = pa_fuzz_file("k", p + 1, n - 1);
    int rc;
    switch (p[0] % 3) {
    case 0: {
        pa_keys k;
        rc = pa_keys_read_private(&k, zPath);
        if (rc == PA_OK)
            pa_keys_wipe(&k);
        break;
    }
    case 1: {
        pa_keys k;
        rc = pa_keys_read_public(&k, zPath);
        if (rc == PA_OK)
            pa_keys_wipe(&k);
        break;
    }
    default: {
        pa_pairing b;
        rc = pa_pairing_read(&b, zPath);
        if (rc == PA_OK)
            pa_pairing_wipe(&b);
        break;
    }
    }
    pa_fuzz_check(rc == PA_OK || rc < 0, "key_files: status");
    return 0;
}

/* zPath's bytes with the selector byte in front, as the seed zName. */
static void put_file(const char *zDir, const char *zName, uint8_t sel, const char *zPath)
{
    FILE *f = fopen(zPath, "rb");
    uint8_t a[1 << 16];
    size_t n;
    pa_fuzz_check(f != NULL, "key_files: seed file");
    a[0] = sel;
    n = fread(a + 1, 1, sizeof a - 1, f);
    fclose(f);
    pa_fuzz_put(zDir, zName, a, n + 1);
}

void pa_fuzz_seeds(const char *zDir)
{
    static const pa_role aRole[] = {PA_ROLE_AGENCY, PA_ROLE_LEADER, PA_ROLE_HELPER, PA_ROLE_COLLECTOR};
    char zPrefix[256], zPath[300], zName[64];
    for (size_t i = 0; i < sizeof aRole / sizeof aRole[0]; i++) {
        pa_keys k;
        snprintf(zPrefix, sizeof zPrefix, "%s/%s", pa_fuzz_dir(), pa_role_name(aRole[i]));
        pa_fuzz_check(pa_keys_generate(&k, aRole[i], "MO0010000", 1) == PA_OK, "key_files: generate");
        pa_fuzz_check(pa_keys_write(&k, zPrefix) == PA_OK, "key_files: write");
        snprintf(zPath, sizeof zPath, "%s.key", zPrefix);
        snprintf(zName, sizeof zName, "%s-key", pa_role_name(aRole[i]));
        put_file(zDir, zName, 0, zPath);
        snprintf(zPath, sizeof zPath, "%s.pub", zPrefix);
        snprintf(zName, sizeof zName, "%s-pub", pa_role_name(aRole[i]));
        put_file(zDir, zName, 1, zPath);
        if (aRole[i] == PA_ROLE_LEADER) {
            pa_pairing b;
            snprintf(zPath, sizeof zPath, "%s/pairing.json", pa_fuzz_dir());
            pa_fuzz_check(pa_pairing_from_leader(&b, &k) == PA_OK && pa_pairing_write(&b, zPath) == PA_OK,
                          "key_files: pairing");
            put_file(zDir, "pairing", 2, zPath);
        }
        pa_keys_wipe(&k);
    }
    /* an aggregator's key file during a rotation: a retiring key with an expiry
     * and a staged (new) one */
    pa_keys k;
    snprintf(zPrefix, sizeof zPrefix, "%s/staged", pa_fuzz_dir());
    pa_fuzz_check(pa_keys_generate(&k, PA_ROLE_HELPER, NULL, 2) == PA_OK && pa_keys_rotate(&k) == PA_OK &&
                      pa_keys_expire(&k, 2, 1797292800) == PA_OK && pa_keys_stage(&k) == PA_OK &&
                      pa_keys_write(&k, zPrefix) == PA_OK,
                  "key_files: a staged key");
    snprintf(zPath, sizeof zPath, "%s.key", zPrefix);
    put_file(zDir, "helper-staged-key", 0, zPath);
    pa_keys_wipe(&k);
}
