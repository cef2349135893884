/*
 * Every status and problem type the aggregators' routes answer, pinned over real
 * HTTPS: a deployment made as `privagg demo --setup-only` makes it (40 agencies,
 * at least 3 per batch, rho 0.5 per release against 0.6 per record), the real
 * leader and helper nodes (pa_node, the code of `privagg serve`) on 127.0.0.1,
 * and requests made by the test: valid ones and each refusal of each route.  The
 * helper's routes are also driven by an in-process leader of the same task and
 * keys (its requests recorded, replayed and edited).  docs/http.md lists the
 * same table; the expected statuses here are literals, never read from the
 * status table under test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "privagg/aggregator.h"
#include "privagg/common.h"
#include "privagg/collector.h"
#include "privagg/demo.h"
#include "privagg/http.h"
#include "privagg/messages.h"
#include "privagg/node.h"
#include "privagg/report.h"
#include "privagg/store.h"
#include "privagg/submit.h"

#define N_AGENCY 40

typedef struct {
    char zDir[64], zTaskHex[65], zL[64], zH[64];
    pa_node *pLeaderNode, *pHelperNode;
    pa_task *pTask;
    pa_keys leader, collector, aAgency[N_AGENCY];
    pa_http_client *pClient;
    uint16_t nHPort;
    /* the in-process leader driving the helper */
    pa_store *pStore;
    pa_aggregator *pAgg;
    int bFailContinue;
    uint8_t *pInit, *pCont, *pInitResp;
    size_t nInit, nCont, nInitResp;
} fx;

static uint64_t g_counts[270];

static char *path(fx *f, const char *zRel)
{
    static char z[4][256];
    static int i;
    i = (i + 1) % 4;
    snprintf(z[i], sizeof z[i], "%s/%s", f->zDir, zRel);
    return z[i];
}

/* One request; its status, and the problem type (after urn:privagg:error:) if any. */
static long req(fx *f, const char *zMethod, const char *zUrl, const uint8_t *pToken, const void *p,
                size_t n, char *zType, uint8_t **ppBody, size_t *pnBody)
{
    pa_http_reply r;
    int rc = pa_http_client_request(f->pClient, zMethod, zUrl, pToken, NULL, p, n, &r);
    if (rc != PA_OK)
        fail_msg("%s %s: %s: %s", zMethod, zUrl, pa_strerror(rc), pa_error_detail());
    zType[0] = '\0';
    if (r.content_type && strcmp(r.content_type, "application/problem+json") == 0) {
        const char *z = strstr((const char *)r.body, "\"urn:privagg:error:");
        if (z)
            sscanf(z + 19, "%63[a-z-]", zType);
    }
    long status = r.status;
    if (ppBody) {
        *ppBody = r.body;
        *pnBody = r.body_len;
        r.body = NULL;
    }
    pa_http_reply_free(&r);
    return status;
}

#define EXPECT(want, type, ...)                                                                    \
    do {                                                                                           \
        char zT_[64];                                                                              \
        long s_ = req(f, __VA_ARGS__, zT_, NULL, NULL);                                            \
        if (s_ != (want) || strcmp(zT_, (type)) != 0)                                              \
            fail_msg("line %d: got %ld %s, expected %d %s", __LINE__, s_, zT_, (want), (type));    \
    } while (0)

#pragma GCC diagnostic ignored "-Wformat-nonliteral"
static void url(char *z, size_t n, const char *zBase, const char *zFmt, const char *zArg)
{
    int k = snprintf(z, n, "%s", zBase);
    snprintf(z + k, n - (size_t)k, zFmt, zArg);
}

static void make_report(fx *f, size_t i, const char *zPeriod, uint8_t **pp, size_t *pn)
{
    assert_int_equal(pa_submit_report(f->pTask, &f->aAgency[i], zPeriod, g_counts, 270, pp, pn), PA_OK);
}

static int transport(void *pCtx, const char *zRoute, const uint8_t *pReq, size_t nReq, uint8_t **ppResp,
                     size_t *pnResp)
{
    fx *f = pCtx;
    char zUrl[128];
    if (strcmp(zRoute, "job/continue") == 0 && f->bFailContinue)
        return pa_fail(PA_EIO, "continue withheld (test)");
    snprintf(zUrl, sizeof zUrl, "%s/internal/%s", f->zH, zRoute);
    int rc = pa_http_client_call(f->pClient, "POST", zUrl, f->leader.aToken, NULL, pReq, nReq, ppResp, pnResp);
    uint8_t **ppKeep = strcmp(zRoute, "job/init") == 0 ? &f->pInit : strcmp(zRoute, "job/continue") == 0 ? &f->pCont : NULL;
    if (ppKeep) {
        free(*ppKeep);
        *ppKeep = malloc(nReq);
        memcpy(*ppKeep, pReq, nReq);
        *(ppKeep == &f->pInit ? &f->nInit : &f->nCont) = nReq;
        if (ppKeep == &f->pInit && rc == PA_OK) {
            free(f->pInitResp);
            f->pInitResp = malloc(*pnResp);
            memcpy(f->pInitResp, *ppResp, *pnResp);
            f->nInitResp = *pnResp;
        }
    }
    return rc;
}

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    pa_demo_setup_opts o;
    pa_http_client_opts co;
    *state = f;
    snprintf(f->zDir, sizeof f->zDir, "/tmp/pa_serve_statuses_XXXXXX");
    assert_non_null(mkdtemp(f->zDir));
    memset(&o, 0, sizeof o);
    o.bAgenciesInTask = 1; /* the agency list of the task, keys/agencies/ */
    o.zDir = f->zDir;
    o.zDataDir = PA_SOURCE_DIR "/data";
    o.nAgencies = N_AGENCY;
    o.nMinAgencies = 3;
    o.nLeaderPort = pa_demo_free_port();
    o.nHelperPort = pa_demo_free_port();
    o.rBudgetRho = 0.6;
    o.rRhoState = 0.5;
    o.rRhoPartition = 0.5;
    assert_int_equal(pa_demo_setup(&o), PA_OK);
    f->nHPort = o.nHelperPort;
    snprintf(f->zL, sizeof f->zL, "https://127.0.0.1:%u", (unsigned)o.nLeaderPort);
    snprintf(f->zH, sizeof f->zH, "https://127.0.0.1:%u", (unsigned)o.nHelperPort);
    assert_int_equal(pa_task_load(&f->pTask, path(f, "task.json")), PA_OK);
    sodium_bin2hex(f->zTaskHex, sizeof f->zTaskHex, f->pTask->aTaskId, 32);
    assert_int_equal(pa_keys_read_private(&f->leader, path(f, "keys/leader.key")), PA_OK);
    assert_int_equal(pa_keys_read_private(&f->collector, path(f, "keys/collector.key")), PA_OK);
    assert_int_equal(f->pTask->nAgency, N_AGENCY);
    for (size_t i = 0; i < N_AGENCY; i++) {
        char zRel[128];
        snprintf(zRel, sizeof zRel, "keys/agencies/%s.key", f->pTask->aAgency[i].zId);
        assert_int_equal(pa_keys_read_private(&f->aAgency[i], path(f, zRel)), PA_OK);
    }
    assert_int_equal(pa_node_open(&f->pHelperNode, path(f, "helper.json")), PA_OK);
    assert_int_equal(pa_node_start(f->pHelperNode), PA_OK);
    assert_int_equal(pa_node_open(&f->pLeaderNode, path(f, "leader.json")), PA_OK);
    assert_int_equal(pa_node_start(f->pLeaderNode), PA_OK);
    memset(&co, 0, sizeof co);
    co.ca_file = path(f, "tls/cert.pem");
    assert_int_equal(pa_http_client_new(&f->pClient, &co), PA_OK);
    for (size_t c = 0; c < 270; c++)
        g_counts[c] = c % 2;

    pa_aggregator_config c;
    memset(&c, 0, sizeof c);
    c.pTask = f->pTask;
    c.pKeys = &f->leader;
    assert_int_equal(pa_store_open(&f->pStore, ":memory:"), PA_OK);
    c.pStore = f->pStore;
    assert_int_equal(pa_aggregator_new(&f->pAgg, &c), PA_OK);
    assert_int_equal(pa_aggregator_fill_noise_pool(f->pAgg, NULL), PA_OK);
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    char zCmd[128];
    pa_http_client_free(&f->pClient);
    if (f->pLeaderNode)
        pa_node_close(f->pLeaderNode);
    if (f->pHelperNode)
        pa_node_close(f->pHelperNode);
    pa_aggregator_free(f->pAgg);
    pa_store_close(f->pStore);
    pa_task_free(f->pTask);
    pa_keys_wipe(&f->leader);
    pa_keys_wipe(&f->collector);
    for (size_t i = 0; i < N_AGENCY; i++)
        pa_keys_wipe(&f->aAgency[i]);
    free(f->pInit);
    free(f->pCont);
    free(f->pInitResp);
    snprintf(zCmd, sizeof zCmd, "rm -rf '%s'", f->zDir);
    if (system(zCmd) != 0)
        fprintf(stderr, "could not remove %s\n", f->zDir);
    free(f);
    return 0;
}

/* The agencies of each partition (by task index). */
static size_t agencies_of(fx *f, const char *zPartition)
{
    size_t n = 0;
    for (size_t i = 0; i < N_AGENCY; i++)
        n += strcmp(f->pTask->aAgency[i].zPartition, zPartition) == 0;
    return n;
}

/* A collection request for (period, partition), optionally with its id spoiled. */
static void coll_req(fx *f, const char *zPeriod, const char *zPartition, int bBadId, uint8_t aId[16],
                     uint8_t **pp, size_t *pn)
{
    pa_collect_req m;
    uint8_t *p;
    size_t n;
    if (pa_collector_request(f->pTask, zPeriod, zPartition, aId, &p, &n) != PA_OK)
        fail_msg("request %s/%s: %s", zPeriod, zPartition, pa_error_detail());
    if (bBadId) {
        assert_int_equal(pa_collect_req_decode(&m, p, n), PA_OK);
        m.aCollectionId[0] ^= 1;
        free(p);
        assert_int_equal(pa_collect_req_encode(&p, &n, &m), PA_OK);
    }
    *pp = p;
    *pn = n;
}

/* Poll a collection until it is no longer pending (at most 60 s); its status and type. */
static long poll_done(fx *f, const uint8_t aId[16], char *zType, uint8_t **ppBody, size_t *pnBody)
{
    char zUrl[256], zHex[33];
    sodium_bin2hex(zHex, sizeof zHex, aId, 16);
    snprintf(zUrl, sizeof zUrl, "%s/tasks/%s/collections/%s", f->zL, f->zTaskHex, zHex);
    for (int i = 0; i < 600; i++) {
        long s = req(f, "GET", zUrl, f->collector.aToken, NULL, 0, zType, ppBody, pnBody);
        if (s != 202)
            return s;
        free(*ppBody);
        usleep(100000);
    }
    fail_msg("collection still pending after 60 s");
    return 0;
}

static void test_every_status_of_every_route(void **state)
{
    fx *f = *state;
    char zUp[256], zColl[256], zUrl[256], zType[64];
    uint8_t *p, *q, aId[16];
    size_t n, nq;
    pa_report r;
    pa_report_sizes rs = {0, 0, 0};
    const char *P1 = "2025-06";
    rs.nPublicShare = pa_aggregator_sizes(f->pAgg)->nPublicShare;

    /* ---------------------------------------------------------- POST .../reports */
    url(zUp, sizeof zUp, f->zL, "/tasks/%s/reports", f->zTaskHex);
    make_report(f, 0, P1, &p, &n);
    EXPECT(201, "", "POST", zUp, NULL, p, n);
    EXPECT(409, "duplicate", "POST", zUp, NULL, p, n); /* replay */
    free(p);
    make_report(f, 0, P1, &p, &n);
    EXPECT(409, "duplicate", "POST", zUp, NULL, p, n); /* a second report of the batch */
    free(p);
    EXPECT(400, "invalid-message", "POST", zUp, NULL, "\x93\x01\x02", 3);
    make_report(f, 1, P1, &p, &n);
    p[n - 1] ^= 1;
    EXPECT(403, "forbidden", "POST", zUp, NULL, p, n); /* bad signature */
    p[n - 1] ^= 1;
    /* an unknown agency, a wrong task id (the decoded report re-encoded) */
    assert_int_equal(pa_report_decode(&r, p, n, &rs), PA_OK);
    strcpy(r.zAgencyId, "MO9999999");
    assert_int_equal(pa_report_encode(&q, &nq, &r), PA_OK);
    EXPECT(403, "forbidden", "POST", zUp, NULL, q, nq);
    free(q);
    assert_int_equal(pa_report_decode(&r, p, n, &rs), PA_OK);
    r.aTaskId[0] ^= 1;
    assert_int_equal(pa_report_encode(&q, &nq, &r), PA_OK);
    EXPECT(404, "not-found", "POST", zUp, NULL, q, nq);
    free(q);
    free(p);
    make_report(f, 1, "2099-01", &p, &n);
    EXPECT(409, "wrong-state", "POST", zUp, NULL, p, n); /* a future period */
    free(p);
    url(zUrl, sizeof zUrl, f->zL, "/tasks/%s/reports", "00");
    EXPECT(404, "not-found", "POST", zUrl, NULL, "x", 1); /* another task's route */
    EXPECT(405, "method-not-allowed", "GET", zUp, NULL, NULL, 0);
    uint8_t *pBig = calloc(1, 9u << 20);
    EXPECT(413, "payload-too-large", "POST", zUp, NULL, pBig, 9u << 20);
    free(pBig);
    /* sealed to a config id the leader does not hold (retired, or never its) */
    uint8_t iLeaderId = f->pTask->leader.iHpkeConfigId;
    f->pTask->leader.iHpkeConfigId = 77;
    make_report(f, 0, P1, &p, &n);
    f->pTask->leader.iHpkeConfigId = iLeaderId;
    EXPECT(403, "forbidden", "POST", zUp, NULL, p, n);
    free(p);

    /* ---------------------------------------------------------- GET /hpke_config (both) */
    char zCfg[128];
    url(zCfg, sizeof zCfg, f->zL, "/hpke_config", "");
    EXPECT(200, "", "GET", zCfg, NULL, NULL, 0);
    EXPECT(405, "method-not-allowed", "POST", zCfg, NULL, "x", 1);
    url(zCfg, sizeof zCfg, f->zH, "/hpke_config", "");
    EXPECT(200, "", "GET", zCfg, NULL, NULL, 0);
    /* every agency reports but for all but 2 of one partition (below the minimum of 3) */
    const char *zBig = NULL, *zSmall = NULL;
    for (size_t i = 0; i < N_AGENCY; i++)
        if (zBig == NULL && agencies_of(f, f->pTask->aAgency[i].zPartition) >= 3)
            zBig = f->pTask->aAgency[i].zPartition;
    assert_non_null(zBig);
    for (size_t i = 0; i < N_AGENCY && zSmall == NULL; i++)
        if (strcmp(f->pTask->aAgency[i].zPartition, zBig) != 0)
            zSmall = f->pTask->aAgency[i].zPartition;
    assert_non_null(zSmall);
    size_t nSmall = strcmp(f->pTask->aAgency[0].zPartition, zSmall) == 0;
    for (size_t i = 1; i < N_AGENCY; i++) {
        if (strcmp(f->pTask->aAgency[i].zPartition, zSmall) == 0 && nSmall++ >= 2)
            continue;
        make_report(f, i, P1, &p, &n);
        EXPECT(201, "", "POST", zUp, NULL, p, n);
        free(p);
    }

    /* ---------------------------------------------------------- POST .../collections */
    url(zColl, sizeof zColl, f->zL, "/tasks/%s/collections", f->zTaskHex);
    coll_req(f, P1, zSmall, 0, aId, &p, &n);
    EXPECT(401, "unauthorized", "POST", zColl, NULL, p, n);
    EXPECT(401, "unauthorized", "POST", zColl, f->leader.aToken, p, n);
    EXPECT(400, "invalid-message", "POST", zColl, f->collector.aToken, "\x93\x01\x02", 3);
    free(p);
    coll_req(f, P1, zSmall, 1, aId, &p, &n);
    EXPECT(400, "invalid-argument", "POST", zColl, f->collector.aToken, p, n); /* not the batch's id */
    free(p);
    coll_req(f, P1, "99999", 0, aId, &p, &n);
    EXPECT(404, "not-found", "POST", zColl, f->collector.aToken, p, n); /* unknown partition */
    free(p);
    EXPECT(405, "method-not-allowed", "GET", zColl, f->collector.aToken, NULL, 0);

    /* ---------------------------------------------------------- GET .../collections/{id} */
    /* below the minimum number of agencies: created, then refused */
    coll_req(f, P1, zSmall, 0, aId, &p, &n);
    EXPECT(201, "", "POST", zColl, f->collector.aToken, p, n);
    free(p);
    assert_int_equal(poll_done(f, aId, zType, &q, &nq), 422);
    assert_string_equal(zType, "out-of-range");
    free(q);
    /* a partition with enough agencies: 200 with both sealed shares */
    coll_req(f, P1, zBig, 0, aId, &p, &n);
    EXPECT(201, "", "POST", zColl, f->collector.aToken, p, n);
    EXPECT(201, "", "POST", zColl, f->collector.aToken, p, n); /* created again: the same job */
    free(p);
    assert_int_equal(poll_done(f, aId, zType, &q, &nq), 200);
    pa_collection coll;
    assert_int_equal(pa_collector_open(f->pTask, &f->collector, aId, P1, zBig, q, nq, &coll), PA_OK);
    assert_int_equal(coll.nAgency, agencies_of(f, zBig));
    pa_collection_free(&coll);
    free(q);
    /* the statewide batch of the same month: over the budget (0.5 + 0.5 > 0.6) */
    coll_req(f, P1, "state", 0, aId, &p, &n);
    EXPECT(201, "", "POST", zColl, f->collector.aToken, p, n);
    free(p);
    assert_int_equal(poll_done(f, aId, zType, &q, &nq), 422);
    assert_string_equal(zType, "privacy-budget-exceeded");
    free(q);
    char zHex[33];
    sodium_bin2hex(zHex, sizeof zHex, aId, 16);
    snprintf(zUrl, sizeof zUrl, "%s/tasks/%s/collections/%s", f->zL, f->zTaskHex, zHex);
    EXPECT(401, "unauthorized", "GET", zUrl, NULL, NULL, 0);
    EXPECT(405, "method-not-allowed", "POST", zUrl, f->collector.aToken, "x", 1);
    zHex[0] = zHex[0] == 'a' ? 'b' : 'a';
    snprintf(zUrl, sizeof zUrl, "%s/tasks/%s/collections/%s", f->zL, f->zTaskHex, zHex);
    EXPECT(404, "not-found", "GET", zUrl, f->collector.aToken, NULL, 0);
    snprintf(zUrl, sizeof zUrl, "%s/tasks/%s/collections/xyz", f->zL, f->zTaskHex);
    EXPECT(400, "invalid-message", "GET", zUrl, f->collector.aToken, NULL, 0);

    /* ---------------------------------------------------------- POST /internal/collect */
    char zHc[128];
    snprintf(zHc, sizeof zHc, "%s/internal/collect", f->zH);
    coll_req(f, P1, zBig, 0, aId, &p, &n);
    EXPECT(401, "unauthorized", "POST", zHc, NULL, p, n);
    EXPECT(401, "unauthorized", "POST", zHc, f->collector.aToken, p, n);
    EXPECT(200, "", "POST", zHc, f->leader.aToken, p, n); /* released before: the stored answer */
    free(p);
    EXPECT(400, "invalid-message", "POST", zHc, f->leader.aToken, "\x93\x01\x02", 3);
    coll_req(f, P1, zBig, 1, aId, &p, &n);
    EXPECT(400, "invalid-argument", "POST", zHc, f->leader.aToken, p, n);
    free(p);
    coll_req(f, P1, "99999", 0, aId, &p, &n);
    EXPECT(404, "not-found", "POST", zHc, f->leader.aToken, p, n);
    free(p);
    coll_req(f, P1, zSmall, 0, aId, &p, &n);
    EXPECT(422, "out-of-range", "POST", zHc, f->leader.aToken, p, n);
    free(p);
    coll_req(f, P1, "state", 0, aId, &p, &n);
    EXPECT(422, "privacy-budget-exceeded", "POST", zHc, f->leader.aToken, p, n);
    free(p);
    EXPECT(405, "method-not-allowed", "GET", zHc, f->leader.aToken, NULL, 0);

    /* ---------------------------------------------------------- /internal/job/init, continue */
    char zInit[128], zCont[128];
    pa_job_stats st;
    snprintf(zInit, sizeof zInit, "%s/internal/job/init", f->zH);
    snprintf(zCont, sizeof zCont, "%s/internal/job/continue", f->zH);
    for (size_t i = 0; i < 3; i++) {
        make_report(f, i, "2025-05", &p, &n);
        assert_int_equal(pa_leader_upload(f->pAgg, p, n), PA_OK);
        free(p);
    }
    assert_int_equal(pa_leader_run_jobs(f->pAgg, transport, f, 256, &st), PA_OK); /* 200, 200 */
    assert_int_equal(st.nAccepted, 3);
    assert_non_null(f->pInit);
    assert_non_null(f->pCont);
    /* a retried step gets the stored answer, byte for byte */
    assert_int_equal(req(f, "POST", zInit, f->leader.aToken, f->pInit, f->nInit, zType, &q, &nq), 200);
    assert_int_equal(nq, f->nInitResp);
    assert_memory_equal(q, f->pInitResp, nq);
    free(q);
    EXPECT(200, "", "POST", zCont, f->leader.aToken, f->pCont, f->nCont);
    EXPECT(401, "unauthorized", "POST", zInit, NULL, f->pInit, f->nInit);
    EXPECT(401, "unauthorized", "POST", zCont, f->collector.aToken, f->pCont, f->nCont);
    EXPECT(400, "invalid-message", "POST", zInit, f->leader.aToken, "\x93\x01\x02", 3);
    EXPECT(400, "invalid-message", "POST", zCont, f->leader.aToken, "\x93\x01\x02", 3);
    EXPECT(405, "method-not-allowed", "GET", zInit, f->leader.aToken, NULL, 0);
    /* the same job id with other bytes */
    const pa_msg_sizes *sz = pa_aggregator_sizes(f->pAgg);
    pa_job_req jr;
    assert_int_equal(pa_job_req_decode(&jr, f->pInit, f->nInit, sz), PA_OK);
    jr.aItem[0].aSignature[0] ^= 1;
    assert_int_equal(pa_job_req_encode(&q, &nq, &jr, sz), PA_OK);
    EXPECT(409, "duplicate", "POST", zInit, f->leader.aToken, q, nq);
    free(q);
    jr.aItem[0].aSignature[0] ^= 1;
    jr.aTaskId[0] ^= 1;
    assert_int_equal(pa_job_req_encode(&q, &nq, &jr, sz), PA_OK);
    EXPECT(404, "not-found", "POST", zInit, f->leader.aToken, q, nq); /* another task */
    free(q);
    pa_job_req_free(&jr);
    /* a continue step for a job the helper never saw */
    pa_job_step js;
    assert_int_equal(pa_job_step_decode(&js, PA_STEP_CONTINUE, f->pCont, f->nCont, sz), PA_OK);
    js.aJobId[0] ^= 1;
    assert_int_equal(pa_job_step_encode(&q, &nq, &js, sz), PA_OK);
    EXPECT(404, "not-found", "POST", zCont, f->leader.aToken, q, nq);
    free(q);
    js.aJobId[0] ^= 1;
    js.aItem[0].eReject = js.aItem[0].eReject == PA_REJECT_NONE ? PA_REJECT_PROOF : PA_REJECT_NONE;
    assert_int_equal(pa_job_step_encode(&q, &nq, &js, sz), PA_OK);
    EXPECT(409, "duplicate", "POST", zCont, f->leader.aToken, q, nq); /* same job, other bytes */
    free(q);
    pa_job_step_free(&js);
    /* reports still being aggregated at the helper: its collect is refused */
    for (size_t i = 0; i < 3; i++) {
        make_report(f, i, "2025-04", &p, &n);
        assert_int_equal(pa_leader_upload(f->pAgg, p, n), PA_OK);
        free(p);
    }
    f->bFailContinue = 1;
    assert_int_equal(pa_leader_run_jobs(f->pAgg, transport, f, 256, &st), PA_EIO);
    coll_req(f, "2025-04", "state", 0, aId, &p, &n);
    EXPECT(409, "wrong-state", "POST", zHc, f->leader.aToken, p, n);
    free(p);

    /* ---------------------------------------------------------- 202 while pending */
    pa_node_close(f->pHelperNode); /* the leader cannot aggregate: its reports wait */
    f->pHelperNode = NULL;
    for (size_t i = 0; i < 3; i++) {
        make_report(f, i, "2025-03", &p, &n);
        EXPECT(201, "", "POST", zUp, NULL, p, n);
        free(p);
    }
    coll_req(f, "2025-03", "state", 0, aId, &p, &n);
    EXPECT(201, "", "POST", zColl, f->collector.aToken, p, n);
    free(p);
    sodium_bin2hex(zHex, sizeof zHex, aId, 16);
    snprintf(zUrl, sizeof zUrl, "%s/tasks/%s/collections/%s", f->zL, f->zTaskHex, zHex);
    pa_http_reply rr;
    for (int i = 0; i < 3; i++) { /* pending, and stays so */
        assert_int_equal(pa_http_client_request(f->pClient, "GET", zUrl, f->collector.aToken, NULL, NULL, 0, &rr),
                         PA_OK);
        assert_int_equal(rr.status, 202);
        assert_non_null(strstr((const char *)rr.body, "pending"));
        pa_http_reply_free(&rr);
        usleep(200000);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_every_status_of_every_route, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
