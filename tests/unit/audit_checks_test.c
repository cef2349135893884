/*
 * privagg audit, one check at a time (engine/audit/audit.c): the task, both
 * aggregators' exported ledgers and a signed release manifest are built here in
 * memory (ledgers charged through engine/dp, the manifest signed with a
 * collector key made here), so each case changes one thing.  The honest year
 * passes with every check listed; each tampering fails naming its check:
 * policy none, a ledger entry edited (ledger chain), the ledgers disagreeing, a
 * release charged below the task's noise or with another sensitivity (release
 * cost), a batch released twice, a lattice cell over budget, no manifest, a
 * wrong signature, a manifest of another task, a manifest release the ledgers
 * lack or whose rho is not its noise's, a batch below the minimum agencies, and
 * entries removed after the manifest published the heads (ledger anchor).
 * Making any one check always pass makes this test fail (tried for each).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <sodium.h>

#include "privagg/audit.h"
#include "privagg/common.h"
#include "privagg/dp.h"
#include "privagg/ledger.h"
#include "privagg/publish.h"
#include "privagg/task.h"

#define K1 "\"1111111111111111111111111111111111111111111111111111111111111111\""
#define K2 "\"2222222222222222222222222222222222222222222222222222222222222222\""
#define K3 "\"3333333333333333333333333333333333333333333333333333333333333333\""
#define KA "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\""
#define KB "\"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\""
#define KC "\"cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc\""
#define KD "\"dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd\""

/* Delta2^2 = 2 cells x 1^2 = 2: sigma2 = 2 / (2 rho) = 4 statewide, 8 per partition */
static const char *g_zTaskFmt =
    "{\"format\": 2, \"name\": \"audit checks\","
    " \"schema\": {\"dimensions\": [{\"name\": \"offense\", \"categories\": [\"A\", \"B\"]},"
    "   {\"name\": \"status\", \"categories\": [\"citizen\", \"unknown\"]}]},"
    " \"vdaf\": {\"type\": \"Prio3SumVec\", \"length\": 4, \"max_measurement\": 65535, \"chunk_length\": 2},"
    " \"parties\": {"
    "   \"leader\": {\"endpoint\": \"https://127.0.0.1:8441\", \"hpke_public_key\": " K1 "},"
    "   \"helper\": {\"endpoint\": \"https://127.0.0.1:8442\", \"hpke_public_key\": " K2 "},"
    "   \"collector\": {\"hpke_public_key\": " K3 ", \"signing_public_key\": \"%s\"},"
    "   \"agencies\": ["
    "     {\"id\": \"MO001\", \"name\": \"A PD\", \"partition\": \"north\", \"public_key\": " KA "},"
    "     {\"id\": \"MO002\", \"name\": \"B PD\", \"partition\": \"north\", \"public_key\": " KB "},"
    "     {\"id\": \"MO003\", \"name\": \"C PD\", \"partition\": \"south\", \"public_key\": " KC "},"
    "     {\"id\": \"MO004\", \"name\": \"D PD\", \"partition\": \"south\", \"public_key\": " KD "}]},"
    " \"partitions\": [{\"name\": \"north\", \"counties\": [\"29001\"]}, {\"name\": \"south\", \"counties\": [\"29005\"]}],"
    " \"batching\": {\"period\": \"month\", \"min_agencies\": 2},"
    " \"dp\": {\"mechanism\": \"%s\", \"privacy_unit\": \"incident_record\","
    "        \"max_cells_per_record\": 2, \"max_per_cell\": 1,"
    "        \"budget_per_record\": {\"rho\": %s},"
    "        \"per_release\": {\"state\": {\"rho\": 0.25}, \"partition\": {\"rho\": 0.125}}}}";

static uint8_t g_aSignPk[32], g_aSignSk[64];

typedef struct {
    const char *zPeriod, *zPart;
    uint64_t sigma2, l2sq;
} rel;

/* the honest year: two months, statewide and both partitions */
static const rel g_aHonest[] = {{"2026-01", "state", 4, 2}, {"2026-01", "north", 8, 2}, {"2026-01", "south", 8, 2},
                                {"2026-02", "state", 4, 2}, {"2026-02", "north", 8, 2}, {"2026-02", "south", 8, 2}};

typedef struct {
    const char *zMechanism, *zBudget;      /* the task's */
    const rel *aLeader, *aHelper;          /* what each aggregator charged */
    size_t nLeader, nHelper;
    int bEditLeaderEntry;                  /* an entry's charge edited after export */
    int bNoManifest, bOtherSigner, bOtherTask, bMissingRelease, bWrongRho;
    int nAgency;                           /* per release in the manifest (0: 2) */
    int64_t nHeadIndex;                    /* > 0: the manifest publishes this head (from a longer ledger) */
} scenario;

static pa_task *make_task(const scenario *s)
{
    char zPk[65], zJson[4096];
    pa_task *t = NULL;
    sodium_bin2hex(zPk, sizeof zPk, g_aSignPk, 32);
    snprintf(zJson, sizeof zJson, g_zTaskFmt, zPk, s->zMechanism ? s->zMechanism : "discrete_gaussian",
             s->zBudget ? s->zBudget : "1.0");
    if (pa_task_parse(&t, zJson, strlen(zJson)) != PA_OK)
        fail_msg("task: %s", pa_error_detail());
    return t;
}

/* a ledger charged with these releases, exported; aHash[i] = entry i's hash (hex) */
static char *make_ledger(const char *zTask, const rel *a, size_t n, char aHash[][65], char zHead[65])
{
    pa_store *pDb;
    char *z = NULL;
    uint8_t aH[32];
    assert_int_equal(pa_store_open(&pDb, ":memory:"), PA_OK);
    assert_int_equal(pa_dp_ledger_init(pDb), PA_OK);
    for (size_t i = 0; i < n; i++) {
        pa_dp_ledger_release r = {0};
        pa_dp_budget b = {PA_DP_UNIT_RHO, 100.0};   /* the aggregator's own budget is not what is audited */
        r.zTaskId = zTask;
        r.zPeriod = a[i].zPeriod;
        r.zPartition = a[i].zPart;
        r.mechanism = PA_DP_GAUSSIAN;
        r.param = pa_dp_rational_make(a[i].sigma2, 1);
        r.sensitivity.l1 = a[i].l2sq;
        r.sensitivity.l2sq = a[i].l2sq;
        r.tUnix = 1760000000 + (int64_t)i;
        assert_int_equal(pa_dp_ledger_charge(pDb, &r, &b, NULL, NULL), PA_OK);
    }
    assert_int_equal(pa_dp_ledger_export_json(pDb, &z), PA_OK);
    assert_int_equal(pa_dp_ledger_verify(pDb, NULL, -1, aH, NULL), PA_OK);
    sodium_bin2hex(zHead, 65, aH, 32);
    pa_store_close(pDb);
    json_t *d = json_loads(z, 0, NULL), *e;
    size_t i;
    json_array_foreach(json_object_get(d, "entries"), i, e)
        snprintf(aHash[i], 65, "%s", json_string_value(json_object_get(e, "hash")));
    json_decref(d);
    return z;
}

/* run the audit of a scenario; *ppReport for the caller */
static json_t *run(const scenario *s)
{
    pa_task *t = make_task(s);
    char zTask[65], aLeaderHash[16][65], aHelperHash[16][65], zHeadL[65], zHeadH[65], zIdx[16][65], zIgnore[65];
    char *zL, *zH, *zMan = NULL;
    json_t *pRep = NULL;

    sodium_bin2hex(zTask, sizeof zTask, t->aTaskId, 32);
    zL = make_ledger(zTask, s->aLeader ? s->aLeader : g_aHonest, s->aLeader ? s->nLeader : 6, aLeaderHash, zHeadL);
    zH = make_ledger(zTask, s->aHelper ? s->aHelper : g_aHonest, s->aHelper ? s->nHelper : 6, aHelperHash, zHeadH);
    if (s->bEditLeaderEntry) {
        json_t *d = json_loads(zL, 0, NULL);
        json_object_set_new(json_array_get(json_object_get(d, "entries"), 1), "charge", json_real(0.0625));
        free(zL);
        zL = json_dumps(d, JSON_REAL_PRECISION(17));
        json_decref(d);
    }
    /* the manifest: every release of the leader's ledger, its entries in both */
    json_t *m = json_object(), *aRel = json_array();
    const rel *a = s->aLeader ? s->aLeader : g_aHonest;
    size_t n = s->aLeader ? s->nLeader : 6;
    json_object_set_new(m, "format", json_string("privagg-release-manifest-v1"));
    json_object_set_new(m, "task_id", json_string(s->bOtherTask ? "00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff" : zTask));
    for (size_t i = 0; i < n; i++) {
        double rho = (double)a[i].l2sq / (2.0 * (double)a[i].sigma2);
        if (s->bWrongRho && i == 2)
            rho *= 0.5;
        json_array_append_new(
            aRel, json_pack("{s:s, s:s, s:{s:f}, s:f, s:i, s:{s:s, s:s}}", "period", a[i].zPeriod, "partition",
                            a[i].zPart, "noise", "sigma2_per_aggregator", (double)a[i].sigma2, "rho", rho, "agencies",
                            s->nAgency ? s->nAgency : 2, "ledger_entries", "leader",
                            s->bMissingRelease && i == 3 ? "ab00000000000000000000000000000000000000000000000000000000000000"
                                                         : aLeaderHash[i],
                            "helper", i < (s->aHelper ? s->nHelper : 6) ? aHelperHash[i] : "00"));
    }
    json_object_set_new(m, "releases", aRel);
    if (s->nHeadIndex > 0) {
        /* the heads a longer ledger had when the manifest was published */
        rel aLonger[16];
        char *zLonger;
        memcpy(aLonger, a, n * sizeof *a);
        aLonger[n] = (rel){"2026-03", "state", 4, 2};
        zLonger = make_ledger(zTask, aLonger, n + 1, zIdx, zIgnore);
        free(zLonger);
        json_object_set_new(m, "ledger_heads",
                            json_pack("{s:{s:I, s:s}, s:{s:I, s:s}}", "leader", "index", (json_int_t)(n + 1), "hash",
                                      zIgnore, "helper", "index", (json_int_t)(n + 1), "hash", zIgnore));
    } else {
        json_object_set_new(m, "ledger_heads",
                            json_pack("{s:{s:I, s:s}, s:{s:I, s:s}}", "leader", "index", (json_int_t)n, "hash", zHeadL,
                                      "helper", "index", (json_int_t)(s->aHelper ? s->nHelper : 6), "hash",
                                      zHeadH));
    }
    /* signed as publish signs (pa_manifest_signed_bytes) */
    {
        char *zBody = json_dumps(m, JSON_COMPACT), *zBytes = NULL, zSig[129], zPk[65];
        size_t nBytes = 0;
        uint8_t aSig[64], aOtherPk[32], aOtherSk[64];
        assert_int_equal(pa_manifest_signed_bytes(zBody, strlen(zBody), &zBytes, &nBytes), PA_OK);
        if (s->bOtherSigner) {
            crypto_sign_keypair(aOtherPk, aOtherSk);
            crypto_sign_detached(aSig, NULL, (const uint8_t *)zBytes, nBytes, aOtherSk);
        } else {
            crypto_sign_detached(aSig, NULL, (const uint8_t *)zBytes, nBytes, g_aSignSk);
        }
        sodium_bin2hex(zSig, sizeof zSig, aSig, 64);
        sodium_bin2hex(zPk, sizeof zPk, g_aSignPk, 32);
        json_object_set_new(m, "signature",
                            json_pack("{s:s, s:s, s:s}", "algorithm", "ed25519", "public_key", zPk, "value", zSig));
        free(zBody);
        free(zBytes);
    }
    zMan = json_dumps(m, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
    json_decref(m);
    pa_audit_input aMan[1] = {{"manifest.json", zMan, strlen(zMan)}};
    pa_audit_input aLed[2] = {{"leader-ledger.json", zL, strlen(zL)}, {"helper-ledger.json", zH, strlen(zH)}};
    if (pa_audit_run(t, aMan, s->bNoManifest ? 0 : 1, aLed, NULL, &pRep) != PA_OK)
        fail_msg("audit could not run: %s", pa_error_detail());
    free(zL);
    free(zH);
    free(zMan);
    pa_task_free(t);
    return pRep;
}

static int has_failure(const json_t *pRep, const char *zCheck)
{
    json_t *f;
    size_t i;
    size_t n = strlen(zCheck);
    json_array_foreach(json_object_get(pRep, "failures"), i, f)
        if (strncmp(json_string_value(f), zCheck, n) == 0 && json_string_value(f)[n] == ':')
            return 1;
    return 0;
}

static void expect_fail(const scenario *s, const char *zCheck, const char *zWhat)
{
    json_t *pRep = run(s), *f;
    size_t i;
    if (strcmp(json_string_value(json_object_get(pRep, "result")), "fail") != 0 || !has_failure(pRep, zCheck)) {
        char *z = json_dumps(json_object_get(pRep, "failures"), JSON_INDENT(2));
        print_message("%s\n", z);
        free(z);
        json_decref(pRep);
        fail_msg("%s: the audit did not fail on \"%s\"", zWhat, zCheck);
    }
    print_message("  %s:\n", zWhat);
    json_array_foreach(json_object_get(pRep, "failures"), i, f)
        print_message("    %s\n", json_string_value(f));
    json_decref(pRep);
}

static void test_honest_passes(void **state)
{
    static const char *const azChecks[] = {"policy", "ledger chain", "ledgers agree", "release cost",
                                           "no batch released twice", "lattice cells within budget",
                                           "manifest signature", "manifest task", "manifest releases in both ledgers",
                                           "minimum agencies per batch", "ledger anchor"};
    scenario s = {0};
    json_t *pRep, *c;
    size_t i;
    (void)state;
    pRep = run(&s);
    if (strcmp(json_string_value(json_object_get(pRep, "result")), "pass") != 0) {
        char *z = json_dumps(pRep, JSON_INDENT(2));
        print_message("%s\n", z);
        free(z);
        fail_msg("the honest year does not pass");
    }
    for (size_t k = 0; k < sizeof azChecks / sizeof azChecks[0]; k++) {
        int bSeen = 0;
        json_array_foreach(json_object_get(pRep, "checks"), i, c)
            bSeen |= strcmp(json_string_value(json_object_get(c, "check")), azChecks[k]) == 0 &&
                     json_is_true(json_object_get(c, "ok"));
        if (!bSeen)
            fail_msg("check \"%s\" not reported as ok", azChecks[k]);
    }
    /* worst cell: a partition of a month = 0.25 + 0.125 */
    assert_true(json_real_value(json_object_get(pRep, "rho_max")) == 0.375);
    json_decref(pRep);
}

static void test_each_check_fails(void **state)
{
    (void)state;
    {
        scenario s = {0};
        s.zMechanism = "none";
        expect_fail(&s, "policy", "policy none");
    }
    {
        scenario s = {0};
        s.bEditLeaderEntry = 1;
        expect_fail(&s, "ledger chain", "a leader entry edited");
    }
    {
        scenario s = {0};
        s.aHelper = g_aHonest;
        s.nHelper = 5;
        expect_fail(&s, "ledgers agree", "the helper lacks a release");
    }
    {
        /* 2026-01 north charged at sigma2 4: rho 0.25 is what sigma2 4 gives, but below the task's noise */
        static const rel a[] = {{"2026-01", "state", 4, 2}, {"2026-01", "north", 4, 2}, {"2026-01", "south", 8, 2}};
        scenario s = {0};
        s.aLeader = s.aHelper = a;
        s.nLeader = s.nHelper = 3;
        expect_fail(&s, "release cost", "a release below the task's noise");
    }
    {
        /* charged with sensitivity 1, not the task's 2: rho 1/16, not 2/16 */
        static const rel a[] = {{"2026-01", "state", 4, 2}, {"2026-01", "north", 8, 1}, {"2026-01", "south", 8, 2}};
        scenario s = {0};
        s.aLeader = s.aHelper = a;
        s.nLeader = s.nHelper = 3;
        expect_fail(&s, "release cost", "a release charged with another sensitivity");
    }
    {
        static const rel a[] = {{"2026-01", "state", 4, 2}, {"2026-01", "north", 8, 2}, {"2026-01", "north", 8, 2}};
        scenario s = {0};
        s.aLeader = s.aHelper = a;
        s.nLeader = s.nHelper = 3;
        expect_fail(&s, "no batch released twice", "a batch released twice");
    }
    {
        scenario s = {0};
        s.zBudget = "0.3";             /* each release fits, a month's state + partition (0.375) does not */
        expect_fail(&s, "lattice cells within budget", "a lattice cell over budget");
    }
    {
        scenario s = {0};
        s.bNoManifest = 1;
        expect_fail(&s, "manifests", "no manifest");
    }
    {
        scenario s = {0};
        s.bOtherSigner = 1;
        expect_fail(&s, "manifest signature", "signed by another key");
    }
    {
        scenario s = {0};
        s.bOtherTask = 1;
        expect_fail(&s, "manifest task", "a manifest of another task");
    }
    {
        scenario s = {0};
        s.bMissingRelease = 1;
        expect_fail(&s, "manifest releases in both ledgers", "a manifest release the ledgers lack");
    }
    {
        scenario s = {0};
        s.bWrongRho = 1;
        expect_fail(&s, "manifest releases in both ledgers", "a manifest release's rho not its noise's");
    }
    {
        scenario s = {0};
        s.nAgency = 1;
        expect_fail(&s, "minimum agencies per batch", "a batch of one agency");
    }
    {
        scenario s = {0};
        s.nHeadIndex = 7;
        expect_fail(&s, "ledger anchor", "entries removed after the manifest");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_honest_passes),
        cmocka_unit_test(test_each_check_fails),
    };
    if (sodium_init() < 0)
        return 1;
    crypto_sign_keypair(g_aSignPk, g_aSignSk);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
