/*
 * Fuzz target: exact DP parameters as the CLI and the task file give them
 * (pa_dp_rational_parse: "25", "0.5", "1e6", "2.5e-3", "3/7").  An accepted
 * value is reduced, has a nonzero denominator, and formats and parses back to
 * itself.  Seeds: each form.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz.h"
#include "privagg/common.h"
#include "privagg/dp.h"

static uint64_t gcd(uint64_t a, uint64_t b)
{
    while (b) {
        uint64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

int LLVMFuzzerTestOneInput(const uint8_t *p, size_t n)
{
    char z[256], zOut[128];
    pa_dp_rational r, r2;
    if (n >= sizeof z)
        return 0;
    memcpy(z, p, n);
    z[n] = 0;
    if (pa_dp_rational_parse(z, &r) != PA_OK)
        return 0;
    pa_fuzz_check(r.den != 0 && gcd(r.num, r.den) == (r.num ? 1 : r.den), "dp_rational: not reduced");
    if (pa_dp_rational_format(r, zOut, sizeof zOut) == PA_OK) {
        pa_fuzz_check(pa_dp_rational_parse(zOut, &r2) == PA_OK, "dp_rational: its own format refused");
        pa_fuzz_check(r2.num == r.num && r2.den == r.den, "dp_rational: format does not round-trip");
    }
    return 0;
}

void pa_fuzz_seeds(const char *zDir)
{
    static const char *const az[] = {"25", "0.5", "1e6", "2.5e-3", "3/7", "18446744073709551615", "0"};
    for (size_t i = 0; i < sizeof az / sizeof az[0]; i++) {
        char zName[16];
        snprintf(zName, sizeof zName, "v%zu", i);
        pa_fuzz_put(zDir, zName, az[i], strlen(az[i]));
    }
}
