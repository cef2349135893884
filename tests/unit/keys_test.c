/*
 * Tests of key files: generate, write, read back; private files are 0600, never
 * overwritten, refused when readable by others or when the secret does not match.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "privagg/common.h"
#include "privagg/keys.h"

static char g_dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof g_dir, "/tmp/pa_keys_test_XXXXXX");
    return mkdtemp(g_dir) ? 0 : -1;
}

static int teardown(void **state)
{
    char z[256];
    (void)state;
    snprintf(z, sizeof z, "rm -rf '%s'", g_dir);
    return system(z) == 0 ? 0 : -1;
}

static void path(char *z, size_t n, const char *zName)
{
    snprintf(z, n, "%s/%s", g_dir, zName);
}

static void test_round_trip_every_role(void **state)
{
    static const pa_role roles[] = {PA_ROLE_AGENCY, PA_ROLE_LEADER, PA_ROLE_HELPER, PA_ROLE_COLLECTOR};
    (void)state;
    for (size_t i = 0; i < 4; i++) {
        pa_keys k, r, p;
        char zPrefix[128], zFile[160];
        struct stat st;
        snprintf(zPrefix, sizeof zPrefix, "%s/%s", g_dir, pa_role_name(roles[i]));
        assert_int_equal(pa_keys_generate(&k, roles[i], "MO0010000", (uint8_t)i), PA_OK);
        assert_int_equal(pa_keys_write(&k, zPrefix), PA_OK);
        snprintf(zFile, sizeof zFile, "%s.key", zPrefix);
        assert_int_equal(stat(zFile, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);
        assert_int_equal(pa_keys_read_private(&r, zFile), PA_OK);
        assert_int_equal(r.eRole, roles[i]);
        assert_memory_equal(r.aPublic, k.aPublic, 32);
        assert_memory_equal(r.aSecret, k.aSecret, 64);
        assert_memory_equal(r.aVerifyKey, k.aVerifyKey, 32);
        snprintf(zFile, sizeof zFile, "%s.pub", zPrefix);
        assert_int_equal(pa_keys_read_public(&p, zFile), PA_OK);
        assert_memory_equal(p.aPublic, k.aPublic, 32);
        uint8_t zero[64] = {0};
        assert_memory_equal(p.aSecret, zero, 64);
        /* never overwritten */
        assert_int_equal(pa_keys_write(&k, zPrefix), PA_EEXISTS);
        pa_keys_wipe(&k);
        pa_keys_wipe(&r);
    }
}

static void test_private_file_checks(void **state)
{
    pa_keys k, r;
    char zPrefix[128], zFile[160];
    (void)state;
    path(zPrefix, sizeof zPrefix, "leader");
    assert_int_equal(pa_keys_generate(&k, PA_ROLE_LEADER, NULL, 1), PA_OK);
    assert_int_equal(pa_keys_write(&k, zPrefix), PA_OK);
    snprintf(zFile, sizeof zFile, "%s.key", zPrefix);
    assert_int_equal(chmod(zFile, 0644), 0);
    assert_int_equal(pa_keys_read_private(&r, zFile), PA_EAUTH);
    assert_non_null(strstr(pa_error_detail(), "mode 644"));
    /* a public file is not a private one */
    snprintf(zFile, sizeof zFile, "%s.pub", zPrefix);
    assert_int_equal(chmod(zFile, 0600), 0);
    assert_int_equal(pa_keys_read_private(&r, zFile), PA_EDECODE);
    assert_non_null(strstr(pa_error_detail(), "hpke_secret_key"));
    /* mismatched secret */
    path(zFile, sizeof zFile, "bad.key");
    FILE *f = fopen(zFile, "w");
    char zPk[65];
    sodium_bin2hex(zPk, sizeof zPk, k.aPublic, 32);
    fprintf(f, "{\"role\":\"collector\",\"hpke_config_id\":1,\"hpke_public_key\":\"%s\","
               "\"hpke_secret_key\":\"%064d\",\"bearer_token\":\"%064d\"}", zPk, 7, 9);
    fclose(f);
    assert_int_equal(chmod(zFile, 0600), 0);
    assert_int_equal(pa_keys_read_private(&r, zFile), PA_EDECODE);
    assert_non_null(strstr(pa_error_detail(), "does not match"));
    pa_keys_wipe(&k);
}

static void test_roles_and_sharing(void **state)
{
    pa_role e;
    pa_keys l, h;
    (void)state;
    assert_int_equal(pa_role_parse(&e, "helper"), PA_OK);
    assert_int_equal(e, PA_ROLE_HELPER);
    assert_int_equal(pa_role_parse(&e, "admin"), PA_EINVAL);
    assert_int_equal(pa_keys_generate(&l, PA_ROLE_AGENCY, "", 0), PA_EINVAL);
    assert_int_equal(pa_keys_generate(&l, PA_ROLE_LEADER, NULL, 1), PA_OK);
    assert_int_equal(pa_keys_generate(&h, PA_ROLE_HELPER, NULL, 2), PA_OK);
    assert_memory_not_equal(l.aVerifyKey, h.aVerifyKey, 32);
    pa_keys_share_aggregator_secrets(&h, &l);
    assert_memory_equal(l.aVerifyKey, h.aVerifyKey, 32);
    assert_memory_equal(l.aToken, h.aToken, 32);
    assert_memory_not_equal(l.aSecret, h.aSecret, 32);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip_every_role, setup, teardown),
        cmocka_unit_test_setup_teardown(test_private_file_checks, setup, teardown),
        cmocka_unit_test(test_roles_and_sharing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
