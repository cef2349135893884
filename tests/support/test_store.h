/*
 * Which backend a store test runs on.  Without PA_TEST_PG_URL every store is
 * SQLite (":memory:" or the test's file).  With PA_TEST_PG_URL
 * ("postgresql://user@host:port/db") each call of test_store_path makes a
 * fresh schema in that database and returns a URL whose search_path is it,
 * so every test (and every store of a test) starts empty and independent;
 * the schemas are dropped when the test program exits.  Header-only, tests
 * only.
 */
#ifndef PA_TEST_STORE_H
#define PA_TEST_STORE_H

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TEST_STORE_MAX 64

static char g_azTestSchema[TEST_STORE_MAX][48];
static char g_azTestUrl[TEST_STORE_MAX][600];
static int g_nTestSchema;

/* 1 when the tests run on PostgreSQL. */
static inline int test_store_pg(void)
{
    const char *z = getenv("PA_TEST_PG_URL");
    return z != NULL && z[0] != '\0';
}

static inline void test_store_quiet(void *pArg, const char *zMessage)
{
    (void)pArg;
    (void)zMessage; /* NOTICEs of DROP ... CASCADE */
}

static inline void test_store_drop_all(void)
{
    PGconn *c;
    if (!test_store_pg() || g_nTestSchema == 0)
        return;
    c = PQconnectdb(getenv("PA_TEST_PG_URL"));
    PQsetNoticeProcessor(c, test_store_quiet, NULL);
    if (PQstatus(c) == CONNECTION_OK) {
        for (int i = 0; i < g_nTestSchema; i++) {
            char zSql[96];
            /* the schema name is ours (t_<pid>_<n>), not a user value */
            snprintf(zSql, sizeof zSql, "DROP SCHEMA IF EXISTS %s CASCADE", g_azTestSchema[i]);
            PQclear(PQexec(c, zSql));
        }
    }
    PQfinish(c);
    g_nTestSchema = 0;
}

/* The path of a new, empty store: zSqlite on SQLite, a fresh schema's URL on
 * PostgreSQL (NULL if it cannot be made; the message is printed). */
static inline const char *test_store_path(const char *zSqlite)
{
    const char *zBase = getenv("PA_TEST_PG_URL");
    char zSql[96];
    PGconn *c;
    PGresult *r;
    int i;

    if (!test_store_pg())
        return zSqlite;
    if (g_nTestSchema == TEST_STORE_MAX) {
        fprintf(stderr, "test_store_path: more than %d stores in one test program\n", TEST_STORE_MAX);
        return NULL;
    }
    if (g_nTestSchema == 0)
        atexit(test_store_drop_all);
    i = g_nTestSchema;
    snprintf(g_azTestSchema[i], sizeof g_azTestSchema[i], "t_%ld_%d", (long)getpid(), i);
    c = PQconnectdb(zBase);
    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "test_store_path: %s", PQerrorMessage(c));
        PQfinish(c);
        return NULL;
    }
    PQsetNoticeProcessor(c, test_store_quiet, NULL);
    snprintf(zSql, sizeof zSql, "DROP SCHEMA IF EXISTS %s CASCADE; CREATE SCHEMA %s", g_azTestSchema[i],
             g_azTestSchema[i]);
    r = PQexec(c, zSql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        fprintf(stderr, "test_store_path: %s", PQerrorMessage(c));
        PQclear(r);
        PQfinish(c);
        return NULL;
    }
    PQclear(r);
    PQfinish(c);
    g_nTestSchema++;
    /* libpq URI options: -c search_path=<schema> (percent-encoded) */
    snprintf(g_azTestUrl[i], sizeof g_azTestUrl[i], "%s%soptions=-csearch_path%%3D%s", zBase,
             strchr(zBase, '?') ? "&" : "?", g_azTestSchema[i]);
    return g_azTestUrl[i];
}

#endif
