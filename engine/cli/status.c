/*
 * privagg status — an operator's view of one aggregator (thin over
 * pa_status_read and pa_status_probe, include/privagg/status.h):
 *   privagg status --config NODE.json [--json] [--worst N] [--ca CERT.pem] [--no-peer]
 * the task, batches by state, pending collections, the privacy budget spent and
 * left per lattice cell (the worst cells and totals; every cell with --json),
 * the peer's reachability, the store's size and the HPKE keys held by state.
 * The store is opened read-only, so status may run beside the server.
 */
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli/cli.h"
#include "privagg/common.h"
#include "privagg/keys.h"
#include "privagg/status.h"
#include "privagg/task.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: privagg status --config NODE.json [--json] [--worst N] [--ca CERT.pem] [--no-peer]\n"
            "\n"
            "Prints what an aggregator holds and owes, from its node config (the file\n"
            "`privagg serve --config` reads): the task; its batches (period x partition)\n"
            "by state: open (reports wait to be aggregated), aggregated (ready, not\n"
            "released), released; the statewide batches the same way; collection jobs\n"
            "still pending; the privacy budget per lattice cell (period x partition):\n"
            "the cells counted, those with spending, those where another partition\n"
            "release no longer fits, the total spent and the N most-charged cells; the\n"
            "peer's reachability (the leader asks the helper's GET /health, the helper\n"
            "the leader's); the store's size; the HPKE keys of its key file by state\n"
            "(current, new: staged ahead, retiring: with its expiry; docs/keys.md), as\n"
            "the node reads them at its next start.  The store is opened read-only: status\n"
            "may run while the server does (as the server's user: the config is a\n"
            "private file).\n"
            "  --config FILE  the node config\n"
            "  --json         one JSON object instead of text, with every batch and every\n"
            "                 lattice cell\n"
            "  --worst N      the most-charged cells to list (default 5)\n"
            "  --ca CERT.pem  trust anchor for the peer's certificate (default: the\n"
            "                 config's peer_ca, else the system's)\n"
            "  --no-peer      do not contact the peer\n"
            "\n"
            "exit status:\n"
            "  0  printed, and the peer answered (or --no-peer)\n"
            "  1  the config, task or store cannot be read\n"
            "  2  bad usage\n"
            "  3  printed, but the peer did not answer\n"
            "\n"
            "example:\n"
            "  privagg status --config /etc/privagg/leader.json\n"
            "  privagg status --config /etc/privagg/leader.json --json | jq .budget\n");
}

static double mib(int64_t n)
{
    return (double)n / (1024.0 * 1024.0);
}

typedef struct {
    const char *zRole, *zPeerRole, *zPeerUrl;
    int bProbed, rcPeer;
    int64_t nPeerMs;
    char zPeerError[512];
    /* the HPKE keys of the key file (ids and states only: the secrets are wiped
     * as soon as it is read), or why it could not be read */
    size_t nKey;
    struct {
        unsigned iId;
        pa_hpke_key_state eState;
        int64_t tNotAfter;
    } aKey[PA_KEYS_MAX_HPKE];
    char zKeyError[512];
} peer_result;

static void read_keys(peer_result *pr, const char *zKey)
{
    pa_keys k;
    pa_hpke_key_ref a[PA_KEYS_MAX_HPKE];
    int rc = pa_keys_read_private(&k, zKey);
    if (rc != PA_OK) {
        snprintf(pr->zKeyError, sizeof pr->zKeyError, "%s", pa_error_detail());
        return;
    }
    pr->nKey = pa_keys_hpke_list(&k, a);
    for (size_t i = 0; i < pr->nKey; i++) {
        pr->aKey[i].iId = a[i].iConfigId;
        pr->aKey[i].eState = a[i].eState;
        pr->aKey[i].tNotAfter = a[i].tNotAfter;
    }
    pa_keys_wipe(&k);
}

static void print_text(const pa_status_target *g, const pa_task *t, const pa_status *s, const peer_result *pr,
                       size_t nWorst)
{
    char zId[65];
    const pa_store_stats *st = &s->store;
    size_t aiWorst[64];

    sodium_bin2hex(zId, sizeof zId, t->aTaskId, 32);
    printf("%s of task %s\n", pr->zRole, t->zName);
    printf("  task id      %s\n", zId);
    printf("  store        %s: %.1f MiB, WAL %.1f MiB (schema %d)\n", g->zStore, mib(st->nPages * st->nPageSize),
           mib(st->nWalBytes), st->iSchema);
    if (!pr->bProbed)
        printf("  peer         %s %s: not asked (--no-peer)\n", pr->zPeerRole, pr->zPeerUrl);
    else if (pr->rcPeer == PA_OK)
        printf("  peer         %s %s: reachable (GET /health 200 in %lld ms)\n", pr->zPeerRole, pr->zPeerUrl,
               (long long)pr->nPeerMs);
    else
        printf("  peer         %s %s: UNREACHABLE: %s\n", pr->zPeerRole, pr->zPeerUrl, pr->zPeerError);
    if (pr->nKey == 0) {
        printf("  hpke keys    not read: %s\n", pr->zKeyError);
    } else {
        printf("  hpke keys   ");
        for (size_t i = 0; i < pr->nKey; i++) {
            char zWhen[48];
            printf("%s %s %u", i ? "," : "", pa_hpke_key_state_name(pr->aKey[i].eState), pr->aKey[i].iId);
            if (pr->aKey[i].tNotAfter != 0) {
                pa_cli_utc(zWhen, sizeof zWhen, pr->aKey[i].tNotAfter);
                printf(" (%s %s)", pr->aKey[i].tNotAfter <= (int64_t)time(NULL) ? "expired" : "expires", zWhen);
            }
        }
        printf("\n");
    }
    printf("  reports      pending %lld, aggregating %lld, accepted %lld, rejected %lld\n", (long long)st->nPending,
           (long long)st->nAggregating, (long long)st->nAccepted, (long long)st->nRejected);
    printf("  batches      partitions: open %lld, aggregated %lld, released %lld\n",
           (long long)s->anPartition[PA_BATCH_OPEN], (long long)s->anPartition[PA_BATCH_AGGREGATED],
           (long long)s->anPartition[PA_BATCH_RELEASED]);
    printf("               statewide:  open %lld, aggregated %lld, released %lld\n",
           (long long)s->anStatewide[PA_BATCH_OPEN], (long long)s->anStatewide[PA_BATCH_AGGREGATED],
           (long long)s->anStatewide[PA_BATCH_RELEASED]);
    if (g->bLeader)
        printf("  collections  pending %lld, released %lld, refused %lld\n", (long long)st->nCollJobsPending,
               (long long)st->nCollJobsReleased, (long long)st->nCollJobsFailed);
    else
        printf("  collections  released %lld (the leader keeps the collection jobs)\n", (long long)st->nCollections);
    if (s->rBudget <= 0) {
        printf("  budget       none: dp.mechanism is none (tests only)\n");
        return;
    }
    size_t nPeriod = t->nPartition ? s->nCell / t->nPartition : 0;
    printf("  budget       %s %g per record = per lattice cell (period x partition); a partition\n"
           "               release charges %g\n",
           s->zUnit, s->rBudget, s->rPartitionRelease);
    printf("               %zu cells (%zu periods x %zu partitions): %zu with spending, %zu where\n"
           "               another partition release does not fit\n",
           s->nCell, nPeriod, t->nPartition, s->nSpent, s->nExhausted);
    printf("               spent: most %g (left %g), total %g over all cells\n", s->rSpentMax, s->rLeftMin,
           s->rSpentTotal);
    if (nWorst > sizeof aiWorst / sizeof aiWorst[0])
        nWorst = sizeof aiWorst / sizeof aiWorst[0];
    size_t nW = pa_status_worst(s, aiWorst, nWorst), nAtMax = 0, nShown = 0;
    for (size_t i = 0; i < nW && s->aCell[aiWorst[i]].rSpent > 0; i++, nShown++)
        printf("               %s %s %-12s spent %-8g left %g\n", i == 0 ? "most charged:" : "             ",
               s->aCell[aiWorst[i]].zPeriod, s->aCell[aiWorst[i]].zPartition, s->aCell[aiWorst[i]].rSpent,
               s->aCell[aiWorst[i]].rLeft);
    for (size_t i = 0; i < s->nCell; i++)
        nAtMax += s->rSpentMax > 0 && s->aCell[i].rSpent == s->rSpentMax;
    if (nAtMax > nShown && nShown > 0)
        printf("               (%zu cells at the most; --json lists every cell)\n", nAtMax);
}

static json_t *states_json(const int64_t an[3])
{
    return json_pack("{s:I, s:I, s:I}", "open", (json_int_t)an[0], "aggregated", (json_int_t)an[1], "released",
                     (json_int_t)an[2]);
}

static int print_json(const pa_status_target *g, const pa_task *t, const pa_status *s, const peer_result *pr,
                      size_t nWorst)
{
    char zId[65];
    const pa_store_stats *st = &s->store;
    size_t aiWorst[64];
    json_t *o = json_object(), *aB = json_array(), *aC = json_array(), *aW = json_array(), *pPeer;

    sodium_bin2hex(zId, sizeof zId, t->aTaskId, 32);
    json_object_set_new(o, "role", json_string(pr->zRole));
    json_object_set_new(o, "task", json_pack("{s:s, s:s, s:s}", "name", t->zName, "id", zId, "file", g->zTask));
    json_object_set_new(o, "store", json_pack("{s:s, s:i, s:I, s:I, s:I}", "path", g->zStore, "schema", st->iSchema,
                                              "bytes", (json_int_t)(st->nPages * st->nPageSize), "file_bytes",
                                              (json_int_t)st->nFileBytes, "wal_bytes", (json_int_t)st->nWalBytes));
    pPeer = json_pack("{s:s, s:s, s:b}", "role", pr->zPeerRole, "url", pr->zPeerUrl, "asked", pr->bProbed);
    if (pr->bProbed) {
        json_object_set_new(pPeer, "reachable", json_boolean(pr->rcPeer == PA_OK));
        json_object_set_new(pPeer, "ms", json_integer(pr->nPeerMs));
        if (pr->rcPeer != PA_OK)
            json_object_set_new(pPeer, "error", json_string(pr->zPeerError));
    }
    json_object_set_new(o, "peer", pPeer);
    if (pr->nKey == 0) {
        json_object_set_new(o, "hpke_keys", json_null());
        json_object_set_new(o, "hpke_keys_error", json_string(pr->zKeyError));
    } else {
        json_t *aK = json_array();
        for (size_t i = 0; i < pr->nKey; i++) {
            json_t *e = json_pack("{s:i, s:s}", "config_id", (int)pr->aKey[i].iId, "state",
                                  pa_hpke_key_state_name(pr->aKey[i].eState));
            if (pr->aKey[i].tNotAfter != 0)
                json_object_set_new(e, "not_after", json_integer(pr->aKey[i].tNotAfter));
            json_array_append_new(aK, e);
        }
        json_object_set_new(o, "hpke_keys", aK);
    }
    json_object_set_new(o, "reports", json_pack("{s:I, s:I, s:I, s:I, s:I}", "pending", (json_int_t)st->nPending,
                                                "aggregating", (json_int_t)st->nAggregating, "accepted",
                                                (json_int_t)st->nAccepted, "rejected", (json_int_t)st->nRejected,
                                                "replaced", (json_int_t)st->nReplaced));
    for (size_t i = 0; i < s->nBatch; i++)
        json_array_append_new(aB, json_pack("{s:s, s:s, s:s, s:I, s:I}", "period", s->aBatch[i].zPeriod, "partition",
                                            s->aBatch[i].zPartition, "state", pa_batch_state_name(s->aBatch[i].eState),
                                            "waiting", (json_int_t)s->aBatch[i].nWaiting, "aggregated",
                                            (json_int_t)s->aBatch[i].nAggregated));
    json_object_set_new(o, "batches", json_pack("{s:o, s:o, s:o}", "partitions", states_json(s->anPartition),
                                                "statewide", states_json(s->anStatewide), "list", aB));
    json_object_set_new(o, "collections", json_pack("{s:I, s:I, s:I, s:I}", "pending", (json_int_t)st->nCollJobsPending,
                                                    "released_jobs", (json_int_t)st->nCollJobsReleased, "refused",
                                                    (json_int_t)st->nCollJobsFailed, "releases",
                                                    (json_int_t)st->nCollections));
    for (size_t i = 0; i < s->nCell; i++)
        json_array_append_new(aC, json_pack("{s:s, s:s, s:f, s:f}", "period", s->aCell[i].zPeriod, "partition",
                                            s->aCell[i].zPartition, "spent", s->aCell[i].rSpent, "left",
                                            s->aCell[i].rLeft));
    if (nWorst > sizeof aiWorst / sizeof aiWorst[0])
        nWorst = sizeof aiWorst / sizeof aiWorst[0];
    size_t nW = pa_status_worst(s, aiWorst, nWorst);
    for (size_t i = 0; i < nW; i++)
        json_array_append_new(aW, json_pack("{s:s, s:s, s:f, s:f}", "period", s->aCell[aiWorst[i]].zPeriod,
                                            "partition", s->aCell[aiWorst[i]].zPartition, "spent",
                                            s->aCell[aiWorst[i]].rSpent, "left", s->aCell[aiWorst[i]].rLeft));
    json_object_set_new(o, "budget",
                        json_pack("{s:s, s:f, s:f, s:I, s:I, s:I, s:f, s:f, s:f, s:o, s:o}", "unit", s->zUnit,
                                  "per_cell", s->rBudget, "partition_release", s->rPartitionRelease, "cells",
                                  (json_int_t)s->nCell, "cells_spent", (json_int_t)s->nSpent, "cells_exhausted",
                                  (json_int_t)s->nExhausted, "spent_total", s->rSpentTotal, "spent_max",
                                  s->rSpentMax, "left_min", s->rLeftMin, "worst", aW, "cells_list", aC));
    char *z = json_dumps(o, JSON_INDENT(2) | JSON_REAL_PRECISION(12));
    json_decref(o);
    if (z == NULL)
        return pa_fail(PA_ENOMEM, "status: out of memory");
    printf("%s\n", z);
    free(z);
    return PA_OK;
}

int pa_cli_status(int argc, char **argv)
{
    pa_cli_opt o[] = {{"--config", 0, NULL, 0, NULL}, {"--json", 1, NULL, 0, NULL},    {"--worst", 0, NULL, 0, NULL},
                      {"--ca", 0, NULL, 0, NULL},     {"--no-peer", 1, NULL, 0, NULL}, {"--help", 1, NULL, 0, NULL}};
    size_t n = sizeof o / sizeof o[0];
    unsigned long long nWorst = 5;
    pa_status_target g;
    pa_task *t = NULL;
    pa_store *pStore = NULL;
    pa_status s;
    peer_result pr;
    struct stat sb;
    int rc;

    if ((rc = pa_cli_begin(argc, argv, o, n, usage)) >= 0)
        return rc;
    if (pa_cli_value(o, n, "--config") == NULL) {
        fprintf(stderr, "privagg status: --config NODE.json is required\n");
        return 2;
    }
    if (pa_cli_value(o, n, "--worst") && pa_cli_uint("status", "--worst", pa_cli_value(o, n, "--worst"), 0, 64, &nWorst))
        return 2;
    memset(&s, 0, sizeof s);
    rc = pa_status_target_load(&g, pa_cli_value(o, n, "--config"));
    if (rc == PA_OK)
        rc = pa_task_load(&t, g.zTask);
    /* read-only: never create a store where there was none */
    if (rc == PA_OK && !pa_store_is_postgres(g.zStore) && (stat(g.zStore, &sb) != 0 || !S_ISREG(sb.st_mode)))
        rc = pa_fail(PA_ENOTFOUND, "store %s: no such file (has the node run yet?)", g.zStore);
    if (rc == PA_OK)
        rc = pa_store_open_readonly(&pStore, g.zStore);
    if (rc == PA_OK)
        rc = pa_status_read(pStore, t, g.zStore, &s);
    if (pStore != NULL)
        pa_store_close(pStore);
    if (rc == PA_OK) { /* printed without a URL's password */
        char zShown[sizeof g.zStore];
        pa_store_display_name(g.zStore, zShown, sizeof zShown);
        memcpy(g.zStore, zShown, sizeof zShown);
    }
    if (rc != PA_OK) {
        pa_cli_report("status", rc);
        pa_task_free(t);
        return 1;
    }
    memset(&pr, 0, sizeof pr);
    pr.zRole = g.bLeader ? "leader" : "helper";
    pr.zPeerRole = g.bLeader ? "helper" : "leader";
    pr.zPeerUrl = g.bLeader ? t->helper.zEndpoint : t->leader.zEndpoint;
    if (pr.zPeerUrl == NULL)
        pr.zPeerUrl = "";
    read_keys(&pr, g.zKey); /* not a failure of status: said in its place */
    if (!pa_cli_seen(o, n, "--no-peer")) {
        const char *zCa = pa_cli_value(o, n, "--ca") ? pa_cli_value(o, n, "--ca") : g.zPeerCa[0] ? g.zPeerCa : NULL;
        pr.bProbed = 1;
        pr.rcPeer = pa_status_probe(pr.zPeerUrl, zCa, &pr.nPeerMs);
        if (pr.rcPeer != PA_OK)
            snprintf(pr.zPeerError, sizeof pr.zPeerError, "%s", pa_error_detail());
    }
    rc = PA_OK;
    if (pa_cli_seen(o, n, "--json"))
        rc = print_json(&g, t, &s, &pr, (size_t)nWorst);
    else
        print_text(&g, t, &s, &pr, (size_t)nWorst);
    pa_status_free(&s);
    pa_task_free(t);
    if (rc != PA_OK) {
        pa_cli_report("status", rc);
        return 1;
    }
    return pr.bProbed && pr.rcPeer != PA_OK ? 3 : 0;
}
