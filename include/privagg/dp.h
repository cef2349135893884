/*
 * privagg dp — differential privacy: exact integer samplers, noise on aggregate
 * shares, zCDP / pure-DP accounting and conversions, exact accuracy intervals.
 * The privacy ledger has its own header, privagg/ledger.h.
 *
 * Split by timing behaviour (docs/dp.md):
 *   - sampling (engine/dp/sampler.c, rng.c, rational.c) is exact: integer and
 *     rational arithmetic only (Canonne, Kamath, Steinke 2020, "The Discrete
 *     Gaussian for Differential Privacy", arXiv 2004.00010, Algorithms 1-3).  It is
 *     variable time and therefore runs OFF the request path: the noise for a batch
 *     is drawn when its aggregation starts (pa_dp_noise_draw_vartime).
 *   - the collection path only adds a precomputed noise vector to a share
 *     (pa_dp_noise_add_f64 / _f128): a fixed, data-independent sequence of
 *     operations, no randomness, no branch on the noise.
 *   - accounting and accuracy (accounting.c, accuracy.c) use double / long double
 *     and GSL; they never touch secret values.
 */
#ifndef PRIVAGG_DP_H
#define PRIVAGG_DP_H

#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------------------- */
/* Exact non-negative rationals num/den (den >= 1), always kept reduced. */

typedef struct {
    uint64_t num;
    uint64_t den;
} pa_dp_rational;

/*
 * Parse "25", "0.5", "1e6", "2.5e-3" or "3/7" exactly into a reduced rational.
 * Returns PA_EINVAL on syntax errors or a negative value, PA_ERANGE if the exact
 * value does not fit 64-bit numerator and denominator.
 */
int pa_dp_rational_parse(const char *zText, pa_dp_rational *pOut);

/* Reduce num/den (den MUST be nonzero). */
pa_dp_rational pa_dp_rational_make(uint64_t num, uint64_t den);

/*
 * Write r as an exact decimal when den is 2^a 5^b (e.g. "0.5", "1250000"),
 * otherwise as "num/den".  Returns PA_ERANGE if nOut is too small.
 */
int pa_dp_rational_format(pa_dp_rational r, char *zOut, size_t nOut);

/* r as a long double (accounting only; never used for sampling). */
long double pa_dp_rational_to_ld(pa_dp_rational r);

/* ------------------------------------------------------------------------- */
/* Randomness for the samplers: a 512-byte buffer refilled from libsodium. */

typedef struct pa_dp_rng pa_dp_rng;

/* Production RNG: randombytes_buf.  Takes no seed.  Free with pa_dp_rng_free.
 * An RNG is not thread safe: use one per thread. */
int pa_dp_rng_new(pa_dp_rng **ppRng);

/*
 * TESTS ONLY.  A reproducible RNG: ChaCha20 keystream under the given seed
 * (1..32 bytes, zero-padded to a 32-byte key).  No production configuration path
 * reaches this function: the engine only calls pa_dp_rng_new().
 */
int pa_dp_rng_new_seeded_for_tests(pa_dp_rng **ppRng, const uint8_t *pSeed, size_t nSeed);

/* Wipe and free (NULL is allowed). */
void pa_dp_rng_free(pa_dp_rng *pRng);

/* Number of 64-bit words drawn from the RNG so far (lets tests show that a
 * function consumed no randomness). */
uint64_t pa_dp_rng_words_drawn(const pa_dp_rng *pRng);

/* ------------------------------------------------------------------------- */
/* Exact samplers (variable time: use off the request path only). */

/* Bernoulli(e^-gamma) for rational gamma >= 0 (CKS 2020 Algorithm 1). */
int pa_dp_sample_bernoulli_e_minus_vartime(pa_dp_rng *pRng, pa_dp_rational gamma, int *pOut);

enum pa_dp_mechanism_kind { PA_DP_GAUSSIAN = 1, PA_DP_LAPLACE = 2 };

/*
 * A noise distribution with its parameters checked and precomputed once.
 * Gaussian: discrete Gaussian N_Z(0, sigma2), sigma2 = a/b.
 * Laplace:  discrete Laplace Lap_Z(scale), P(x) proportional to exp(-|x|/scale).
 */
typedef struct {
    int kind;                 /* enum pa_dp_mechanism_kind */
    pa_dp_rational param;     /* sigma2 (Gaussian) or scale (Laplace) */
    /* precomputed (internal) */
    uint64_t lapT, lapS;      /* discrete Laplace of scale lapT/lapS */
    uint64_t maxAbsY;         /* Gaussian: largest |Y| handled exactly */
    uint64_t bt;              /* Gaussian: b*t */
    unsigned __int128 gDen;   /* Gaussian: 2*a*b*t^2 */
} pa_dp_mechanism;

/*
 * Set up a discrete Gaussian with sigma2 = a/b > 0.  The exact arithmetic is done
 * in 64/128-bit integers; parameters whose intermediate values could overflow are
 * refused with PA_EUNSUPPORTED (the message names the limit).  Every sigma2 with
 * a <= 2^50 and b <= 2^30 is supported (e.g. sigma2 up to 10^15 as an integer).
 */
int pa_dp_mechanism_gaussian(pa_dp_mechanism *pMech, pa_dp_rational sigma2);

/* Set up a discrete Laplace with scale num/den > 0 (num, den <= 2^56). */
int pa_dp_mechanism_laplace(pa_dp_mechanism *pMech, pa_dp_rational scale);

/*
 * One exact sample.  Variable time.  PA_ESAMPLE (probability below 2^-64 per
 * sample for supported parameters) if a value fell outside the range the exact
 * 128-bit arithmetic covers: the caller MUST then refuse the release.
 */
int pa_dp_sample_vartime(pa_dp_rng *pRng, const pa_dp_mechanism *pMech, int64_t *pOut);

/* n samples into aOut[0..n-1].  Same contract as pa_dp_sample_vartime. */
int pa_dp_sample_many_vartime(pa_dp_rng *pRng, const pa_dp_mechanism *pMech, int64_t *aOut,
                              size_t n);

/* ------------------------------------------------------------------------- */
/* Noise on aggregate shares (engine/dp/noise.c). */

typedef struct pa_dp_noise pa_dp_noise;

/*
 * Off the request path (when a batch's aggregation starts): draw nCells noise
 * values from pMech into a new noise vector.  The vector is a secret: free it with
 * pa_dp_noise_free (which wipes it) once the share has been released.
 */
int pa_dp_noise_draw_vartime(pa_dp_rng *pRng, const pa_dp_mechanism *pMech, size_t nCells,
                             pa_dp_noise **ppNoise);

/* Number of cells the vector covers. */
size_t pa_dp_noise_cells(const pa_dp_noise *pNoise);

/* Copy the noise values out (tests, audits of a test deployment).  Secret. */
int pa_dp_noise_values(const pa_dp_noise *pNoise, int64_t *aOut, size_t n);

/*
 * Storage of a drawn vector between aggregation start and collection (e.g. in the
 * aggregator's store): nCells little-endian two's-complement int64 values.  The
 * encoding is a secret: wipe buffers that held it.  Decoding is constant time in
 * the values (it runs on the collection path); PA_EDECODE if nIn != 8 * nCells or a
 * value is beyond +-2^61 (the message does not say which).
 */
size_t pa_dp_noise_encoded_size(size_t nCells);
int pa_dp_noise_encode(const pa_dp_noise *pNoise, uint8_t *pOut, size_t nOut);
int pa_dp_noise_decode(pa_dp_noise **ppNoise, const uint8_t *pIn, size_t nIn, size_t nCells);

/* TESTS ONLY: a noise vector holding the given values. */
int pa_dp_noise_from_values_for_tests(const int64_t *aVal, size_t n, pa_dp_noise **ppNoise);

void pa_dp_noise_free(pa_dp_noise *pNoise);

/*
 * Collection path: add the noise to an aggregate share given as its encoding
 * (nCells little-endian Field64 / Field128 elements, draft-irtf-cfrg-vdaf-20 §6.1),
 * in place; negative noise wraps modulo p.  Constant time in the noise and share
 * values: the same operations run whatever they hold; no randomness is used.
 * nCells MUST equal pa_dp_noise_cells().  PA_EDECODE if an element is not
 * canonical (the buffer is then left unchanged).
 */
int pa_dp_noise_add_f64(const pa_dp_noise *pNoise, uint8_t *pShare, size_t nCells);
int pa_dp_noise_add_f128(const pa_dp_noise *pNoise, uint8_t *pShare, size_t nCells);

/* ------------------------------------------------------------------------- */
/* Accounting (engine/dp/accounting.c).  Privacy unit: one incident record. */

typedef struct {
    uint64_t l1;     /* Delta_1 = k * c */
    uint64_t l2sq;   /* Delta_2^2 = c^2 * k (kept exact) */
} pa_dp_sensitivity;

/* From the per-cell bound c and the maximum number of cells k one record touches. */
int pa_dp_sensitivity_from_bounds(uint64_t perCell, uint64_t maxCells, pa_dp_sensitivity *pOut);

/* rho = Delta_2^2 / (2 sigma2) of one discrete Gaussian release. */
int pa_dp_rho_gaussian(uint64_t l2sq, pa_dp_rational sigma2, double *pRho);

/* eps = Delta_1 / scale of one discrete Laplace release. */
int pa_dp_eps_laplace(uint64_t l1, pa_dp_rational scale, double *pEps);

/*
 * rho-zCDP -> (eps, delta)-DP.  Tight: CKS 2020 Corollary 13,
 *   eps = min_{alpha>1} alpha*rho + (ln(1/delta) + (alpha-1) ln(1-1/alpha) - ln alpha)/(alpha-1)
 * (solved exactly for the optimal alpha).  Standard: eps = rho + 2 sqrt(rho ln(1/delta)).
 * Either out-pointer may be NULL.  Requires rho >= 0, 0 < delta < 1.
 */
int pa_dp_zcdp_eps(double rho, double delta, double *pEpsTight, double *pEpsStandard);

/* rho-zCDP -> the smallest delta of CKS Corollary 13 at the given eps. */
int pa_dp_zcdp_delta(double rho, double eps, double *pDelta);

/* (eps, delta) -> the largest rho whose tight conversion meets it. */
int pa_dp_rho_from_eps_delta(double eps, double delta, double *pRho);

/*
 * Exact delta(eps) of the discrete Gaussian N_Z(0, sigma2) for an integer L2
 * sensitivity (CKS 2020 Theorem 7):
 *   delta = P[Z > eps sigma2/K - K/2] - e^eps P[Z > eps sigma2/K + K/2].
 */
int pa_dp_gaussian_exact_delta(double sigma2, uint64_t sensitivity, double eps, double *pDelta);

/*
 * Calibration (sigma2 in [1e-9, 1e15]): the smallest sigma2 on the grid of 9 significant decimal digits
 * (an exact rational) such that the release of Delta_2^2 = l2sq meets
 *   - rho (pa_dp_calibrate_rho),
 *   - (eps, delta) through the tight zCDP conversion (pa_dp_calibrate_eps_delta;
 *     this is the composable choice: the ledger charges rho = l2sq/(2 sigma2)),
 *   - (eps, delta) through the exact Theorem 7 delta of one release
 *     (pa_dp_calibrate_exact; l2sq MUST be a perfect square K^2).
 */
int pa_dp_calibrate_rho(double rho, uint64_t l2sq, pa_dp_rational *pSigma2);
int pa_dp_calibrate_eps_delta(double eps, double delta, uint64_t l2sq, pa_dp_rational *pSigma2);
int pa_dp_calibrate_exact(double eps, double delta, uint64_t l2sq, pa_dp_rational *pSigma2);

/* ------------------------------------------------------------------------- */
/* Accuracy (engine/dp/accuracy.c). */

/*
 * Exact two-sided interval of a published cell's noise: the smallest integer w
 * with P(|Z| <= w) >= level, where Z is the sum of nShares independent
 * N_Z(0, sigma2) (nShares = 2: one draw per aggregator; 1 is also accepted).
 * Computed from the exact distribution (for two shares the pmf has the closed form
 * exp(-z^2/(4 sigma2)) * S_{z mod 2}, see docs/dp.md).  level in (0, 1), e.g. 0.9,
 * 0.95, 0.9999.  sigma2 up to 10^14.
 */
int pa_dp_gaussian_interval(double sigma2, unsigned nShares, double level, uint64_t *pHalfWidth);

/* P(Z = z) for the same Z (tests and error bars). */
int pa_dp_gaussian_sum_pmf(double sigma2, unsigned nShares, int64_t z, double *pP);

#endif
