/*
 * Constant-time checks with valgrind ("ctgrind", as in Monocypher's tests): a
 * test binary re-runs itself under valgrind memcheck with `--ctgrind`, where its
 * body marks the secret inputs undefined; any branch or memory index that
 * depends on them is a memcheck error, and the run fails.  Header-only, tests
 * only; the test must include <cmocka.h> (and its prerequisites) first.
 */
#ifndef PA_TEST_CTGRIND_H
#define PA_TEST_CTGRIND_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* Run this binary again under valgrind with --ctgrind; skipped under ASan or TSan
 * (valgrind cannot run their binaries) or without valgrind.  The run must exit 0. */
static inline void ctgrind_run_self(void)
{
    char zCmd[512];
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    skip(); /* valgrind cannot run an ASan or TSan binary */
#endif
    if (system("valgrind --version >/dev/null 2>&1") != 0)
        skip();
    snprintf(zCmd, sizeof zCmd,
             "valgrind -q --error-exitcode=99 --track-origins=yes /proc/%ld/exe --ctgrind",
             (long)getpid());
    assert_int_equal(system(zCmd), 0);
}

#endif
