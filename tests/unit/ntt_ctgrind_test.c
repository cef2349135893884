/*
 * Constant-time check of the ntt module (ctgrind, as in Monocypher's tests): the
 * test re-runs itself under valgrind memcheck with the coefficients marked
 * undefined ("secret"); a branch or memory index depending on them fails the
 * test.  Covers ntt, intt, ntt_coset, poly_eval and poly_mul (both the schoolbook
 * and the NTT path) for Field64 and Field128; only sizes are public.
 * Skipped under ASan or without valgrind.
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
#include <valgrind/memcheck.h>

#include "support/ctgrind.h"

#include "ntt/ntt.h"

#define SECRET(p, n) VALGRIND_MAKE_MEM_UNDEFINED((p), (n))
#define PUBLIC(p, n) VALGRIND_MAKE_MEM_DEFINED((p), (n))

enum { N = 64, NB = 40 };

static int ctgrind_body(void)
{
    static pa_f64 a64[N], b64[NB], o64[N + NB];
    static pa_f128 a128[N], b128[NB], o128[N + NB];
    pa_f64 e64;
    pa_f128 e128;

    for (size_t i = 0; i < N; i++) {
        a64[i] = pa_f64_from_u64(i * UINT64_C(0x9e3779b97f4a7c15));
        a128[i] = pa_f128_from_u64_pair(i * UINT64_C(0x9e3779b97f4a7c15), i);
    }
    for (size_t i = 0; i < NB; i++) {
        b64[i] = pa_f64_from_u64(i + 1);
        b128[i] = pa_f128_from_u64(i + 1);
    }
    a64[3] = pa_f64_zero();
    a128[3] = pa_f128_zero();

    SECRET(a64, sizeof a64);
    SECRET(a128, sizeof a128);
    SECRET(b64, sizeof b64);
    SECRET(b128, sizeof b128);

    pa_f64_ntt(a64, N);
    pa_f64_intt(a64, N);
    pa_f64_ntt_coset(a64, N);
    pa_f128_ntt(a128, N);
    pa_f128_intt(a128, N);
    pa_f128_ntt_coset(a128, N);
    e64 = pa_f64_poly_eval(a64, N, b64[1]);
    e128 = pa_f128_poly_eval(a128, N, b128[1]);
    /* schoolbook path (one short operand) and NTT path */
    if (pa_f64_poly_mul(o64, a64, N, b64, 3) != 0 || pa_f128_poly_mul(o128, a128, N, b128, 3) != 0)
        return 2;
    if (pa_f64_poly_mul(o64, a64, N, b64, NB) != 0 ||
        pa_f128_poly_mul(o128, a128, N, b128, NB) != 0)
        return 2;

    PUBLIC(a64, sizeof a64);
    PUBLIC(a128, sizeof a128);
    PUBLIC(b64, sizeof b64);
    PUBLIC(b128, sizeof b128);
    PUBLIC(o64, sizeof o64);
    PUBLIC(o128, sizeof o128);
    PUBLIC(&e64, sizeof e64);
    PUBLIC(&e128, sizeof e128);
    return (int)VALGRIND_COUNT_ERRORS;
}

int main(int argc, char **argv)
{
    int rc = ctgrind_dispatch(argc, argv, ctgrind_body);
    if (rc >= 0)
        return rc; /* the valgrind re-run: CTest entry <name>_ctgrind */
    /* without valgrind the body runs natively (under ASan in that build): it must
     * complete; whether it is constant time is the _ctgrind entry's question */
    return ctgrind_body() == 0 ? 0 : 1;
}
