/*
 * privagg store — an operator's look into an aggregator's store (thin over
 * pa_store_stats_read in engine/store/stats.c):
 *   privagg store stats --db STORE [--json]
 * sizes, rows by state, the oldest batch not released yet, the noise pool and
 * the ledger's count and head.  The store is opened read-only, so it may be
 * read while the server runs.
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli/cli.h"
#include "privagg/common.h"
#include "privagg/retention.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: privagg store stats --db STORE [--json]\n"
            "\n"
            "Prints what an aggregator's store holds: its size (pages, free pages, the\n"
            "WAL), reports by state (pending, aggregating, accepted, rejected,\n"
            "replaced), aggregation jobs, batch sums, collections and collection jobs\n"
            "by state, the noise pool, the batches that have reports but no release\n"
            "of their own (the oldest named, with the age of its oldest report), and\n"
            "the privacy ledger's entry count and head hash (the anchor to record after\n"
            "a backup; `privagg ledger verify` checks the chain).  Reports of batches\n"
            "released longer ago than the node config's retention.reports_days are\n"
            "deleted by the server (docs/operations.md, \"Retention\").  The store is\n"
            "opened read-only: it may be read while the server runs.\n"
            "  --db STORE   the store: a SQLite file or a postgresql:// URL (the node\n"
            "               config's \"store\")\n"
            "  --json       one JSON object instead of text\n"
            "\n"
            "exit status:\n"
            "  0  printed\n"
            "  1  the store cannot be opened or read\n"
            "  2  bad usage\n"
            "\n"
            "example:\n"
            "  privagg store stats --db /var/lib/privagg/leader/store.db --json\n");
}

static double mib(int64_t n)
{
    return (double)n / (1024.0 * 1024.0);
}

static void print_text(const char *zDb, const pa_store_stats *s, const char *zHead, int64_t tNow)
{
    printf("store %s (schema %d)\n", zDb, s->iSchema);
    printf("  size             %.1f MiB (%lld pages of %lld bytes, %lld free), WAL %.1f MiB\n",
           mib(s->nPages * s->nPageSize), (long long)s->nPages, (long long)s->nPageSize,
           (long long)s->nFreePages, mib(s->nWalBytes));
    printf("  reports          pending %lld, aggregating %lld, accepted %lld, rejected %lld, replaced %lld\n",
           (long long)s->nPending, (long long)s->nAggregating, (long long)s->nAccepted, (long long)s->nRejected,
           (long long)s->nReplaced);
    printf("  report data      %lld\n", (long long)s->nReportData);
    printf("  jobs             active %lld, finished %lld\n", (long long)s->nJobsActive,
           (long long)s->nJobsFinished);
    printf("  batches          %lld exact sums, %lld with noise drawn, noise pool %lld\n", (long long)s->nBatches,
           (long long)s->nBatchNoise, (long long)s->nNoisePool);
    printf("  collections      %lld released\n", (long long)s->nCollections);
    printf("  collection jobs  pending %lld, released %lld, failed %lld\n", (long long)s->nCollJobsPending,
           (long long)s->nCollJobsReleased, (long long)s->nCollJobsFailed);
    if (s->bHaveOldest)
        printf("  unreleased       %lld batches; oldest %s/%s: %lld reports, the first received %.1f days ago\n",
               (long long)s->nUnreleasedBatches, s->zOldestPeriod, s->zOldestPartition,
               (long long)s->nOldestReports, (double)(tNow - s->tOldestReceived) / 86400.0);
    else
        printf("  unreleased       none\n");
    printf("  ledger           %lld entries, head %s\n", (long long)s->nLedger, zHead);
}

/* A JSON string of text read from the store (escaped: the file may have been
 * edited by hand). */
static void json_str(const char *z)
{
    putchar('"');
    for (const unsigned char *p = (const unsigned char *)z; *p; p++) {
        if (*p == '"' || *p == '\\')
            printf("\\%c", *p);
        else if (*p < 0x20)
            printf("\\u%04x", *p);
        else
            putchar(*p);
    }
    putchar('"');
}

static void print_json(const pa_store_stats *s, const char *zHead, int64_t tNow)
{
    printf("{\"schema\":%d,\"page_size\":%lld,\"pages\":%lld,\"free_pages\":%lld,\"file_bytes\":%lld,"
           "\"wal_bytes\":%lld,",
           s->iSchema, (long long)s->nPageSize, (long long)s->nPages, (long long)s->nFreePages,
           (long long)s->nFileBytes, (long long)s->nWalBytes);
    printf("\"reports\":{\"pending\":%lld,\"aggregating\":%lld,\"accepted\":%lld,\"rejected\":%lld,"
           "\"replaced\":%lld},\"report_data\":%lld,",
           (long long)s->nPending, (long long)s->nAggregating, (long long)s->nAccepted, (long long)s->nRejected,
           (long long)s->nReplaced, (long long)s->nReportData);
    printf("\"jobs\":{\"active\":%lld,\"finished\":%lld},\"batches\":%lld,\"batch_noise\":%lld,"
           "\"noise_pool\":%lld,\"collections\":%lld,",
           (long long)s->nJobsActive, (long long)s->nJobsFinished, (long long)s->nBatches,
           (long long)s->nBatchNoise, (long long)s->nNoisePool, (long long)s->nCollections);
    printf("\"collection_jobs\":{\"pending\":%lld,\"released\":%lld,\"failed\":%lld},",
           (long long)s->nCollJobsPending, (long long)s->nCollJobsReleased, (long long)s->nCollJobsFailed);
    printf("\"unreleased_batches\":%lld,", (long long)s->nUnreleasedBatches);
    if (s->bHaveOldest) {
        printf("\"oldest_unreleased\":{\"period\":");
        json_str(s->zOldestPeriod);
        printf(",\"partition\":");
        json_str(s->zOldestPartition);
        printf(",\"reports\":%lld,\"first_received\":%lld,\"age_seconds\":%lld},", (long long)s->nOldestReports,
               (long long)s->tOldestReceived, (long long)(tNow - s->tOldestReceived));
    } else
        printf("\"oldest_unreleased\":null,");
    printf("\"ledger\":{\"count\":%lld,\"head\":\"%s\"}}\n", (long long)s->nLedger, zHead);
}

int pa_cli_store(int argc, char **argv)
{
    pa_cli_opt o[] = {{"--db", 0, NULL, 0, NULL}, {"--json", 1, NULL, 0, NULL}, {"--help", 1, NULL, 0, NULL}};
    size_t n = sizeof o / sizeof o[0];
    char *azArg[64], zName[] = "store stats";
    pa_store *pStore = NULL;
    struct stat sb;
    pa_store_stats st;
    char zHead[65];
    int rc;

    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        usage(stdout);
        return 0;
    }
    if (argc < 2 || strcmp(argv[1], "stats") != 0) {
        fprintf(stderr, "privagg store: %s (see --help)\n",
                argc < 2 ? "missing subcommand: stats" : "unknown subcommand; the only one is stats");
        return 2;
    }
    if (argc - 1 > (int)(sizeof azArg / sizeof azArg[0])) {
        fprintf(stderr, "privagg store: too many arguments\n");
        return 2;
    }
    azArg[0] = zName;
    for (int i = 2; i < argc; i++)
        azArg[i - 1] = argv[i];
    if ((rc = pa_cli_begin(argc - 1, azArg, o, n, usage)) >= 0)
        return rc;
    const char *zDb = pa_cli_value(o, n, "--db");
    if (zDb == NULL) {
        fprintf(stderr, "privagg store stats: --db is required\n");
        return 2;
    }
    char zShown[600];
    pa_store_display_name(zDb, zShown, sizeof zShown); /* a URL's password never printed */
    /* read-only: never create a store where there was none */
    if (!pa_store_is_postgres(zDb) && (stat(zDb, &sb) != 0 || !S_ISREG(sb.st_mode))) {
        fprintf(stderr, "privagg store stats: %s: no such store file\n", zDb);
        return 1;
    }
    if (pa_store_open_readonly(&pStore, zDb) != PA_OK) {
        fprintf(stderr, "privagg store stats: cannot open %s: %s\n", zShown, pa_error_detail());
        return 1;
    }
    rc = pa_store_stats_read(pStore, zDb, &st);
    pa_store_close(pStore);
    if (rc != PA_OK) {
        pa_cli_report("store stats", rc);
        return 1;
    }
    sodium_bin2hex(zHead, sizeof zHead, st.aLedgerHead, 32);
    if (pa_cli_seen(o, n, "--json"))
        print_json(&st, zHead, (int64_t)time(NULL));
    else
        print_text(zShown, &st, zHead, (int64_t)time(NULL));
    return 0;
}
