/*
 * Fuzz target: an aggregation step (INIT_RESP, CONTINUE, FINISH) as each side
 * decodes it (pa_job_step_decode); the first byte picks the step the receiver
 * expects.  Accepted bytes MUST re-encode to themselves.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz.h"
#include "privagg/common.h"
#include "privagg/messages.h"

static const pa_msg_sizes g_s = {64, 96, 40, 32, 80};
static const pa_job_step_kind g_aKind[] = {PA_STEP_INIT_RESP, PA_STEP_CONTINUE, PA_STEP_FINISH};

int LLVMFuzzerTestOneInput(const uint8_t *p, size_t n)
{
    pa_job_step d;
    uint8_t *e = NULL;
    size_t ne = 0;
    if (n < 1)
        return 0;
    pa_job_step_kind eWant = g_aKind[p[0] % 3];
    if (pa_job_step_decode(&d, eWant, p + 1, n - 1, &g_s) != PA_OK)
        return 0;
    pa_fuzz_check(pa_job_step_encode(&e, &ne, &d, &g_s) == PA_OK, "job_step: accepted but cannot re-encode");
    pa_fuzz_check(ne == n - 1 && memcmp(e, p + 1, n - 1) == 0, "job_step: accepted a non-canonical encoding");
    free(e);
    pa_job_step_free(&d);
    return 0;
}

void pa_fuzz_seeds(const char *zDir)
{
    static uint8_t aVs[40], aVm[32];
    pa_job_step_item si[2];
    pa_job_step st;
    uint8_t *p, buf[4096];
    size_t n;
    static const char *const azName[] = {"init_resp", "continue", "finish"};
    for (int k = 0; k < 3; k++) {
        memset(&st, 0, sizeof st);
        memset(si, 0, sizeof si);
        st.eStep = g_aKind[k];
        si[0].pPayload = g_aKind[k] == PA_STEP_INIT_RESP ? aVs : aVm;
        si[1].eReject = PA_REJECT_PROOF;
        st.nItem = 2;
        st.aItem = si;
        if (g_aKind[k] == PA_STEP_FINISH)
            si[0].pPayload = NULL;
        if (pa_job_step_encode(&p, &n, &st, &g_s) == PA_OK && n < sizeof buf) {
            buf[0] = (uint8_t)k;
            memcpy(buf + 1, p, n);
            pa_fuzz_put(zDir, azName[k], buf, n + 1);
            free(p);
        }
    }
}
