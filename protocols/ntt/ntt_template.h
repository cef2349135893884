/*
 * NTT and polynomial code written once for both fields (internal; included by
 * ntt.c only).  The includer defines PA_T (element type), PA_FN(op) (pastes
 * pa_<field>_op), PA_NAME (field name for messages) and the helper
 * PA_INV_POW2(k), which returns 2^-k.  See ntt.h for the contracts.
 */

/* Twiddles are generated per stage in chunks of this many elements (stack). */
#ifndef PA_NTT_CHUNK
#define PA_NTT_CHUNK 256
#endif

/* Schoolbook results up to this many coefficients are built on the stack. */
#ifndef PA_POLY_SCHOOLBOOK_STACK
#define PA_POLY_SCHOOLBOOK_STACK 64
#endif

/* n a power of two, 1 <= n <= 2^max_log: the transforms' precondition.  Asserted;
 * in a release build (no asserts) an invalid size makes them do nothing rather
 * than read or write out of bounds. */
static int PA_FN(size_ok)(size_t n, unsigned max_log)
{
    int ok = n != 0 && (n & (n - 1)) == 0 && n <= ((size_t)1 << max_log);
    assert(ok);
    return ok;
}

static void PA_FN(bit_reverse)(PA_T *a, size_t n)
{
    for (size_t i = 1, j = 0; i < n; i++) {
        size_t bit = n >> 1;
        for (; j & bit; bit >>= 1)
            j ^= bit;
        j ^= bit;
        if (i < j) { /* positions only: public */
            PA_T t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
    }
}

void PA_FN(ntt)(PA_T *a, size_t n)
{
    PA_T tw[PA_NTT_CHUNK];

    if (!PA_FN(size_ok)(n, 32) || n == 1)
        return;
    PA_FN(bit_reverse)(a, n);

    /* Iterative radix-2 decimation in time (Cooley-Tukey) on bit-reversed input:
     * stage len combines pairs of len/2-point transforms with twiddles w_len^j.
     * The first stage (twiddle 1) and every j = 0 butterfly skip the product. */
    for (size_t i = 0; i < n; i += 2) {
        PA_T u = a[i], v = a[i + 1];
        a[i] = PA_FN(add)(u, v);
        a[i + 1] = PA_FN(sub)(u, v);
    }
    for (size_t len = 4; len <= n; len <<= 1) {
        size_t half = len >> 1;
        PA_T wlen = PA_FN(root_of_unity)(len);
        PA_T wcur = PA_FN(one)();
        for (size_t j0 = 0; j0 < half; j0 += PA_NTT_CHUNK) {
            size_t cnt = half - j0 < PA_NTT_CHUNK ? half - j0 : PA_NTT_CHUNK;
            for (size_t j = 0; j < cnt; j++) {
                tw[j] = wcur;
                wcur = PA_FN(mul)(wcur, wlen);
            }
            size_t jstart = j0 == 0 ? 1 : 0;
            for (size_t start = 0; start < n; start += len) {
                PA_T *lo = a + start + j0;
                PA_T *hi = lo + half;
                if (jstart) {
                    PA_T u = lo[0], v = hi[0];
                    lo[0] = PA_FN(add)(u, v);
                    hi[0] = PA_FN(sub)(u, v);
                }
                for (size_t j = jstart; j < cnt; j++) {
                    PA_T u = lo[j];
                    PA_T v = PA_FN(mul)(hi[j], tw[j]);
                    lo[j] = PA_FN(add)(u, v);
                    hi[j] = PA_FN(sub)(u, v);
                }
            }
        }
    }
}

void PA_FN(ntt_coset)(PA_T *a, size_t n)
{
    if (!PA_FN(size_ok)(n, 31))
        return;
    /* p(s·x) has coefficients a[j]·s^j */
    PA_T s = PA_FN(root_of_unity)(2 * n);
    PA_T sj = s;
    for (size_t j = 1; j < n; j++) {
        a[j] = PA_FN(mul)(a[j], sj);
        sj = PA_FN(mul)(sj, s);
    }
    PA_FN(ntt)(a, n);
}

void PA_FN(intt)(PA_T *a, size_t n)
{
    unsigned k = 0;

    if (!PA_FN(size_ok)(n, 32))
        return;
    /* sum_j A[j]·w^(-ij) = NTT(A)[(n - i) mod n]: transform, reverse 1..n-1, scale. */
    PA_FN(ntt)(a, n);
    for (size_t i = 1, j = n - 1; i < j; i++, j--) {
        PA_T t = a[i];
        a[i] = a[j];
        a[j] = t;
    }
    while (((size_t)1 << k) < n)
        k++;
    PA_T inv_n = PA_INV_POW2(k);
    for (size_t i = 0; i < n; i++)
        a[i] = PA_FN(mul)(a[i], inv_n);
}

PA_T PA_FN(poly_eval)(const PA_T *coeffs, size_t n, PA_T x)
{
    PA_T r = PA_FN(zero)();
    for (size_t i = n; i-- > 0;)
        r = PA_FN(add)(PA_FN(mul)(r, x), coeffs[i]);
    return r;
}

int PA_FN(poly_mul)(PA_T *out, const PA_T *a, size_t na, const PA_T *b, size_t nb)
{
    size_t nout, nsmall, ntt_n = 1;
    unsigned logn = 0;

    if (na == 0 || nb == 0)
        return pa_fail(PA_EINVAL, PA_NAME " poly_mul: operand length %zu x %zu, need >= 1", na, nb);
    if (na > ((size_t)1 << 32) || nb > ((size_t)1 << 32) || na + nb - 1 > ((size_t)1 << 32))
        return pa_fail(PA_ERANGE, PA_NAME " poly_mul: result length %zu + %zu - 1 above 2^32", na,
                       nb);
    nout = na + nb - 1;
    nsmall = na < nb ? na : nb;
    while (ntt_n < nout) {
        ntt_n <<= 1;
        logn++;
    }

    /* Schoolbook costs na·nb products; the NTT route about 1.5·N·log2(N) + N
     * (three transforms of N/2·log2(N) butterflies plus the pointwise product). */
    if ((uint64_t)na * nb <= (uint64_t)ntt_n * (3 * logn / 2 + 1) || nsmall <= 8) {
        PA_T stackbuf[PA_POLY_SCHOOLBOOK_STACK];
        PA_T *acc = stackbuf;
        if (nout > PA_POLY_SCHOOLBOOK_STACK) {
            acc = malloc(nout * sizeof *acc);
            if (acc == NULL)
                return pa_fail(PA_ENOMEM, PA_NAME " poly_mul: %zu coefficients", nout);
        }
        for (size_t i = 0; i < nout; i++)
            acc[i] = PA_FN(zero)();
        for (size_t i = 0; i < na; i++)
            for (size_t j = 0; j < nb; j++)
                acc[i + j] = PA_FN(add)(acc[i + j], PA_FN(mul)(a[i], b[j]));
        memcpy(out, acc, nout * sizeof *acc);
        pa_wipe(acc, nout * sizeof *acc);
        if (acc != stackbuf)
            free(acc);
        return 0;
    }

    PA_T *fa = malloc(2 * ntt_n * sizeof *fa);
    if (fa == NULL)
        return pa_fail(PA_ENOMEM, PA_NAME " poly_mul: NTT scratch of %zu coefficients", 2 * ntt_n);
    PA_T *fb = fa + ntt_n;
    memcpy(fa, a, na * sizeof *fa);
    for (size_t i = na; i < ntt_n; i++)
        fa[i] = PA_FN(zero)();
    memcpy(fb, b, nb * sizeof *fb);
    for (size_t i = nb; i < ntt_n; i++)
        fb[i] = PA_FN(zero)();
    PA_FN(ntt)(fa, ntt_n);
    PA_FN(ntt)(fb, ntt_n);
    for (size_t i = 0; i < ntt_n; i++)
        fa[i] = PA_FN(mul)(fa[i], fb[i]);
    PA_FN(intt)(fa, ntt_n);
    memcpy(out, fa, nout * sizeof *fa);
    pa_wipe(fa, 2 * ntt_n * sizeof *fa);
    free(fa);
    return 0;
}
