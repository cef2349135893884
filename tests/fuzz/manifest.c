/*
 * Fuzz target: a release manifest (privagg-release-manifest-v1) as `privagg
 * audit` reads it: its canonical signed bytes (pa_manifest_signed_bytes), its
 * Ed25519 signature (pa_manifest_verify) under the collector key of the task of
 * tests/fuzz/fixtures/, and every audit check (pa_audit_run) with that task and
 * the fixture's two exported ledgers.  A changed byte must never leave the
 * signature verifying.  Seed: the demo's signed manifest of that task.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz.h"
#include "privagg/audit.h"
#include "privagg/common.h"
#include "privagg/publish.h"
#include "privagg/task.h"

static pa_task *g_pTask;
static pa_audit_input g_aLedger[2];

static void load(void)
{
    if (g_pTask != NULL)
        return;
    pa_fuzz_check(pa_task_load(&g_pTask, PA_FUZZ_FIXTURES "/task.json") == PA_OK, "manifest: fixture task");
    pa_fuzz_check(pa_audit_input_read(&g_aLedger[0], PA_FUZZ_FIXTURES "/leader-ledger.json") == PA_OK &&
                      pa_audit_input_read(&g_aLedger[1], PA_FUZZ_FIXTURES "/helper-ledger.json") == PA_OK,
                  "manifest: fixture ledgers");
}

int LLVMFuzzerTestOneInput(const uint8_t *p, size_t n)
{
    char *zSigned = NULL, *zText;
    size_t nSigned = 0;
    json_t *pReport = NULL;
    load();
    if (n > (1u << 20))
        return 0;
    zText = malloc(n + 1); /* the audit reads NUL-terminated text, as pa_audit_input_read gives it */
    memcpy(zText, p, n);
    zText[n] = 0;
    int rc = pa_manifest_signed_bytes(zText, n, &zSigned, &nSigned);
    pa_fuzz_check(rc == PA_OK || rc < 0, "manifest: signed bytes status");
    free(zSigned);
    rc = pa_manifest_verify(zText, n, g_pTask->collector.aSigningKey);
    pa_fuzz_check(rc == PA_OK || rc < 0, "manifest: verify status");
    pa_audit_input in = {"fuzz-manifest.json", zText, n};
    rc = pa_audit_run(g_pTask, &in, 1, g_aLedger, NULL, &pReport);
    pa_fuzz_check(rc == PA_OK || rc < 0, "manifest: audit status");
    json_decref(pReport);
    free(zText);
    return 0;
}

void pa_fuzz_seeds(const char *zDir)
{
    (void)zDir; /* the seed is a demo's signed manifest, committed as "signed" */
}
