/*
 * privagg audit — the privacy reviewer's check, trusting no operator: from the
 * task file, the collector's signed release manifests and both aggregators'
 * exported ledgers (never their stores), recompute what each release cost and
 * what every record lost, and check that the ledgers, the manifests and the
 * policy agree (docs/audit.md lists every check).
 */
#ifndef PRIVAGG_AUDIT_H
#define PRIVAGG_AUDIT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "privagg/task.h"

typedef struct {
    const char *zName;             /* file name, for messages */
    const char *zText;
    size_t nText;
} pa_audit_input;

/* Read a whole file (at most 256 MiB) into *p: zName a copy of zPath, zText the
 * bytes plus a NUL.  PA_EIO names the file and why; free with pa_audit_input_free. */
int pa_audit_input_read(pa_audit_input *p, const char *zPath);
void pa_audit_input_free(pa_audit_input *p);

/*
 * Run every check.  aManifest: the manifests (may be empty); aLedger[0], [1]: the
 * leader's and the helper's exported ledgers.  pCollectorKey: the collector's
 * Ed25519 public key, or NULL to take parties.collector.signing_public_key from
 * the task.  *ppReport receives a JSON object: "result" ("pass" or "fail"),
 * "failures" (every reason, one string each), "checks" ([{check, ok, detail}]),
 * "composition" (the rules applied and why), "worst_cell", "rho_max",
 * "epsilon", "delta", "guarantee" (plain language).  Returns PA_OK when the audit
 * ran (pass or fail: see "result"), or an error when it could not.
 */
int pa_audit_run(const pa_task *pTask, const pa_audit_input *aManifest, size_t nManifest,
                 const pa_audit_input aLedger[2], const uint8_t *pCollectorKey, json_t **ppReport);

/* The report as plain text (what is guaranteed, to whom, under which assumptions,
 * then every check). */
void pa_audit_print(const json_t *pReport, FILE *pOut);

#endif
