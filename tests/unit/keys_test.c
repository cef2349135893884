/*
 * Tests of key files and the pairing bundle: generate, write, read back; private
 * files are 0600, never overwritten, opened without following a symbolic link,
 * refused when readable by others or when the secret does not match; a public
 * file given for a private one is named as such; the bundle holds the verify key
 * and the peer token and nothing else, and the helper's side of pairing never
 * needs the leader's key file.  A jansson allocator hook checks that no freed
 * block still holds a secret's hex after a key file was written or read.
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
#include <jansson.h>
#include <malloc.h>
#include <sodium.h>
#include <valgrind/memcheck.h>

#include "privagg/common.h"
#include "privagg/keys.h"

static char g_dir[64];

/* jansson's frees, scanned for a secret's hex (g_zNeedle) before the block goes */
static char g_zNeedle[129];
static int g_nLeft;

static void *hook_malloc(size_t n)
{
    return malloc(n);
}

static void hook_free(void *p)
{
    if (p != NULL && g_zNeedle[0] != '\0') {
        size_t n = malloc_usable_size(p), nNeedle = strlen(g_zNeedle);
        /* the slack past the requested size was never written: under valgrind
         * (scripts/memcheck) it would read as uninitialised; scanned all the same */
        VALGRIND_MAKE_MEM_DEFINED(p, n);
        for (size_t i = 0; i + nNeedle <= n; i++)
            if (memcmp((char *)p + i, g_zNeedle, nNeedle) == 0) {
                g_nLeft++;
                break;
            }
    }
    free(p);
}

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

/* A private key file altered by a test (o, consumed: wiped and freed) is
 * written as bad.key (0600) and refused on reading, its detail naming zWant. */
static void expect_refused_key_file(json_t *o, const char *zWant)
{
    pa_keys r;
    char zBad[160];
    path(zBad, sizeof zBad, "bad.key");
    unlink(zBad);
    assert_int_equal(json_dump_file(o, zBad, 0), 0);
    assert_int_equal(chmod(zBad, 0600), 0);
    pa_keys_json_wipe(o);
    json_decref(o);
    assert_int_equal(pa_keys_read_private(&r, zBad), PA_EDECODE);
    assert_non_null(strstr(pa_error_detail(), zWant));
    pa_keys_wipe(&r);
}

static void test_round_trip_every_role(void **state)
{
    static const pa_role roles[] = {PA_ROLE_AGENCY, PA_ROLE_LEADER, PA_ROLE_HELPER, PA_ROLE_COLLECTOR,
                                    PA_ROLE_REGISTRY};
    (void)state;
    for (size_t i = 0; i < 5; i++) {
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
    /* any one permission bit for the group or for others is refused */
    static const mode_t aMode[] = {0604, 0602, 0601, 0640, 0620, 0610};
    for (size_t i = 0; i < sizeof aMode / sizeof aMode[0]; i++) {
        assert_int_equal(chmod(zFile, aMode[i]), 0);
        if (pa_keys_read_private(&r, zFile) != PA_EAUTH)
            fail_msg("a key file of mode %03o was read", (unsigned)aMode[i]);
    }
    /* another user's file, even at 0600 (only root can make one to test with) */
    assert_int_equal(chmod(zFile, 0600), 0);
    if (geteuid() == 0) {
        assert_int_equal(chown(zFile, 1, 1), 0);
        assert_int_equal(pa_keys_read_private(&r, zFile), PA_EAUTH);
        assert_non_null(strstr(pa_error_detail(), "owned by uid 1"));
        assert_int_equal(chown(zFile, 0, 0), 0);
    }
    assert_int_equal(pa_keys_read_private(&r, zFile), PA_OK);
    pa_keys_wipe(&r);
    /* a public file is not a private one */
    snprintf(zFile, sizeof zFile, "%s.pub", zPrefix);
    assert_int_equal(chmod(zFile, 0600), 0);
    assert_int_equal(pa_keys_read_private(&r, zFile), PA_EDECODE);
    assert_non_null(strstr(pa_error_detail(), "hpke_secret_key"));
    assert_non_null(strstr(pa_error_detail(), "a public key file"));
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

static void test_roles(void **state)
{
    pa_role e;
    pa_keys l;
    (void)state;
    assert_int_equal(pa_role_parse(&e, "helper"), PA_OK);
    assert_int_equal(e, PA_ROLE_HELPER);
    assert_int_equal(pa_role_parse(&e, "admin"), PA_EINVAL);
    /* the registry's signing key: Ed25519, no id, a secret that signs */
    assert_int_equal(pa_role_parse(&e, "registry"), PA_OK);
    assert_int_equal(e, PA_ROLE_REGISTRY);
    assert_int_equal(pa_keys_generate(&l, PA_ROLE_REGISTRY, NULL, 0), PA_OK);
    uint8_t aSig[64], aDerived[32];
    crypto_sign_detached(aSig, NULL, (const uint8_t *)"x", 1, l.aSecret);
    assert_int_equal(crypto_sign_verify_detached(aSig, (const uint8_t *)"x", 1, l.aPublic), 0);
    crypto_sign_ed25519_sk_to_pk(aDerived, l.aSecret);
    assert_memory_equal(aDerived, l.aPublic, 32);
    pa_keys_wipe(&l);
    assert_int_equal(pa_keys_generate(&l, PA_ROLE_AGENCY, "", 0), PA_EINVAL);
}

/* Read a whole small file into z (NUL-terminated). */
static void slurp(const char *zPath, char *z, size_t n)
{
    FILE *f = fopen(zPath, "r");
    assert_non_null(f);
    size_t k = fread(z, 1, n - 1, f);
    z[k] = '\0';
    fclose(f);
}

/* The bundle holds the verify key and the peer token, nothing else; the helper
 * pairs from it alone (the leader's key file is gone when it does); both sides
 * end with the same verify key and token and their own HPKE keys. */
static void test_pairing_bundle(void **state)
{
    pa_keys l, h, r;
    pa_pairing p, q;
    char zBundle[128], zPrefix[128], zFile[160], zText[4096], zHex[129];
    struct stat st;
    json_t *o;
    json_error_t err;
    (void)state;
    path(zBundle, sizeof zBundle, "pair.json");
    path(zPrefix, sizeof zPrefix, "leader");
    assert_int_equal(pa_keys_generate(&l, PA_ROLE_LEADER, NULL, 1), PA_OK);
    assert_int_equal(pa_pairing_from_leader(&p, &l), PA_OK);
    assert_int_equal(pa_pairing_write(&p, zBundle), PA_OK);
    assert_int_equal(pa_pairing_write(&p, zBundle), PA_EEXISTS);
    assert_int_equal(pa_keys_write(&l, zPrefix), PA_OK);
    assert_int_equal(stat(zBundle, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    /* exactly three fields; no byte of the leader's HPKE secret, in any spelling */
    o = json_load_file(zBundle, 0, &err);
    assert_non_null(o);
    assert_int_equal(json_object_size(o), 3);
    assert_string_equal(json_string_value(json_object_get(o, "format")), "privagg-pairing-1");
    assert_non_null(json_object_get(o, "verify_key"));
    assert_non_null(json_object_get(o, "peer_token"));
    json_decref(o);
    slurp(zBundle, zText, sizeof zText);
    sodium_bin2hex(zHex, sizeof zHex, l.aSecret, 32);
    assert_null(strstr(zText, zHex));
    assert_null(strstr(zText, "secret"));
    /* the helper's side: the leader's key file is not there to be read */
    snprintf(zFile, sizeof zFile, "%s.key", zPrefix);
    assert_int_equal(unlink(zFile), 0);
    assert_int_equal(pa_pairing_read(&q, zBundle), PA_OK);
    assert_int_equal(pa_keys_generate(&h, PA_ROLE_HELPER, NULL, 2), PA_OK);
    assert_memory_not_equal(l.aVerifyKey, h.aVerifyKey, 32);
    assert_int_equal(pa_pairing_apply(&h, &q), PA_OK);
    path(zPrefix, sizeof zPrefix, "helper");
    assert_int_equal(pa_keys_write(&h, zPrefix), PA_OK);
    snprintf(zFile, sizeof zFile, "%s.key", zPrefix);
    assert_int_equal(pa_keys_read_private(&r, zFile), PA_OK);
    assert_memory_equal(r.aVerifyKey, l.aVerifyKey, 32);
    assert_memory_equal(r.aToken, l.aToken, 32);
    assert_memory_not_equal(r.aSecret, l.aSecret, 32);
    /* roles: only the leader's keys make a bundle, only the helper's take one */
    assert_int_equal(pa_pairing_from_leader(&q, &h), PA_EINVAL);
    assert_int_equal(pa_pairing_apply(&l, &p), PA_EINVAL);
    pa_pairing_wipe(&p);
    pa_pairing_wipe(&q);
    pa_keys_wipe(&l);
    pa_keys_wipe(&h);
    pa_keys_wipe(&r);
}

static void write_text(const char *zPath, const char *zText, mode_t mode)
{
    FILE *f = fopen(zPath, "w");
    assert_non_null(f);
    fputs(zText, f);
    fclose(f);
    assert_int_equal(chmod(zPath, mode), 0);
}

static void test_pairing_refusals(void **state)
{
    pa_keys l;
    pa_pairing p;
    char zBundle[128], zLink[128], zPrefix[128], zFile[160], zText[512];
    (void)state;
    path(zBundle, sizeof zBundle, "pair.json");
    path(zPrefix, sizeof zPrefix, "leader");
    assert_int_equal(pa_keys_generate(&l, PA_ROLE_LEADER, NULL, 1), PA_OK);
    assert_int_equal(pa_pairing_from_leader(&p, &l), PA_OK);
    assert_int_equal(pa_pairing_write(&p, zBundle), PA_OK);
    assert_int_equal(pa_keys_write(&l, zPrefix), PA_OK);
    /* the leader's key file given as a bundle: refused, not read for its secrets */
    snprintf(zFile, sizeof zFile, "%s.key", zPrefix);
    assert_int_equal(pa_pairing_read(&p, zFile), PA_EINVAL);
    assert_non_null(strstr(pa_error_detail(), "a key file, not a pairing bundle"));
    /* others may read it */
    assert_int_equal(chmod(zBundle, 0640), 0);
    assert_int_equal(pa_pairing_read(&p, zBundle), PA_EAUTH);
    assert_non_null(strstr(pa_error_detail(), "mode 640"));
    assert_int_equal(chmod(zBundle, 0600), 0);
    /* a symbolic link to it */
    path(zLink, sizeof zLink, "link.json");
    assert_int_equal(symlink(zBundle, zLink), 0);
    assert_int_equal(pa_pairing_read(&p, zLink), PA_EIO);
    assert_non_null(strstr(pa_error_detail(), "symbolic link"));
    /* a field more */
    path(zFile, sizeof zFile, "extra.json");
    snprintf(zText, sizeof zText, "{\"format\":\"privagg-pairing-1\",\"verify_key\":\"%064d\","
             "\"peer_token\":\"%064d\",\"note\":\"x\"}", 1, 2);
    write_text(zFile, zText, 0600);
    assert_int_equal(pa_pairing_read(&p, zFile), PA_EDECODE);
    assert_non_null(strstr(pa_error_detail(), "note"));
    /* a wrong format */
    path(zFile, sizeof zFile, "format.json");
    snprintf(zText, sizeof zText, "{\"format\":\"privagg-pairing-9\",\"verify_key\":\"%064d\","
             "\"peer_token\":\"%064d\"}", 1, 2);
    write_text(zFile, zText, 0600);
    assert_int_equal(pa_pairing_read(&p, zFile), PA_EDECODE);
    assert_non_null(strstr(pa_error_detail(), "format"));
    pa_keys_wipe(&l);
}

/* Key files are opened without following links, and the public file given where
 * the private one belongs is named as a public file (not as a private key that
 * others may read), with the private file to use. */
static void test_key_file_open(void **state)
{
    pa_keys k, r;
    char zPrefix[128], zFile[160], zLink[160];
    (void)state;
    path(zPrefix, sizeof zPrefix, "agency");
    assert_int_equal(pa_keys_generate(&k, PA_ROLE_AGENCY, "MO0010000", 0), PA_OK);
    assert_int_equal(pa_keys_write(&k, zPrefix), PA_OK);
    snprintf(zFile, sizeof zFile, "%s.key", zPrefix);
    path(zLink, sizeof zLink, "link.key");
    assert_int_equal(symlink(zFile, zLink), 0);
    assert_int_equal(pa_keys_read_private(&r, zLink), PA_EIO);
    assert_non_null(strstr(pa_error_detail(), "symbolic link"));
    assert_int_equal(pa_keys_read_public(&r, zLink), PA_EIO);
    /* a folder is not a key file */
    assert_int_equal(pa_keys_read_private(&r, g_dir), PA_EIO);
    assert_non_null(strstr(pa_error_detail(), "not a regular file"));
    /* the .pub (mode 0644) for --key */
    snprintf(zFile, sizeof zFile, "%s.pub", zPrefix);
    assert_int_equal(pa_keys_read_private(&r, zFile), PA_EDECODE);
    assert_non_null(strstr(pa_error_detail(), "a public key file"));
    assert_non_null(strstr(pa_error_detail(), "agency.key"));
    assert_null(strstr(pa_error_detail(), "lets others read"));
    pa_keys_wipe(&k);
}

/* a key file rewritten with one member changed (NULL value: removed), mode 0600 */
static void rewrite_key(const char *zFrom, const char *zTo, const char *zKey, const char *zValue)
{
    json_t *o = json_load_file(zFrom, 0, NULL);
    FILE *f;
    assert_non_null(o);
    if (zValue == NULL)
        json_object_del(o, zKey);
    else
        json_object_set_new(o, zKey, json_string(zValue));
    unlink(zTo);
    f = fopen(zTo, "w");
    assert_non_null(f);
    assert_int_equal(fchmod(fileno(f), 0600), 0);
    assert_int_equal(json_dumpf(o, f, 0), 0);
    assert_int_equal(fclose(f), 0);
    json_decref(o);
}

static void expect_key_error(const char *zFile, int bPrivate, int code, const char *zFragment)
{
    pa_keys r;
    int rc = bPrivate ? pa_keys_read_private(&r, zFile) : pa_keys_read_public(&r, zFile);
    if (rc != code || strstr(pa_error_detail(), zFragment) == NULL)
        fail_msg("%s: got %d \"%s\", expected %d mentioning \"%s\"", zFile, rc, rc ? pa_error_detail() : "", code,
                 zFragment);
    if (rc == PA_OK)
        pa_keys_wipe(&r);
}

/* The collector's manifest signing key (Ed25519): generated, written (public half
 * in .pub, secret only in .key), read back; optional for files written before it
 * existed; refused when half of it is there, when the halves do not match, or
 * when it is not hex.  Only the collector has one. */
static void test_collector_signing_key(void **state)
{
    pa_keys k, r, p;
    char zPrefix[128], zKey[160], zPub[160], zBad[160], zHex[129];
    uint8_t zero[64] = {0}, aDerived[32], aOtherPk[32], aOtherSk[64];
    (void)state;
    path(zPrefix, sizeof zPrefix, "collector");
    assert_int_equal(pa_keys_generate(&k, PA_ROLE_COLLECTOR, NULL, 7), PA_OK);
    assert_int_equal(k.bSign, 1);
    crypto_sign_ed25519_sk_to_pk(aDerived, k.aSignSecret);
    assert_memory_equal(aDerived, k.aSignPublic, 32);
    assert_memory_not_equal(k.aSignPublic, k.aPublic, 32);
    assert_int_equal(pa_keys_write(&k, zPrefix), PA_OK);
    snprintf(zKey, sizeof zKey, "%s.key", zPrefix);
    snprintf(zPub, sizeof zPub, "%s.pub", zPrefix);
    assert_int_equal(pa_keys_read_private(&r, zKey), PA_OK);
    assert_int_equal(r.bSign, 1);
    assert_memory_equal(r.aSignPublic, k.aSignPublic, 32);
    assert_memory_equal(r.aSignSecret, k.aSignSecret, 64);
    assert_int_equal(pa_keys_read_public(&p, zPub), PA_OK);
    assert_int_equal(p.bSign, 1);
    assert_memory_equal(p.aSignPublic, k.aSignPublic, 32);
    assert_memory_equal(p.aSignSecret, zero, 64);
    /* the public file holds no secret half */
    json_t *o = json_load_file(zPub, 0, NULL);
    assert_non_null(json_object_get(o, "signing_public_key"));
    assert_null(json_object_get(o, "signing_secret_key"));
    json_decref(o);
    /* wiped */
    pa_keys_wipe(&r);
    assert_memory_equal(r.aSignSecret, zero, 64);

    /* a collector file from before signing keys: reads, without one */
    path(zBad, sizeof zBad, "old.key");
    rewrite_key(zKey, zBad, "signing_public_key", NULL);
    rewrite_key(zBad, zBad, "signing_secret_key", NULL);
    assert_int_equal(pa_keys_read_private(&r, zBad), PA_OK);
    assert_int_equal(r.bSign, 0);
    assert_memory_equal(r.aSignSecret, zero, 64);
    pa_keys_wipe(&r);
    /* half of it */
    rewrite_key(zKey, zBad, "signing_public_key", NULL);
    expect_key_error(zBad, 1, PA_EDECODE, "signing_secret_key without signing_public_key");
    rewrite_key(zKey, zBad, "signing_secret_key", NULL);
    expect_key_error(zBad, 1, PA_EDECODE, "signing_secret_key");
    /* halves that do not match: another key pair's public half */
    crypto_sign_keypair(aOtherPk, aOtherSk);
    sodium_bin2hex(zHex, sizeof zHex, aOtherPk, 32);
    rewrite_key(zKey, zBad, "signing_public_key", zHex);
    expect_key_error(zBad, 1, PA_EDECODE, "signing_secret_key does not match signing_public_key");
    /* not hex, or the wrong length */
    rewrite_key(zKey, zBad, "signing_public_key", "zz");
    expect_key_error(zBad, 1, PA_EDECODE, "signing_public_key");
    path(zBad, sizeof zBad, "bad.pub");
    rewrite_key(zPub, zBad, "signing_public_key", "00ff");
    expect_key_error(zBad, 0, PA_EDECODE, "signing_public_key");
    sodium_memzero(aOtherSk, sizeof aOtherSk);

    /* the leader and the helper sign their HPKE configuration (hpke_config.h) */
    static const pa_role aggs[] = {PA_ROLE_LEADER, PA_ROLE_HELPER};
    for (size_t i = 0; i < 2; i++) {
        pa_keys a, b;
        char zP[128], zF[160];
        snprintf(zP, sizeof zP, "%s/sign_%s", g_dir, pa_role_name(aggs[i]));
        assert_int_equal(pa_keys_generate(&a, aggs[i], NULL, 1), PA_OK);
        assert_int_equal(a.bSign, 1);
        assert_int_equal(pa_keys_write(&a, zP), PA_OK);
        snprintf(zF, sizeof zF, "%s.key", zP);
        assert_int_equal(pa_keys_read_private(&b, zF), PA_OK);
        assert_int_equal(b.bSign, 1);
        assert_memory_equal(b.aSignSecret, a.aSignSecret, 64);
        pa_keys_wipe(&a);
        pa_keys_wipe(&b);
    }
    /* an agency's key is itself its signing key: no second one */
    static const pa_role roles[] = {PA_ROLE_AGENCY};
    for (size_t i = 0; i < 1; i++) {
        pa_keys a;
        char zP[128], zF[160];
        snprintf(zP, sizeof zP, "%s/nosign_%s", g_dir, pa_role_name(roles[i]));
        assert_int_equal(pa_keys_generate(&a, roles[i], "MO0010000", 1), PA_OK);
        assert_int_equal(a.bSign, 0);
        assert_int_equal(pa_keys_write(&a, zP), PA_OK);
        snprintf(zF, sizeof zF, "%s.pub", zP);
        o = json_load_file(zF, 0, NULL);
        assert_null(json_object_get(o, "signing_public_key"));
        json_decref(o);
        pa_keys_wipe(&a);
    }
    pa_keys_wipe(&k);
    pa_keys_wipe(&p);
}

/* No block jansson frees still holds a secret's hex: the encoded text, the file
 * text and the JSON strings are wiped on write and on read. */
static void test_secret_strings_wiped(void **state)
{
    static const pa_role roles[] = {PA_ROLE_COLLECTOR, PA_ROLE_AGENCY};
    (void)state;
    for (size_t i = 0; i < 2; i++) {
        pa_keys k, r;
        char zPrefix[128], zFile[160];
        snprintf(zPrefix, sizeof zPrefix, "%s/wipe_%s", g_dir, pa_role_name(roles[i]));
        assert_int_equal(pa_keys_generate(&k, roles[i], "MO0010000", 3), PA_OK);
        sodium_bin2hex(g_zNeedle, sizeof g_zNeedle, k.aSecret, roles[i] == PA_ROLE_AGENCY ? 64 : 32);
        g_nLeft = 0;
        assert_int_equal(pa_keys_write(&k, zPrefix), PA_OK);
        assert_int_equal(g_nLeft, 0);
        snprintf(zFile, sizeof zFile, "%s.key", zPrefix);
        assert_int_equal(pa_keys_read_private(&r, zFile), PA_OK);
        assert_int_equal(g_nLeft, 0);
        if (roles[i] == PA_ROLE_COLLECTOR) {
            /* the manifest signing secret too */
            sodium_bin2hex(g_zNeedle, sizeof g_zNeedle, k.aSignSecret, 64);
            pa_keys_wipe(&r);
            assert_int_equal(pa_keys_read_private(&r, zFile), PA_OK);
            assert_int_equal(g_nLeft, 0);
        }
        g_zNeedle[0] = '\0';
        assert_memory_equal(r.aSecret, k.aSecret, 32);
        pa_keys_wipe(&k);
        pa_keys_wipe(&r);
    }
    /* and the hook sees an unwiped one */
    json_t *o = json_pack("{s:s}", "secret_key", "00112233445566778899aabbccddeeff");
    snprintf(g_zNeedle, sizeof g_zNeedle, "00112233445566778899aabbccddeeff");
    g_nLeft = 0;
    json_decref(o);
    assert_int_equal(g_nLeft, 1);
    o = json_pack("{s:s}", "secret_key", "00112233445566778899aabbccddeeff");
    g_nLeft = 0;
    pa_keys_json_wipe(o);
    json_decref(o);
    assert_int_equal(g_nLeft, 0);
    g_zNeedle[0] = '\0';
}

/* Rotation in the file: pa_keys_replace keeps the file 0600, the older key stays
 * (with its secret) in previous_hpke_keys, the public file names the current key;
 * no freed block holds the old secret's hex; a bad older key is refused. */
static void test_rotation_file(void **state)
{
    pa_keys k, r, p;
    char zPrefix[128], zFile[160], zOldHex[65];
    struct stat st;
    (void)state;
    path(zPrefix, sizeof zPrefix, "helper");
    assert_int_equal(pa_keys_generate(&k, PA_ROLE_HELPER, NULL, 2), PA_OK);
    assert_int_equal(pa_keys_replace(&k, zPrefix), PA_ENOTFOUND); /* nothing to replace yet */
    assert_int_equal(pa_keys_write(&k, zPrefix), PA_OK);
    sodium_bin2hex(zOldHex, sizeof zOldHex, k.aSecret, 32);
    assert_int_equal(pa_keys_rotate(&k), PA_OK);
    snprintf(g_zNeedle, sizeof g_zNeedle, "%s", zOldHex);
    g_nLeft = 0;
    assert_int_equal(pa_keys_replace(&k, zPrefix), PA_OK);
    snprintf(zFile, sizeof zFile, "%s.key", zPrefix);
    assert_int_equal(stat(zFile, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(pa_keys_read_private(&r, zFile), PA_OK);
    assert_int_equal(g_nLeft, 0);
    g_zNeedle[0] = '\0';
    assert_int_equal(r.iConfigId, 3);
    assert_memory_equal(r.aPublic, k.aPublic, 32);
    assert_memory_equal(r.aSecret, k.aSecret, 32);
    assert_memory_equal(r.aVerifyKey, k.aVerifyKey, 32);
    assert_memory_equal(r.aToken, k.aToken, 32);
    assert_int_equal(r.nOld, 1);
    assert_int_equal(r.aOld[0].iConfigId, 2);
    assert_memory_equal(r.aOld[0].aSecret, k.aOld[0].aSecret, 32);
    snprintf(zFile, sizeof zFile, "%s.pub", zPrefix);
    assert_int_equal(pa_keys_read_public(&p, zFile), PA_OK);
    assert_int_equal(p.iConfigId, 3);
    assert_memory_equal(p.aPublic, k.aPublic, 32);
    assert_int_equal(p.nOld, 0);
    /* no temporary file is left beside them */
    char zCmd[256];
    snprintf(zCmd, sizeof zCmd, "ls '%s' | grep -q tmp", g_dir);
    assert_int_not_equal(system(zCmd), 0);

    /* an older key whose secret does not match, or a config id held twice */
    snprintf(zFile, sizeof zFile, "%s.key", zPrefix);
    for (int iCase = 0; iCase < 2; iCase++) {
        json_error_t err;
        json_t *o = json_load_file(zFile, 0, &err), *e;
        assert_non_null(o);
        e = json_array_get(json_object_get(o, "previous_hpke_keys"), 0);
        if (iCase == 0)
            json_object_set_new(e, "hpke_secret_key", json_string(
                "0000000000000000000000000000000000000000000000000000000000000001"));
        else
            json_object_set_new(e, "hpke_config_id", json_integer(3));
        expect_refused_key_file(o, iCase == 0 ? "does not match" : "held twice");
    }
    pa_keys_wipe(&k);
    pa_keys_wipe(&r);
}

/* The staged key in the file (docs/keys.md, "Key states"): new_hpke_key is
 * written and read back with its secret, the public file does not name it; a
 * new key whose secret does not match, whose id is held, or that carries an
 * expiry or another field is refused. */
static void test_staged_key_file(void **state)
{
    pa_keys k, r, p;
    char zPrefix[128], zFile[160];
    (void)state;
    path(zPrefix, sizeof zPrefix, "leader");
    assert_int_equal(pa_keys_generate(&k, PA_ROLE_LEADER, NULL, 1), PA_OK);
    assert_int_equal(pa_keys_write(&k, zPrefix), PA_OK);
    assert_int_equal(pa_keys_rotate(&k), PA_OK);
    assert_int_equal(pa_keys_stage(&k), PA_OK);
    assert_int_equal(pa_keys_replace(&k, zPrefix), PA_OK);
    snprintf(zFile, sizeof zFile, "%s.key", zPrefix);
    assert_int_equal(pa_keys_read_private(&r, zFile), PA_OK);
    assert_true(r.bNew);
    assert_int_equal(r.sNew.iConfigId, 3);
    assert_memory_equal(r.sNew.aPublic, k.sNew.aPublic, 32);
    assert_memory_equal(r.sNew.aSecret, k.sNew.aSecret, 32);
    assert_int_equal(r.iConfigId, 2);
    assert_int_equal(r.nOld, 1);
    snprintf(zFile, sizeof zFile, "%s.pub", zPrefix);
    assert_int_equal(pa_keys_read_public(&p, zFile), PA_OK);
    assert_false(p.bNew);
    assert_int_equal(p.iConfigId, 2);

    snprintf(zFile, sizeof zFile, "%s.key", zPrefix);
    static const char *const azWant[] = {"does not match", "held twice", "unknown field", "not an object"};
    for (int iCase = 0; iCase < 4; iCase++) {
        json_error_t err;
        json_t *o = json_load_file(zFile, 0, &err), *e;
        assert_non_null(o);
        e = json_object_get(o, "new_hpke_key");
        assert_non_null(e);
        if (iCase == 0)
            json_object_set_new(e, "hpke_secret_key", json_string(
                "0000000000000000000000000000000000000000000000000000000000000001"));
        else if (iCase == 1)
            json_object_set_new(e, "hpke_config_id", json_integer(1));
        else if (iCase == 2)
            json_object_set_new(e, "not_after", json_integer(1795000000));
        else
            json_object_set_new(o, "new_hpke_key", json_array());
        expect_refused_key_file(o, azWant[iCase]);
    }
    pa_keys_wipe(&k);
    pa_keys_wipe(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip_every_role, setup, teardown),
        cmocka_unit_test_setup_teardown(test_private_file_checks, setup, teardown),
        cmocka_unit_test(test_roles),
        cmocka_unit_test_setup_teardown(test_pairing_bundle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pairing_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_file_open, setup, teardown),
        cmocka_unit_test_setup_teardown(test_secret_strings_wiped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_collector_signing_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rotation_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_staged_key_file, setup, teardown),
    };
    json_set_alloc_funcs(hook_malloc, hook_free); /* before any jansson allocation */
    return cmocka_run_group_tests(tests, NULL, NULL);
}
