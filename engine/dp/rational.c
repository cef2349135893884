/*
 * Exact non-negative rationals for sampler parameters: parsing from decimal text
 * ("0.5", "1e6", "3/7"), reduction and formatting.  Integer arithmetic only: the
 * value a user types is the value the sampler uses, with no binary rounding.
 */
#include <stdio.h>
#include <string.h>

#include "privagg/common.h"
#include "privagg/dp.h"

static uint64_t gcd_u64(uint64_t a, uint64_t b)
{
    while (b != 0) {
        uint64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

pa_dp_rational pa_dp_rational_make(uint64_t num, uint64_t den)
{
    pa_dp_rational r;
    uint64_t g = gcd_u64(num, den);
    if (g == 0)
        g = 1;
    r.num = num / g;
    r.den = den / g;
    if (r.num == 0)
        r.den = 1;
    return r;
}

long double pa_dp_rational_to_ld(pa_dp_rational r)
{
    return (long double)r.num / (long double)r.den;
}

/* Multiply x by 10, reporting overflow. */
static int mul10(uint64_t *x)
{
    return __builtin_mul_overflow(*x, (uint64_t)10, x);
}

static int parse_uint(const char **pz, uint64_t *pOut)
{
    const char *z = *pz;
    uint64_t v = 0;
    if (*z < '0' || *z > '9')
        return PA_EINVAL;
    while (*z >= '0' && *z <= '9') {
        if (mul10(&v) || __builtin_add_overflow(v, (uint64_t)(*z - '0'), &v))
            return PA_ERANGE;
        z++;
    }
    *pz = z;
    *pOut = v;
    return PA_OK;
}

int pa_dp_rational_parse(const char *zText, pa_dp_rational *pOut)
{
    const char *z = zText;
    uint64_t num = 0, den = 1;
    int rc;

    if (zText == NULL || pOut == NULL)
        return pa_fail(PA_EINVAL, "rational: missing text");
    if (*z == '+')
        z++;
    if (strchr(z, '/') != NULL) {
        uint64_t d;
        if ((rc = parse_uint(&z, &num)) != PA_OK || *z++ != '/' ||
            (rc = parse_uint(&z, &d)) != PA_OK || *z != '\0')
            return pa_fail(rc == PA_ERANGE ? PA_ERANGE : PA_EINVAL,
                           "rational: '%s' is not N/D with 64-bit N, D", zText);
        if (d == 0)
            return pa_fail(PA_EINVAL, "rational: '%s' has denominator 0", zText);
        *pOut = pa_dp_rational_make(num, d);
        return PA_OK;
    }
    /* decimal: digits [. digits] [e|E [+|-] digits] */
    {
        int bPoint = 0, bDigit = 0;
        for (; (*z >= '0' && *z <= '9') || *z == '.'; z++) {
            if (*z == '.') {
                if (bPoint)
                    return pa_fail(PA_EINVAL, "rational: '%s' has two decimal points", zText);
                bPoint = 1;
                continue;
            }
            bDigit = 1;
            if (mul10(&num) || __builtin_add_overflow(num, (uint64_t)(*z - '0'), &num))
                return pa_fail(PA_ERANGE, "rational: '%s' has too many digits", zText);
            if (bPoint && mul10(&den))
                return pa_fail(PA_ERANGE, "rational: '%s' has too many decimals", zText);
        }
        if (!bDigit)
            return pa_fail(PA_EINVAL, "rational: '%s' is not a number", zText);
    }
    if (*z == 'e' || *z == 'E') {
        int neg = 0;
        uint64_t e;
        z++;
        if (*z == '+' || *z == '-')
            neg = (*z++ == '-');
        if (parse_uint(&z, &e) != PA_OK || e > 40)
            return pa_fail(PA_EINVAL, "rational: '%s' has a bad exponent (|e| <= 40)", zText);
        for (uint64_t i = 0; i < e; i++) {
            /* reduce first so that 2.5e-3 style values stay small */
            pa_dp_rational r = pa_dp_rational_make(num, den);
            num = r.num;
            den = r.den;
            if (neg ? mul10(&den) : mul10(&num))
                return pa_fail(PA_ERANGE, "rational: '%s' does not fit 64-bit num/den", zText);
        }
    }
    if (*z != '\0')
        return pa_fail(PA_EINVAL, "rational: '%s' has trailing characters '%s'", zText, z);
    *pOut = pa_dp_rational_make(num, den);
    return PA_OK;
}

int pa_dp_rational_format(pa_dp_rational r, char *zOut, size_t nOut)
{
    uint64_t d = r.den, twos = 0, fives = 0;
    int n;

    while (d % 2 == 0) {
        d /= 2;
        twos++;
    }
    while (d % 5 == 0) {
        d /= 5;
        fives++;
    }
    /* den = 2^a 5^b: the decimal num * 10^max(a,b) / den, when its digits fit a
     * uint64_t (else pa_dp_rational_parse could not read it back:
     * 9555151715737095516/5 was written 1911030343147419103.2, found by the
     * dp_rational fuzz target), else num/den */
    uint64_t k = twos > fives ? twos : fives;
    unsigned __int128 scaled = r.num, pow10 = 1;
    if (d == 1 && twos <= 19 && fives <= 19) {
        for (uint64_t i = 0; i < k; i++)
            pow10 *= 10;
        scaled = scaled * (pow10 / r.den);
    }
    if (d != 1 || twos > 19 || fives > 19 || scaled > UINT64_MAX) {
        n = snprintf(zOut, nOut, "%llu/%llu", (unsigned long long)r.num, (unsigned long long)r.den);
    } else {
        if (k == 0) {
            n = snprintf(zOut, nOut, "%llu", (unsigned long long)r.num);
        } else {
            char digits[48];
            int len = 0;
            unsigned __int128 v = scaled;
            do {
                digits[len++] = (char)('0' + (int)(v % 10));
                v /= 10;
            } while (v != 0);
            while ((uint64_t)len <= k)
                digits[len++] = '0';
            /* digits reversed: integer part is digits[len-1..k], fraction digits[k-1..0] */
            char buf[64];
            int o = 0;
            for (int i = len - 1; i >= (int)k; i--)
                buf[o++] = digits[i];
            int last = 0; /* strip trailing zeros of the fraction */
            while (last < (int)k && digits[last] == '0')
                last++;
            if (last < (int)k) {
                buf[o++] = '.';
                for (int i = (int)k - 1; i >= last; i--)
                    buf[o++] = digits[i];
            }
            buf[o] = '\0';
            n = snprintf(zOut, nOut, "%s", buf);
        }
    }
    if (n < 0 || (size_t)n >= nOut)
        return pa_fail(PA_ERANGE, "rational: output buffer of %zu bytes too small", nOut);
    return PA_OK;
}
