/*
 * Constant-time checks with valgrind ("ctgrind", as in Monocypher's tests): a
 * test binary re-runs itself under valgrind memcheck with `--ctgrind`, where its
 * body marks the secret inputs undefined; any branch or memory index that
 * depends on them is a memcheck error, and the run fails.  The re-run is its own
 * CTest entry (<test>_ctgrind), reported as skipped where it cannot run.
 * Header-only, tests only.
 */
#ifndef PA_TEST_CTGRIND_H
#define PA_TEST_CTGRIND_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Exit status of a ctgrind run that could not happen: CTest reports it as
 * skipped (every unit test has SKIP_RETURN_CODE 77), not as passed. */
#define CTGRIND_SKIPPED 77

/* Run this binary again under valgrind with --ctgrind: 0 when the body found no
 * secret-dependent branch or index, 99 when it did, CTGRIND_SKIPPED under ASan or
 * TSan (valgrind cannot run their binaries) or without valgrind. */
static inline int ctgrind_run_self(void)
{
    char zCmd[512];
    int rc;
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    fprintf(stderr, "ctgrind: skipped: valgrind cannot run an ASan or TSan binary\n");
    (void)zCmd;
    (void)rc;
    return CTGRIND_SKIPPED;
#else
    if (system("valgrind --version >/dev/null 2>&1") != 0) {
        fprintf(stderr, "ctgrind: skipped: valgrind is not installed (scripts/install-deps.sh)\n");
        return CTGRIND_SKIPPED;
    }
    snprintf(zCmd, sizeof zCmd,
             "valgrind -q --error-exitcode=99 --track-origins=yes /proc/%ld/exe --ctgrind",
             (long)getpid());
    rc = system(zCmd);
    return rc == 0 ? 0 : 99;
#endif
}

/* The start of main() of a test with a ctgrind body.  "--ctgrind" (the run under
 * valgrind) runs xBody: 0, or 99 if it counted errors; "--ctgrind-self" (the CTest
 * entry <test>_ctgrind that CMakeLists.txt adds for every unit test including this
 * header) re-runs the binary under valgrind; any other call returns -1 and main
 * goes on with its cmocka group. */
static inline int ctgrind_dispatch(int argc, char **argv, int (*xBody)(void))
{
    if (argc > 1 && strcmp(argv[1], "--ctgrind") == 0)
        return xBody() == 0 ? 0 : 99;
    if (argc > 1 && strcmp(argv[1], "--ctgrind-self") == 0)
        return ctgrind_run_self();
    return -1;
}

#endif
