/*
 * Constant-time check of the field arithmetic (ctgrind, as in Monocypher's
 * tests): the test re-runs itself under valgrind memcheck with the operands
 * marked undefined ("secret"); any branch or memory index that depends on them
 * is reported as a use of uninitialised data and fails the test.  Covers Field64
 * and Field128 add, sub, neg, mul, eq, is_zero, inv, from_u64, encode, and (in
 * the ntt module, linked in here through the field library's users) nothing else:
 * the NTT is exercised by ntt_ctgrind_test.c.  Skipped under ASan or without valgrind.
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

#include "field/field128.h"
#include "field/field64.h"

#define SECRET(p, n) VALGRIND_MAKE_MEM_UNDEFINED((p), (n))
#define PUBLIC(p, n) VALGRIND_MAKE_MEM_DEFINED((p), (n))

static int ctgrind_body(void)
{
    /* edge values, where a data-dependent shortcut would most likely hide */
    pa_f64 a64[6] = {0, 1, PA_F64_MODULUS - 1, UINT64_C(0xffffffff), UINT64_C(1) << 63, 12345};
    pa_f128 a128[6];
    uint64_t raw[4] = {0, UINT64_MAX, UINT64_C(0xfedcba9876543210), 7};
    pa_f64 r64[8];
    pa_f128 r128[8];
    uint8_t enc[16 * 2];
    int flags[8];

    a128[0] = pa_f128_zero();
    a128[1] = pa_f128_one();
    a128[2] = pa_f128_neg(pa_f128_one());
    a128[3] = pa_f128_from_u64_pair(UINT64_MAX, UINT64_C(0xffffffffffffffe3));
    a128[4] = pa_f128_from_u64(UINT64_C(0x8000000000000000));
    a128[5] = pa_f128_from_u64_pair(12345, 678);

    SECRET(a64, sizeof a64);
    SECRET(a128, sizeof a128);
    SECRET(raw, sizeof raw);
    for (int i = 0; i < 6; i++) {
        int j = (i + 1) % 6;
        r64[0] = pa_f64_add(a64[i], a64[j]);
        r64[1] = pa_f64_sub(a64[i], a64[j]);
        r64[2] = pa_f64_neg(a64[i]);
        r64[3] = pa_f64_mul(a64[i], a64[j]);
        r64[4] = pa_f64_inv(a64[i]);
        r64[5] = pa_f64_from_u64(raw[i % 4]);
        flags[0] = pa_f64_eq(a64[i], a64[j]);
        flags[1] = pa_f64_is_zero(a64[i]);
        pa_f64_encode(enc, r64[3]);

        r128[0] = pa_f128_add(a128[i], a128[j]);
        r128[1] = pa_f128_sub(a128[i], a128[j]);
        r128[2] = pa_f128_neg(a128[i]);
        r128[3] = pa_f128_mul(a128[i], a128[j]);
        r128[4] = pa_f128_inv(a128[i]);
        r128[5] = pa_f128_from_u64(raw[i % 4]);
        r128[6] = pa_f128_from_u64_pair(raw[i % 4], raw[(i + 1) % 4] >> 1);
        flags[2] = pa_f128_eq(a128[i], a128[j]);
        flags[3] = pa_f128_is_zero(a128[i]);
        pa_f128_encode(enc + 16, r128[3]);
        {
            uint64_t lo, hi;
            pa_f128_to_u64_pair(a128[i], &lo, &hi);
            r64[6] = lo ^ hi;
        }
        /* the results are secret too: declassify before anything looks at them */
        PUBLIC(r64, sizeof r64);
        PUBLIC(r128, sizeof r128);
        PUBLIC(flags, sizeof flags);
        PUBLIC(enc, sizeof enc);
    }
    /* pow: secret base, public exponent */
    r64[7] = pa_f64_pow(a64[2], 0x1234567);
    r128[7] = pa_f128_pow(a128[3], 0x1234567);
    PUBLIC(r64, sizeof r64);
    PUBLIC(r128, sizeof r128);
    PUBLIC(a64, sizeof a64);
    PUBLIC(a128, sizeof a128);
    PUBLIC(raw, sizeof raw);
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
