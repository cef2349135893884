/*
 * Installing the collector's new bearer token in a leader's config
 * (pa_node_config_add_collector_token, `privagg keygen --role leader --config
 * LEADER.json --add-token BUNDLE`; docs/keys.md, "Rotating the tokens"): the
 * new token becomes current, the old one expires at the time given, expired
 * ones are dropped, at most PA_KEYS_MAX_OLD are kept; the file is replaced
 * whole (0600, no temporary file left) and reads back as the node reads it.
 * A config of another role, one that others may read, a symbolic link, one the
 * node would refuse, or a token held already leave the file as it was.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "privagg/common.h"
#include "privagg/node.h"
#include "node/node_config.h"

#define NOW 1795000000

static char g_dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof g_dir, "/tmp/pa_ctok_test_XXXXXX");
    return mkdtemp(g_dir) ? 0 : -1;
}

static int teardown(void **state)
{
    char z[128];
    (void)state;
    snprintf(z, sizeof z, "rm -rf '%s'", g_dir);
    return system(z) == 0 ? 0 : -1;
}

/* A leader config with the collector's first token as "collector_token". */
static void write_config(const char *zPath, const char *zRole, unsigned mode)
{
    FILE *f;
    unlink(zPath);
    f = fopen(zPath, "w");
    assert_non_null(f);
    fprintf(f, "{\"role\": \"%s\", \"task\": \"task.json\", \"private_key\": \"keys/%s.key\", "
               "\"store\": \"%s.db\", \"listen\": {\"address\": \"127.0.0.1\", \"port\": 8441}, "
               "\"insecure_http\": true, \"log_file\": \"node.log\"%s%s}\n",
            zRole, zRole, zRole, strcmp(zRole, "leader") == 0 ? ", \"collector_token\": \"" : "",
            strcmp(zRole, "leader") == 0 ? "0101010101010101010101010101010101010101010101010101010101010101\"" : "");
    fclose(f);
    assert_int_equal(chmod(zPath, mode), 0);
}

static char *slurp(const char *zPath)
{
    FILE *f = fopen(zPath, "r");
    char *z = calloc(1, 1 << 16);
    assert_non_null(f);
    assert_non_null(z);
    size_t n = fread(z, 1, (1 << 16) - 1, f);
    (void)n;
    fclose(f);
    return z;
}

static void token(uint8_t a[32], int v)
{
    memset(a, v, 32);
}

static void test_install_rotate_and_drop(void **state)
{
    char zCfg[128], zCmd[256];
    uint8_t aTok[32];
    pa_collector_token_list l;
    pa_node_config c;
    struct stat st;
    (void)state;
    snprintf(zCfg, sizeof zCfg, "%s/leader.json", g_dir);
    write_config(zCfg, "leader", 0600);

    /* token 2 current, the first one (collector_token, id 1) until NOW + 86400 */
    token(aTok, 2);
    assert_int_equal(pa_node_config_add_collector_token(zCfg, 2, aTok, NOW + 86400, NOW, &l), PA_OK);
    assert_int_equal(l.n, 2);
    assert_int_equal(l.aId[0], 2);
    assert_int_equal(l.aNotAfter[0], 0);
    assert_int_equal(l.aId[1], 1);
    assert_int_equal(l.aNotAfter[1], NOW + 86400);
    assert_int_equal(l.nDropped, 0);
    assert_int_equal(stat(zCfg, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    /* as the node reads it, the other fields kept */
    assert_int_equal(pa_node_config_load(&c, zCfg), PA_OK);
    assert_false(c.bCollectorToken);
    assert_int_equal(c.nCollectorTokens, 2);
    assert_int_equal(c.aCollectorTokens[0].iId, 2);
    assert_memory_equal(c.aCollectorTokens[0].aToken, aTok, 32);
    assert_int_equal(c.aCollectorTokens[1].tNotAfter, NOW + 86400);
    assert_int_equal(c.nPort, 8441);
    assert_non_null(strstr(c.zLogFile, "node.log"));
    snprintf(zCmd, sizeof zCmd, "ls '%s' | grep -q tmp", g_dir);
    assert_int_not_equal(system(zCmd), 0);

    /* the same id, or the same token under another id: refused, file unchanged */
    char *zBefore = slurp(zCfg);
    assert_int_equal(pa_node_config_add_collector_token(zCfg, 2, aTok, 0, NOW, &l), PA_EEXISTS);
    assert_int_equal(pa_node_config_add_collector_token(zCfg, 7, aTok, 0, NOW, &l), PA_EEXISTS);
    assert_non_null(strstr(pa_error_detail(), "held already, as id 2"));
    char *zAfter = slurp(zCfg);
    assert_string_equal(zBefore, zAfter);
    free(zAfter);

    /* token 3 without an expiry for the older ones: they keep theirs */
    token(aTok, 3);
    assert_int_equal(pa_node_config_add_collector_token(zCfg, 3, aTok, 0, NOW, &l), PA_OK);
    assert_int_equal(l.n, 3);
    assert_int_equal(l.aId[1], 2);
    assert_int_equal(l.aNotAfter[1], 0);
    assert_int_equal(l.aNotAfter[2], NOW + 86400);
    /* a day later token 4: token 1 has expired and is dropped; the older ones
     * stop at NOW + 2 days at the latest */
    token(aTok, 4);
    assert_int_equal(pa_node_config_add_collector_token(zCfg, 4, aTok, NOW + 2 * 86400, NOW + 86400, &l), PA_OK);
    assert_int_equal(l.n, 3);
    assert_int_equal(l.nDropped, 1);
    assert_int_equal(l.aId[0], 4);
    assert_int_equal(l.aId[1], 3);
    assert_int_equal(l.aNotAfter[1], NOW + 2 * 86400);
    assert_int_equal(l.aId[2], 2);

    /* the limit: PA_KEYS_MAX_OLD tokens at most, the new one included */
    unsigned iId = 5;
    while (l.n < PA_KEYS_MAX_OLD) {
        token(aTok, (int)iId);
        assert_int_equal(pa_node_config_add_collector_token(zCfg, iId, aTok, 0, NOW, &l), PA_OK);
        iId++;
    }
    token(aTok, (int)iId);
    free(zBefore);
    zBefore = slurp(zCfg);
    assert_int_equal(pa_node_config_add_collector_token(zCfg, iId, aTok, 0, NOW, &l), PA_ERANGE);
    assert_non_null(strstr(pa_error_detail(), "--old-expires"));
    zAfter = slurp(zCfg);
    assert_string_equal(zBefore, zAfter);
    free(zAfter);
    /* an expiry already past drops every older token: a leaked one revoked */
    assert_int_equal(pa_node_config_add_collector_token(zCfg, iId, aTok, NOW, NOW, &l), PA_OK);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.nDropped, PA_KEYS_MAX_OLD);
    assert_int_equal(pa_node_config_load(&c, zCfg), PA_OK);
    assert_int_equal(c.nCollectorTokens, 1);
    free(zBefore);
}

static void test_refusals_leave_the_file(void **state)
{
    char zCfg[128], zLink[128];
    uint8_t aTok[32];
    pa_collector_token_list l;
    (void)state;
    token(aTok, 9);
    snprintf(zCfg, sizeof zCfg, "%s/helper.json", g_dir);
    /* the helper's config: the collector's token is not its to check */
    write_config(zCfg, "helper", 0600);
    assert_int_equal(pa_node_config_add_collector_token(zCfg, 2, aTok, 0, NOW, &l), PA_EINVAL);
    assert_non_null(strstr(pa_error_detail(), "a helper's config"));
    /* readable by others */
    snprintf(zCfg, sizeof zCfg, "%s/leader.json", g_dir);
    write_config(zCfg, "leader", 0644);
    assert_int_equal(pa_node_config_add_collector_token(zCfg, 2, aTok, 0, NOW, &l), PA_EAUTH);
    /* a symbolic link */
    assert_int_equal(chmod(zCfg, 0600), 0);
    snprintf(zLink, sizeof zLink, "%s/link.json", g_dir);
    assert_int_equal(symlink(zCfg, zLink), 0);
    assert_int_equal(pa_node_config_add_collector_token(zLink, 2, aTok, 0, NOW, &l), PA_EIO);
    assert_non_null(strstr(pa_error_detail(), "symbolic link"));
    /* a config the node would refuse is not rewritten */
    FILE *f = fopen(zCfg, "a");
    assert_non_null(f);
    fputs("{\"oops\": 1}\n", f);
    fclose(f);
    char *zBefore = slurp(zCfg);
    assert_int_not_equal(pa_node_config_add_collector_token(zCfg, 2, aTok, 0, NOW, &l), PA_OK);
    char *zAfter = slurp(zCfg);
    assert_string_equal(zBefore, zAfter);
    free(zBefore);
    free(zAfter);
    /* an id out of range */
    write_config(zCfg, "leader", 0600);
    assert_int_equal(pa_node_config_add_collector_token(zCfg, 0, aTok, 0, NOW, &l), PA_EINVAL);
    assert_int_equal(pa_node_config_add_collector_token(zCfg, 65536, aTok, 0, NOW, &l), PA_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_install_rotate_and_drop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refusals_leave_the_file, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
