/*
 * privagg keygen — create a party's key files (thin over engine/keys).  The two
 * aggregators pair through a bundle: the leader's keygen writes it (the verify
 * key and the peer token, nothing else), the helper's reads it; no keygen reads
 * another party's key file (see include/privagg/keys.h, docs/keys.md).  It also
 * changes an existing key file in place: HPKE keys staged (state new), promoted,
 * rotated, given an expiry or retired; tokens rotated and installed at the party
 * that checks them — the helper's key file, or for the collector's token the
 * leader's node config (--config, pa_node_config_add_collector_token).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "cli/cli.h"
#include "privagg/common.h"
#include "privagg/keys.h"
#include "privagg/node.h"
#include "privagg/task_build.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: privagg keygen --role ROLE --out PREFIX [options]\n"
            "       privagg keygen --role leader --config LEADER.json --add-token BUNDLE [--old-expires WHEN]\n"
            "\n"
            "Writes PREFIX.key (private, mode 0600, never overwritten) and PREFIX.pub\n"
            "(public, goes into the task file).\n"
            "\n"
            "  --role R          agency | leader | helper | collector | registry\n"
            "                    (agency: run at the agency, only PREFIX.pub leaves it for\n"
            "                    the state's registry; registry: the state's key that signs\n"
            "                    the agency registry, privagg registry --help)\n"
            "  --out PREFIX      path prefix of the two files (for --state: a folder)\n"
            "  --id ORI          agency id (role agency)\n"
            "  --state ST        role agency: keys for every agency of <st>_le_agencies.csv,\n"
            "                    written as PREFIX/<ORI>.key and PREFIX/<ORI>.pub\n"
            "  --data DIR        folder of the shipped data (default: the installed\n"
            "                    share/privagg/data; see privagg task --help)\n"
            "  --config-id N     HPKE config id, 0..255 (leader 1, helper 2, collector 3 by default)\n"
            "  --pairing-out FILE  role leader (required): also write the pairing bundle, the\n"
            "                    verify key and peer token the helper needs and nothing else\n"
            "                    (mode 0600).  Hand it to the helper's operator over an\n"
            "                    authenticated, confidential channel; delete it after use\n"
            "  --pairing FILE    role helper (required): the leader's pairing bundle\n"
            "\n"
            "  HPKE key rotation, roles leader and helper (each key has a config id and a\n"
            "  state: new, current, retiring; docs/keys.md).  PREFIX.key is replaced in place\n"
            "  (a temporary file renamed over it, 0600); restart the node afterwards:\n"
            "  --stage           add a fresh key with the next config id in state new: the\n"
            "                    signed configuration (GET /hpke_config) publishes it and the\n"
            "                    aggregator opens reports sealed to it, but agencies keep\n"
            "                    sealing to the current key.  Prints \"new hpke_config_id N\"\n"
            "  --promote ID      the new key ID becomes current (agencies seal to it from their\n"
            "                    next report on); the old current key becomes retiring and\n"
            "                    still opens reports, until --old-expires WHEN if given\n"
            "  --rotate          --stage and --promote at once (no time published ahead)\n"
            "  --old-expires WHEN  with --promote or --rotate: the key that stops being current\n"
            "                    expires at WHEN; from then on a report sealed to it is refused\n"
            "                    (the leader at upload, the helper 7 days later, at aggregation)\n"
            "  --expire ID --at WHEN  set the expiry of the retiring key ID (WHEN: YYYY-MM-DD,\n"
            "                    00:00 UTC, or YYYY-MM-DDTHH:MM:SSZ, or @UNIX-SECONDS)\n"
            "  --retire ID       drop the retiring or new key ID from PREFIX.key (its secret\n"
            "                    with it); reports sealed to it are refused from then on\n"
            "\n"
            "  Token rotation (docs/keys.md, \"Rotating the tokens\"):\n"
            "  --rotate-token --token-out FILE  roles leader (its peer token) and collector\n"
            "                    (its bearer token): a fresh token with the next id becomes\n"
            "                    current in PREFIX.key; FILE (0600) carries it to the party\n"
            "                    that checks it, which installs it with --add-token\n"
            "  --add-token FILE  install a token bundle at the party that checks it; the old\n"
            "                    token stays accepted, until --old-expires WHEN if given:\n"
            "                    role helper (--out PREFIX): the leader's peer token;\n"
            "                    role leader (--config LEADER.json, instead of --out): the\n"
            "                    collector's bearer token, into the config's collector_tokens\n"
            "                    (current first; every older token expires at WHEN at the\n"
            "                    latest; expired ones dropped; at most 7 kept; the file is\n"
            "                    replaced atomically, 0600).  A bundle of the other role is\n"
            "                    refused\n"
            "  --config FILE     role leader with --add-token: the leader's node config\n"
            "\n"
            "exit status:\n"
            "  0  written\n"
            "  1  refused or failed: an existing key, a file that cannot be read or\n"
            "     written, a role that does not match (of the key file, the config or the\n"
            "     token bundle), the current key to retire, an id not held to promote,\n"
            "     a key staged already, a token held already, too many keys or tokens\n"
            "  2  bad usage\n"
            "\n"
            "examples:\n"
            "  privagg keygen --role leader --out keys/leader --pairing-out pair.json\n"
            "  privagg keygen --role helper --out keys/helper --pairing pair.json && rm pair.json\n"
            "  privagg keygen --role agency --state MO --out keys/agencies\n"
            "  privagg keygen --role agency --id MO0010000 --out MO0010000   # at the agency\n"
            "  privagg keygen --role registry --out keys/registry\n"
            "  privagg keygen --role helper --out keys/helper --stage        # new key 3 published\n"
            "  privagg keygen --role helper --out keys/helper --promote 3 --old-expires 2026-12-15\n"
            "  privagg keygen --role helper --out keys/helper --rotate --old-expires 2026-12-01\n"
            "  privagg keygen --role helper --out keys/helper --retire 2\n"
            "  privagg keygen --role leader --out keys/leader --rotate-token --token-out tok.json\n"
            "  privagg keygen --role helper --out keys/helper --add-token tok.json --old-expires 2026-12-01\n"
            "  privagg keygen --role collector --out keys/collector --rotate-token --token-out ctok.json\n"
            "  privagg keygen --role leader --config leader.json --add-token ctok.json --old-expires 2026-12-01\n");
}

static int all_agencies(const char *zState, const char *zData, const char *zDir)
{
    char **azId;
    size_t nId;
    int rc;

    if (mkdir(zDir, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "privagg keygen: %s: %s\n", zDir, strerror(errno));
        return 1;
    }
    rc = pa_task_list_agencies(&azId, &nId, zData, zState);
    if (rc != PA_OK) {
        pa_cli_report("keygen", rc);
        return 1;
    }
    for (size_t i = 0; i < nId && rc == PA_OK; i++) {
        pa_keys k;
        char zPrefix[4096];
        snprintf(zPrefix, sizeof zPrefix, "%s/%s", zDir, azId[i]);
        rc = pa_keys_generate(&k, PA_ROLE_AGENCY, azId[i], 0);
        if (rc == PA_OK)
            rc = pa_keys_write(&k, zPrefix);
        pa_keys_wipe(&k);
        if ((i + 1) % 100 == 0 || i + 1 == nId)
            fprintf(stderr, "\rkeygen: %zu/%zu agencies", i + 1, nId);
    }
    fprintf(stderr, "\n");
    pa_task_free_list(azId, nId);
    if (rc != PA_OK) {
        pa_cli_report("keygen", rc);
        return 1;
    }
    printf("%s\n", zDir);
    return 0;
}

/* Leader: the bundle first (so a failure leaves no leader without a bundle), then
 * the key files; a bundle whose key files could not be written is removed. */
static int write_leader(const pa_keys *k, const char *zOut, const char *zPairing)
{
    pa_pairing pair;
    int rc = pa_pairing_from_leader(&pair, k);
    if (rc == PA_OK)
        rc = pa_pairing_write(&pair, zPairing);
    pa_pairing_wipe(&pair);
    if (rc != PA_OK)
        return rc;
    rc = pa_keys_write(k, zOut);
    if (rc != PA_OK)
        unlink(zPairing);
    return rc;
}

/* WHEN of --at / --old-expires: "YYYY-MM-DD" (00:00 UTC), "YYYY-MM-DDTHH:MM:SSZ"
 * or "@SECONDS" (unix time).  0, or 2 after the message. */
static int parse_when(const char *zOpt, const char *z, int64_t *pt)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    if (z[0] == '@') {
        unsigned long long v;
        if (pa_cli_uint("keygen", zOpt, z + 1, 0, 253402300799ull, &v) != 0)
            return 2;
        *pt = (int64_t)v;
        return 0;
    }
    int nUsed = 0, y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
    size_t nZ = strlen(z);
    int bOk = (nZ == 10 && sscanf(z, "%4d-%2d-%2d%n", &y, &mo, &d, &nUsed) == 3 && nUsed == 10) ||
              (nZ == 20 && sscanf(z, "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &y, &mo, &d, &h, &mi, &sec, &nUsed) == 6 &&
               nUsed == 20);
    if (!bOk || y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) {
        fprintf(stderr, "privagg keygen: %s: \"%s\" is not a time: YYYY-MM-DD (00:00 UTC), "
                        "YYYY-MM-DDTHH:MM:SSZ or @UNIX-SECONDS\n", zOpt, z);
        return 2;
    }
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    *pt = (int64_t)timegm(&tm);
    return 0;
}

static void print_utc(int64_t t)
{
    char z[40];
    pa_cli_utc(z, sizeof z, t);
    printf("%s", z);
}

/* --role leader --config LEADER.json --add-token BUNDLE: the collector's new
 * bearer token into the leader's node config (pa_node_config_add_collector_token:
 * checked as the node reads it, replaced atomically, 0600). */
static int add_collector_token(const pa_cli_opt *opts, size_t n)
{
    const char *zConfig = pa_cli_value(opts, n, "--config"), *zAdd = pa_cli_value(opts, n, "--add-token");
    const char *zOldExpires = pa_cli_value(opts, n, "--old-expires");
    static const char *const azOther[] = {"--out", "--id", "--state", "--config-id", "--pairing-out", "--pairing",
                                          "--token-out", "--retire", "--promote", "--expire", "--at"};
    pa_collector_token_list list;
    pa_role eFrom;
    unsigned iId = 0;
    uint8_t aTok[32];
    int64_t tOld = 0;
    int rc;

    if (zConfig == NULL) {
        fprintf(stderr, "privagg keygen: role leader keeps the collector's tokens in its node config: give "
                        "--config LEADER.json (the file privagg serve --config reads) with --add-token\n");
        return 2;
    }
    for (size_t i = 0; i < sizeof azOther / sizeof azOther[0]; i++)
        if (pa_cli_value(opts, n, azOther[i]) != NULL) {
            fprintf(stderr, "privagg keygen: %s does not go with --config LEADER.json --add-token BUNDLE\n",
                    azOther[i]);
            return 2;
        }
    if (pa_cli_seen(opts, n, "--rotate") || pa_cli_seen(opts, n, "--stage") || pa_cli_seen(opts, n, "--rotate-token")) {
        fprintf(stderr, "privagg keygen: --add-token does not go with --rotate, --stage or --rotate-token\n");
        return 2;
    }
    if (zOldExpires != NULL && parse_when("--old-expires", zOldExpires, &tOld) != 0)
        return 2;
    rc = pa_token_bundle_read(zAdd, &eFrom, &iId, aTok);
    if (rc == PA_OK && eFrom != PA_ROLE_COLLECTOR)
        rc = pa_fail(PA_EINVAL, "%s: the %s's peer token, not the collector's bearer token; it goes to the "
                     "helper (keygen --role helper --out PREFIX --add-token %s)", zAdd, pa_role_name(eFrom), zAdd);
    if (rc == PA_OK)
        rc = pa_node_config_add_collector_token(zConfig, iId, aTok, tOld, (int64_t)time(NULL), &list);
    sodium_memzero(aTok, sizeof aTok);
    if (rc != PA_OK) {
        pa_cli_report("keygen", rc);
        return 1;
    }
    printf("bearer token id %u\n", list.aId[0]);
    for (size_t i = 1; i < list.n; i++) {
        printf("older token id %u accepted until ", list.aId[i]);
        if (list.aNotAfter[i] > 0)
            print_utc(list.aNotAfter[i]);
        else
            printf("dropped");
        printf("\n");
    }
    if (list.nDropped > 0)
        printf("expired tokens dropped: %zu\n", list.nDropped);
    fprintf(stderr, "privagg keygen: %s rewritten (mode 0600); restart the leader: it reads its config at "
                    "start\n", zConfig);
    return 0;
}

/* --rotate-token (leader, collector) / --add-token BUNDLE (helper): the bearer
 * tokens rotate (docs/keys.md, "Rotating the tokens"); PREFIX.key is replaced in
 * place like --rotate does. */
static int rotate_token(const pa_cli_opt *opts, size_t n, pa_role eRole, const char *zOut)
{
    const char *zTokenOut = pa_cli_value(opts, n, "--token-out"), *zAdd = pa_cli_value(opts, n, "--add-token");
    const char *zOldExpires = pa_cli_value(opts, n, "--old-expires");
    char zPath[4200];
    int64_t tOld = 0;
    pa_keys k;
    int rc;

    if (pa_cli_seen(opts, n, "--rotate-token") == (zAdd != NULL)) {
        fprintf(stderr, "privagg keygen: give --rotate-token (leader, collector) or --add-token BUNDLE "
                        "(helper), not both\n");
        return 2;
    }
    if (zAdd == NULL && zOldExpires != NULL) {
        fprintf(stderr, "privagg keygen: --old-expires goes with --add-token: the party that checks a "
                        "token keeps the old one (the helper's keygen --add-token; for the collector's token, "
                        "the leader's keygen --config LEADER.json --add-token)\n");
        return 2;
    }
    if (zAdd == NULL && (eRole == PA_ROLE_HELPER || eRole == PA_ROLE_AGENCY || zTokenOut == NULL)) {
        fprintf(stderr, "privagg keygen: --rotate-token is for roles leader and collector and needs "
                        "--token-out FILE (the bundle for the party that checks the token)\n");
        return 2;
    }
    if (zAdd != NULL && (eRole != PA_ROLE_HELPER || zTokenOut != NULL)) {
        fprintf(stderr, "privagg keygen: --add-token is for role helper (the leader's new peer token, into "
                        "--out PREFIX.key) and role leader (the collector's new token, into --config "
                        "LEADER.json), without --token-out\n");
        return 2;
    }
    if (zOldExpires != NULL && parse_when("--old-expires", zOldExpires, &tOld) != 0)
        return 2;
    snprintf(zPath, sizeof zPath, "%s.key", zOut);
    rc = pa_keys_read_private(&k, zPath);
    if (rc == PA_OK && k.eRole != eRole)
        rc = pa_fail(PA_EINVAL, "%s: a key file of role %s, not %s", zPath, pa_role_name(k.eRole),
                     pa_role_name(eRole));
    if (rc == PA_OK && zAdd != NULL) {
        pa_role eFrom;
        unsigned iId;
        uint8_t aTok[32];
        rc = pa_token_bundle_read(zAdd, &eFrom, &iId, aTok);
        if (rc == PA_OK && eFrom != PA_ROLE_LEADER)
            rc = pa_fail(PA_EINVAL, "%s: the %s's token, not the leader's peer token; it goes into the leader's "
                         "config (keygen --role leader --config LEADER.json --add-token %s)", zAdd,
                         pa_role_name(eFrom), zAdd);
        if (rc == PA_OK)
            rc = pa_keys_add_token(&k, iId, aTok, tOld);
        sodium_memzero(aTok, sizeof aTok);
    } else if (rc == PA_OK) {
        struct stat st;
        if (stat(zTokenOut, &st) == 0)
            rc = pa_fail(PA_EEXISTS, "%s exists; the bundle is written to a new file", zTokenOut);
        if (rc == PA_OK)
            rc = pa_keys_rotate_token(&k, tOld);
        /* the bundle first: a key file that names a token nobody was given is worse */
        if (rc == PA_OK)
            rc = pa_token_bundle_write(zTokenOut, eRole, k.iTokenId, k.aToken);
    }
    if (rc == PA_OK)
        rc = pa_keys_replace(&k, zOut);
    if (rc == PA_OK) {
        printf("%s token id %u\n", eRole == PA_ROLE_COLLECTOR ? "bearer" : "peer", k.iTokenId);
        for (size_t i = 0; i < k.nOldToken; i++) {
            printf("older token id %u accepted ", k.aOldToken[i].iId);
            if (k.aOldToken[i].tNotAfter > 0) {
                printf("until ");
                print_utc(k.aOldToken[i].tNotAfter);
                printf("\n");
            } else {
                printf("until dropped\n");
            }
        }
    }
    pa_keys_wipe(&k);
    if (rc != PA_OK) {
        pa_cli_report("keygen", rc);
        return 1;
    }
    return 0;
}

/* What an aggregator's key file holds now, one key a line, by state. */
static void print_hpke_keys(const pa_keys *k)
{
    pa_hpke_key_ref aKey[PA_KEYS_MAX_HPKE];
    size_t nKey = pa_keys_hpke_list(k, aKey);
    char zHex[65];

    /* the first lines as before: the current key, for the task and scripts */
    sodium_bin2hex(zHex, sizeof zHex, k->aPublic, 32);
    printf("hpke_config_id %u\nhpke_public_key %s\n", (unsigned)k->iConfigId, zHex);
    if (k->bNew) {
        sodium_bin2hex(zHex, sizeof zHex, k->sNew.aPublic, 32);
        printf("new hpke_config_id %u\nnew hpke_public_key %s\n", (unsigned)k->sNew.iConfigId, zHex);
    }
    printf("older keys held:");
    for (size_t i = 0; i < k->nOld; i++)
        printf(" %u", (unsigned)k->aOld[i].iConfigId);
    printf("%s\n", k->nOld == 0 ? " none" : "");
    for (size_t i = 0; i < k->nOld; i++)
        if (k->aOld[i].tNotAfter > 0) {
            printf("config id %u expires ", (unsigned)k->aOld[i].iConfigId);
            print_utc(k->aOld[i].tNotAfter);
            printf("\n");
        }
    printf("keys:");
    for (size_t i = 0; i < nKey; i++)
        printf("%s %s %u", i ? "," : "", pa_hpke_key_state_name(aKey[i].eState), (unsigned)aKey[i].iConfigId);
    printf("\n");
}

/* --rotate / --stage / --promote ID / --retire ID / --expire ID: change an
 * aggregator's existing key file in place (pa_keys_replace: a temporary file
 * renamed over it).  Reads only PREFIX.key. */
static int rotate_or_retire(const pa_cli_opt *opts, size_t n, pa_role eRole, const char *zOut)
{
    const char *zRetire = pa_cli_value(opts, n, "--retire"), *zExpire = pa_cli_value(opts, n, "--expire");
    const char *zAt = pa_cli_value(opts, n, "--at"), *zOldExpires = pa_cli_value(opts, n, "--old-expires");
    const char *zPromote = pa_cli_value(opts, n, "--promote");
    int bRotate = pa_cli_seen(opts, n, "--rotate"), bStage = pa_cli_seen(opts, n, "--stage");
    unsigned long long idExpire = 0, idPromote = 0;
    int64_t tWhen = 0;
    static const char *const azOther[] = {"--id", "--state", "--config-id", "--pairing-out", "--pairing", "--config"};
    char zPath[4200];
    unsigned long long id = 0;
    pa_keys k;
    int rc;

    if (eRole != PA_ROLE_LEADER && eRole != PA_ROLE_HELPER) {
        fprintf(stderr, "privagg keygen: --rotate, --stage, --promote, --retire and --expire are for roles "
                        "leader and helper\n");
        return 2;
    }
    if (bRotate + bStage + (zPromote != NULL) + (zRetire != NULL) + (zExpire != NULL) != 1) {
        fprintf(stderr, "privagg keygen: give one of --stage, --promote ID, --rotate, --retire ID and --expire ID\n");
        return 2;
    }
    if ((zExpire != NULL) != (zAt != NULL)) {
        fprintf(stderr, "privagg keygen: --expire ID needs --at WHEN, and --at goes with --expire\n");
        return 2;
    }
    if (zOldExpires != NULL && !bRotate && zPromote == NULL) { /* (tokens: rotate_token) */
        fprintf(stderr, "privagg keygen: --old-expires goes with --promote or --rotate (for a key already "
                        "older: --expire ID --at WHEN)\n");
        return 2;
    }
    if (zExpire != NULL && (pa_cli_uint("keygen", "--expire", zExpire, 0, 255, &idExpire) != 0 ||
                            parse_when("--at", zAt, &tWhen) != 0))
        return 2;
    if (zOldExpires != NULL && parse_when("--old-expires", zOldExpires, &tWhen) != 0)
        return 2;
    for (size_t i = 0; i < sizeof azOther / sizeof azOther[0]; i++) {
        if (pa_cli_value(opts, n, azOther[i]) != NULL) {
            fprintf(stderr, "privagg keygen: %s does not go with --rotate, --stage, --promote, --retire or "
                            "--expire (the key file keeps its verify key and peer token; config ids are "
                            "chosen)\n", azOther[i]);
            return 2;
        }
    }
    if (zRetire != NULL && pa_cli_uint("keygen", "--retire", zRetire, 0, 255, &id) != 0)
        return 2;
    if (zPromote != NULL && pa_cli_uint("keygen", "--promote", zPromote, 0, 255, &idPromote) != 0)
        return 2;
    snprintf(zPath, sizeof zPath, "%s.key", zOut);
    rc = pa_keys_read_private(&k, zPath);
    if (rc == PA_OK && k.eRole != eRole)
        rc = pa_fail(PA_EINVAL, "%s: a key file of role %s, not %s", zPath, pa_role_name(k.eRole),
                     pa_role_name(eRole));
    if (rc == PA_OK && zRetire != NULL)
        rc = pa_keys_retire(&k, (unsigned)id);
    else if (rc == PA_OK && zExpire != NULL)
        rc = pa_keys_expire(&k, (unsigned)idExpire, tWhen);
    else if (rc == PA_OK && bStage)
        rc = pa_keys_stage(&k);
    else if (rc == PA_OK && zPromote != NULL)
        rc = pa_keys_promote(&k, (unsigned)idPromote, tWhen);
    else if (rc == PA_OK) {
        rc = pa_keys_rotate(&k);
        if (rc == PA_OK && zOldExpires != NULL)
            rc = pa_keys_expire(&k, k.aOld[0].iConfigId, tWhen);
    }
    if (rc == PA_OK)
        rc = pa_keys_replace(&k, zOut);
    if (rc == PA_OK)
        print_hpke_keys(&k);
    pa_keys_wipe(&k);
    if (rc != PA_OK) {
        pa_cli_report("keygen", rc);
        return 1;
    }
    return 0;
}

int pa_cli_keygen(int argc, char **argv)
{
    pa_cli_opt opts[] = {
        {"--role", 0, NULL, 0, NULL},        {"--out", 0, NULL, 0, NULL},     {"--id", 0, NULL, 0, NULL},
        {"--state", 0, NULL, 0, NULL},       {"--data", 0, NULL, 0, NULL},    {"--config-id", 0, NULL, 0, NULL},
        {"--pairing-out", 0, NULL, 0, NULL}, {"--pairing", 0, NULL, 0, NULL}, {"--pair-with", 0, NULL, 0, NULL},
        {"--rotate", 1, NULL, 0, NULL},      {"--retire", 0, NULL, 0, NULL},  {"--help", 1, NULL, 0, NULL},
        {"--expire", 0, NULL, 0, NULL},      {"--at", 0, NULL, 0, NULL},      {"--old-expires", 0, NULL, 0, NULL},
        {"--rotate-token", 1, NULL, 0, NULL}, {"--token-out", 0, NULL, 0, NULL}, {"--add-token", 0, NULL, 0, NULL},
        {"--stage", 1, NULL, 0, NULL},       {"--promote", 0, NULL, 0, NULL}, {"--config", 0, NULL, 0, NULL},
    };
    size_t n = sizeof opts / sizeof opts[0];
    pa_role eRole;
    pa_keys k;
    pa_pairing pair;
    unsigned long long id;
    int rc;

    if ((rc = pa_cli_begin(argc, argv, opts, n, usage)) >= 0)
        return rc;
    const char *zRole = pa_cli_value(opts, n, "--role"), *zOut = pa_cli_value(opts, n, "--out");
    const char *zPairOut = pa_cli_value(opts, n, "--pairing-out"), *zPairIn = pa_cli_value(opts, n, "--pairing");
    if (pa_cli_value(opts, n, "--pair-with") != NULL) {
        fprintf(stderr, "privagg keygen: --pair-with is gone: it read the leader's private key file.\n"
                        "  The leader runs keygen --role leader --pairing-out pair.json, the helper\n"
                        "  keygen --role helper --pairing pair.json (see privagg keygen --help)\n");
        return 2;
    }
    if (zRole != NULL && strcmp(zRole, "leader") == 0 && pa_cli_value(opts, n, "--add-token") != NULL)
        return add_collector_token(opts, n);
    if (pa_cli_value(opts, n, "--config") != NULL) {
        fprintf(stderr, "privagg keygen: --config goes with --role leader --add-token BUNDLE (the collector's "
                        "new token into the leader's config)\n");
        return 2;
    }
    if (zRole == NULL || zOut == NULL) {
        fprintf(stderr, "privagg keygen: --role and --out are required (--role leader --add-token: --config)\n");
        usage(stderr);
        return 2;
    }
    if (pa_role_parse(&eRole, zRole) != PA_OK) {
        pa_cli_report("keygen --role", PA_EINVAL);
        return 2;
    }
    if (pa_cli_seen(opts, n, "--rotate-token") || pa_cli_value(opts, n, "--add-token") != NULL)
        return rotate_token(opts, n, eRole, zOut);
    if (pa_cli_seen(opts, n, "--rotate") || pa_cli_seen(opts, n, "--stage") ||
        pa_cli_value(opts, n, "--promote") != NULL || pa_cli_value(opts, n, "--retire") != NULL ||
        pa_cli_value(opts, n, "--expire") != NULL || pa_cli_value(opts, n, "--old-expires") != NULL)
        return rotate_or_retire(opts, n, eRole, zOut);
    if (eRole == PA_ROLE_LEADER && (zPairOut == NULL || zPairIn != NULL)) {
        fprintf(stderr, "privagg keygen: role leader needs --pairing-out FILE (the bundle the "
                        "helper's keygen reads), and takes no --pairing\n");
        return 2;
    }
    if (eRole == PA_ROLE_HELPER && (zPairIn == NULL || zPairOut != NULL)) {
        fprintf(stderr, "privagg keygen: role helper needs --pairing FILE, the bundle the leader's "
                        "keygen --pairing-out wrote, and takes no --pairing-out\n");
        return 2;
    }
    if (eRole != PA_ROLE_LEADER && eRole != PA_ROLE_HELPER && (zPairIn != NULL || zPairOut != NULL)) {
        fprintf(stderr, "privagg keygen: --pairing and --pairing-out are for roles leader and helper\n");
        return 2;
    }
    if (eRole == PA_ROLE_AGENCY && pa_cli_value(opts, n, "--state") != NULL) {
        char zData[4200];
        return all_agencies(pa_cli_value(opts, n, "--state"),
                            pa_cli_data_dir(pa_cli_value(opts, n, "--data"), zData, sizeof zData), zOut);
    }
    if (eRole == PA_ROLE_AGENCY && pa_cli_value(opts, n, "--id") == NULL) {
        fprintf(stderr, "privagg keygen: role agency needs --id ORI or --state ST\n");
        return 2;
    }
    id = eRole == PA_ROLE_LEADER ? 1 : eRole == PA_ROLE_HELPER ? 2 : 3;
    if (pa_cli_value(opts, n, "--config-id") != NULL &&
        pa_cli_uint("keygen", "--config-id", pa_cli_value(opts, n, "--config-id"), 0, 255, &id) != 0)
        return 2;
    memset(&pair, 0, sizeof pair);
    rc = eRole == PA_ROLE_HELPER ? pa_pairing_read(&pair, zPairIn) : PA_OK;
    if (rc == PA_OK)
        rc = pa_keys_generate(&k, eRole, pa_cli_value(opts, n, "--id"), (uint8_t)id);
    else
        memset(&k, 0, sizeof k);
    if (rc == PA_OK && eRole == PA_ROLE_HELPER)
        rc = pa_pairing_apply(&k, &pair);
    pa_pairing_wipe(&pair);
    if (rc == PA_OK)
        rc = eRole == PA_ROLE_LEADER ? write_leader(&k, zOut, zPairOut) : pa_keys_write(&k, zOut);
    pa_keys_wipe(&k);
    if (rc != PA_OK) {
        pa_cli_report("keygen", rc);
        return 1;
    }
    printf("%s.key\n%s.pub\n", zOut, zOut);
    if (eRole == PA_ROLE_LEADER)
        printf("%s\n", zPairOut);
    return 0;
}
