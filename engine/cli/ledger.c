/*
 * privagg ledger — the privacy ledger of an aggregator's store (engine/ledger/ledger.c):
 *   privagg ledger export --db STORE [--out FILE]       ledger as JSON
 *   privagg ledger verify (--db STORE | --file LEDGER.json) [--anchor INDEX:HASH] [--json]
 * verify exits 0 if the hash chain, sequence numbers, running totals and budgets
 * hold (and the entry at INDEX has HASH, if an anchor is given; entries appended
 * after it are fine), 1 if tampering is detected, 2 on bad usage or an unreadable
 * input.  The store is opened read-only; an exported file is verified in memory.
 */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "privagg/common.h"
#include "privagg/ledger.h"

static const char k_usage[] =
    "usage: privagg ledger export --db STORE [--out FILE]\n"
    "       privagg ledger verify (--db STORE | --file LEDGER.json) [--anchor INDEX:HASH] [--json]\n"
    "export writes the privacy ledger of an aggregator's store (a SQLite file or a\n"
    "postgresql:// URL, the node config's \"store\") as JSON (stdout\n"
    "by default).  verify recomputes its hash chain, totals and budgets and exits 1 if\n"
    "an entry was modified, removed or reordered; it reads the store (--db) or an\n"
    "exported ledger (--file, e.g. from a release manifest's auditor: no store needed).\n"
    "--anchor INDEX:HASH is an entry published earlier (a release manifest's ledger\n"
    "head): entry INDEX must still have HASH (catches removal of the last entries;\n"
    "entries appended since are fine).  --head HEX [--count N] is the older spelling\n"
    "(HASH of entry N, or of any entry).\n"
    "\n"
    "exit status:\n"
    "  0  exported, or verified\n"
    "  1  verify: the ledger does not verify (an entry modified, removed or\n"
    "     reordered, a total over its budget, the anchor not found); export: the\n"
    "     output could not be written\n"
    "  2  bad usage, or an input that is not a store or an exported ledger\n"
    "\n"
    "examples:\n"
    "  privagg ledger export --db leader.db --out leader-ledger.json\n"
    "  privagg ledger verify --file leader-ledger.json --anchor 24:3f0c...e1\n";

static int bad(const char *zMsg, const char *zArg)
{
    fprintf(stderr, "privagg ledger: %s%s%s\nRun 'privagg ledger --help' for usage.\n", zMsg,
            zArg ? ": " : "", zArg ? zArg : "");
    return 2;
}

/* Open an aggregator's store read-only and make sure it holds a ledger: an
 * empty file, another SQLite file or a folder get a message that says which
 * (SQLite alone says "no such table" or "unable to open database file").
 * Returns 0, or the exit status 2 after the message. */
static int open_ledger_store(const char *zDb, pa_store **ppStore)
{
    struct stat st;
    int bHas = 0;

    *ppStore = NULL;
    if (pa_store_is_postgres(zDb)) {
        char zName[600];
        int rc = pa_store_open_readonly(ppStore, zDb);
        if (rc == PA_OK)
            rc = pa_store_ledger_present(*ppStore, &bHas);
        if (rc != PA_OK || !bHas) {
            pa_store_display_name(zDb, zName, sizeof zName); /* a URL's password never printed */
            fprintf(stderr, "privagg ledger: %s: %s\n", zName,
                    rc != PA_OK ? pa_error_detail() : "a store without a privacy ledger");
            pa_store_close(*ppStore);
            *ppStore = NULL;
            return 2;
        }
        return 0;
    }
    if (stat(zDb, &st) != 0) {
        fprintf(stderr, "privagg ledger: %s: %s\n", zDb, strerror(errno));
        return 2;
    }
    if (!S_ISREG(st.st_mode)) {
        fprintf(stderr, "privagg ledger: %s: not a file; give an aggregator's store (e.g. leader.db)\n", zDb);
        return 2;
    }
    if (st.st_size == 0) {
        fprintf(stderr, "privagg ledger: %s: an empty file, not an aggregator's store; give the "
                        "store of privagg serve (the \"store\" of its config, e.g. leader.db)\n", zDb);
        return 2;
    }
    if (pa_store_open_readonly(ppStore, zDb) != PA_OK || pa_store_ledger_present(*ppStore, &bHas) != PA_OK) {
        fprintf(stderr, "privagg ledger: %s: not an aggregator's store (%s)\n", zDb, pa_error_detail());
        pa_store_close(*ppStore);
        *ppStore = NULL;
        return 2;
    }
    if (!bHas) {
        fprintf(stderr, "privagg ledger: %s: a SQLite file without a privacy ledger, not an "
                        "aggregator's store; give the store of privagg serve (e.g. leader.db)\n", zDb);
        pa_store_close(*ppStore);
        *ppStore = NULL;
        return 2;
    }
    return 0;
}

int pa_cli_ledger(int argc, char **argv)
{
    const char *zDb = NULL, *zFile = NULL, *zOut = NULL, *zHead = NULL, *zCount = NULL, *zAnchor = NULL;
    int bJson = 0, bExport, rc;
    pa_store *pStore = NULL;
    uint8_t aAnchor[32], aHead[32];
    long long nExpect = -1;
    char zIndex[32];
    int64_t n = 0;

    if (argc < 2)
        return bad("missing subcommand (export or verify)", NULL);
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(k_usage, stdout);
        return 0;
    }
    if (strcmp(argv[1], "export") != 0 && strcmp(argv[1], "verify") != 0)
        return bad("unknown subcommand", argv[1]);
    bExport = strcmp(argv[1], "export") == 0;
    {
        /* the shared parser (engine/cli/opts.c): "--db=X" and "--db X" */
        pa_cli_opt aExport[] = {{"--db", 0, NULL, 0, NULL}, {"--out", 0, NULL, 0, NULL},
                                {"--help", 1, NULL, 0, NULL}, {"-h", 1, NULL, 0, NULL}};
        pa_cli_opt aVerify[] = {{"--db", 0, NULL, 0, NULL},    {"--file", 0, NULL, 0, NULL},
                                {"--anchor", 0, NULL, 0, NULL}, {"--head", 0, NULL, 0, NULL},
                                {"--count", 0, NULL, 0, NULL},  {"--json", 1, NULL, 0, NULL},
                                {"--help", 1, NULL, 0, NULL},   {"-h", 1, NULL, 0, NULL}};
        pa_cli_opt *o = bExport ? aExport : aVerify;
        size_t nO = bExport ? sizeof aExport / sizeof aExport[0] : sizeof aVerify / sizeof aVerify[0];
        char zCmd[] = "ledger export", zCmdV[] = "ledger verify";
        argv[1] = bExport ? zCmd : zCmdV;
        if ((rc = pa_cli_parse(argc - 1, argv + 1, o, nO)) != 0)
            return rc;
        if (pa_cli_seen(o, nO, "--help") || pa_cli_seen(o, nO, "-h")) {
            fputs(k_usage, stdout);
            return 0;
        }
        zDb = pa_cli_value(o, nO, "--db");
        zOut = pa_cli_value(o, nO, "--out");
        zFile = pa_cli_value(o, nO, "--file");
        zAnchor = pa_cli_value(o, nO, "--anchor");
        zHead = pa_cli_value(o, nO, "--head");
        zCount = pa_cli_value(o, nO, "--count");
        bJson = pa_cli_seen(o, nO, "--json");
    }
    if ((zDb == NULL) == (zFile == NULL))
        return bad(bExport ? "missing required option" : "give one of --db and --file", "--db");
    if (zAnchor != NULL) {
        const char *zColon = strchr(zAnchor, ':');
        if (zHead != NULL || zCount != NULL)
            return bad("--anchor replaces --head/--count; give one of them", zAnchor);
        if (zColon == NULL)
            return bad("--anchor must be INDEX:HASH (64 hex digits)", zAnchor);
        zHead = zColon + 1;
        if ((size_t)(zColon - zAnchor) >= sizeof zIndex || zColon == zAnchor)
            return bad("--anchor must be INDEX:HASH (64 hex digits)", zAnchor);
        memcpy(zIndex, zAnchor, (size_t)(zColon - zAnchor));
        zIndex[zColon - zAnchor] = '\0';
        zCount = zIndex;
    }
    if (zHead != NULL && (strlen(zHead) != 64 ||
                          sodium_hex2bin(aAnchor, 32, zHead, 64, NULL, NULL, NULL) != 0))
        return bad("--head must be 64 hex digits", zHead);
    if (zCount != NULL) {
        char *zEnd;
        errno = 0;
        nExpect = strtoll(zCount, &zEnd, 10);
        if (*zCount < '0' || *zCount > '9' || *zEnd != '\0' || errno != 0)
            return bad("--count must be a non-negative integer", zCount);
    }
    if (zFile != NULL) {
        char *zText = NULL;
        size_t nText = 0;
        FILE *f = fopen(zFile, "rb");
        if (f != NULL) {
            zText = malloc(64u << 20);
            if (zText != NULL)
                nText = fread(zText, 1, (64u << 20) - 1, f);
            fclose(f);
        }
        if (zText == NULL) {
            fprintf(stderr, "privagg ledger: cannot read %s\n", zFile);
            return 2;
        }
        rc = pa_dp_ledger_open_json(&pStore, zText, nText, zHead ? aAnchor : NULL, nExpect, aHead, &n);
        free(zText);
        pa_store_close(pStore);
        if (rc == PA_EDECODE || rc == PA_ENOMEM) {
            pa_cli_report("ledger verify", rc);
            return 2;
        }
        goto verified;
    }
    if ((rc = open_ledger_store(zDb, &pStore)) != 0)
        return rc;
    if (bExport) {
        char *zJson = NULL;
        FILE *f = stdout;
        rc = pa_dp_ledger_export_json(pStore, &zJson);
        pa_store_close(pStore);
        if (rc != PA_OK) {
            pa_cli_report("ledger export", rc);
            return 1;
        }
        if (zOut != NULL && (f = fopen(zOut, "w")) == NULL) {
            fprintf(stderr, "privagg ledger: cannot write %s\n", zOut);
            free(zJson);
            return 1;
        }
        fprintf(f, "%s\n", zJson);
        free(zJson);
        if (f != stdout && fclose(f) != 0)
            return 1;
        return 0;
    }
    rc = pa_dp_ledger_verify(pStore, zHead ? aAnchor : NULL, nExpect, aHead, &n);
    pa_store_close(pStore);
verified:
    if (rc != PA_OK) {
        if (bJson)
            printf("{\"ok\":false,\"error\":\"%s\"}\n", pa_strerror(rc));
        pa_cli_report("ledger verify", rc);
        return 1;
    }
    {
        char zHex[65];
        sodium_bin2hex(zHex, sizeof zHex, aHead, 32);
        if (bJson)
            printf("{\"ok\":true,\"count\":%lld,\"head\":\"%s\"}\n", (long long)n, zHex);
        else
            printf("ok: %lld entries, head %s\n", (long long)n, zHex);
    }
    return 0;
}
