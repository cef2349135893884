/*
 * privagg dp — differential-privacy conversions, calibration and sampling, thin
 * over engine/dp (include/privagg/dp.h):
 *   privagg dp eps       --rho R --delta D                 tight eps (CKS 2020 Cor. 13)
 *   privagg dp rho       --eps E --delta D                 largest rho meeting (eps, delta)
 *   privagg dp delta     --sigma2 S --eps E --sensitivity K  exact delta (CKS 2020 Thm 7)
 *   privagg dp calibrate --eps E --delta D --sensitivity K   smallest sigma2
 *   privagg dp sample    --mechanism gaussian|laplace ...    exact samples
 * Plain output is the number alone on one line (samples: one per line); --json
 * prints an object.  Bad arguments: a message on stderr and exit status 2.
 */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "privagg/common.h"
#include "privagg/dp.h"

#define DP_MAX_SAMPLES 100000000ull

struct dp_opts {
    const char *zRho, *zEps, *zDelta, *zSigma2, *zScale, *zSens, *zMech, *zCount, *zSeed;
    int bJson, bHelp, bExact;
};

struct dp_sub {
    const char *zName;
    int (*xRun)(const struct dp_opts *);
    const char *zUsage;
};

static int usage_error(const char *zSub, const char *zMsg, const char *zArg)
{
    fprintf(stderr, "privagg dp %s: %s%s%s\n", zSub, zMsg, zArg ? ": " : "", zArg ? zArg : "");
    fprintf(stderr, "Run 'privagg dp %s --help' for usage.\n", zSub);
    return 2;
}

/* strict: the whole text is a finite number */
static int parse_real(const char *zSub, const char *zName, const char *z, double *pOut)
{
    char *zEnd;
    if (z == NULL)
        return usage_error(zSub, "missing required option", zName);
    errno = 0;
    *pOut = strtod(z, &zEnd);
    if (zEnd == z || *zEnd != '\0' || errno == ERANGE || !isfinite(*pOut)) {
        fprintf(stderr, "privagg dp %s: %s: '%s' is not a finite number\n", zSub, zName, z);
        return 2;
    }
    return 0;
}

static int parse_u64(const char *zSub, const char *zName, const char *z, uint64_t lo, uint64_t hi,
                     uint64_t *pOut)
{
    char *zEnd;
    unsigned long long v;
    if (z == NULL)
        return usage_error(zSub, "missing required option", zName);
    errno = 0;
    if (*z < '0' || *z > '9' || (v = strtoull(z, &zEnd, 10), *zEnd != '\0') || errno == ERANGE ||
        v < lo || v > hi) {
        fprintf(stderr, "privagg dp %s: %s: '%s' is not an integer in %llu..%llu\n", zSub, zName,
                z, (unsigned long long)lo, (unsigned long long)hi);
        return 2;
    }
    *pOut = v;
    return 0;
}

static int parse_rational(const char *zSub, const char *zName, const char *z, pa_dp_rational *pOut)
{
    if (z == NULL)
        return usage_error(zSub, "missing required option", zName);
    if (pa_dp_rational_parse(z, pOut) != PA_OK || pOut->num == 0) {
        fprintf(stderr, "privagg dp %s: %s: '%s' is not a positive exact number (%s)\n", zSub,
                zName, z, pOut->num == 0 ? "must be > 0" : pa_error_detail());
        return 2;
    }
    return 0;
}

static int print_json(json_t *pObj)
{
    char *z = json_dumps(pObj, JSON_REAL_PRECISION(17) | JSON_COMPACT);
    json_decref(pObj);
    if (z == NULL)
        return 1;
    printf("%s\n", z);
    free(z);
    return 0;
}

/* engine failure on an argument the parser accepted: report and exit 2 */
static int engine_error(const char *zSub, int rc)
{
    char zWhat[64];
    snprintf(zWhat, sizeof zWhat, "dp %s", zSub);
    pa_cli_report(zWhat, rc);
    return rc == PA_EINVAL || rc == PA_ERANGE || rc == PA_EUNSUPPORTED ? 2 : 1;
}

static int run_eps(const struct dp_opts *o)
{
    double rho, delta, epsT, epsS;
    int rc;
    if ((rc = parse_real("eps", "--rho", o->zRho, &rho)) || (rc = parse_real("eps", "--delta", o->zDelta, &delta)))
        return rc;
    if ((rc = pa_dp_zcdp_eps(rho, delta, &epsT, &epsS)) != PA_OK)
        return engine_error("eps", rc);
    if (o->bJson)
        return print_json(json_pack("{s:f, s:f, s:f, s:f, s:s}", "rho", rho, "delta", delta, "eps",
                                    epsT, "eps_standard", epsS, "conversion",
                                    "CKS 2020 Corollary 13 (tight); standard rho + 2 sqrt(rho ln(1/delta))"));
    printf("%.15g\n", epsT);
    return 0;
}

static int run_rho(const struct dp_opts *o)
{
    double eps, delta, rho;
    int rc;
    if ((rc = parse_real("rho", "--eps", o->zEps, &eps)) || (rc = parse_real("rho", "--delta", o->zDelta, &delta)))
        return rc;
    if ((rc = pa_dp_rho_from_eps_delta(eps, delta, &rho)) != PA_OK)
        return engine_error("rho", rc);
    if (o->bJson)
        return print_json(json_pack("{s:f, s:f, s:f}", "eps", eps, "delta", delta, "rho", rho));
    printf("%.15g\n", rho);
    return 0;
}

static int run_delta(const struct dp_opts *o)
{
    pa_dp_rational s2;
    double eps, delta, sigma2;
    uint64_t k;
    int rc;
    if ((rc = parse_rational("delta", "--sigma2", o->zSigma2, &s2)) ||
        (rc = parse_real("delta", "--eps", o->zEps, &eps)) ||
        (rc = parse_u64("delta", "--sensitivity", o->zSens, 1, (uint64_t)1 << 32, &k)))
        return rc;
    sigma2 = (double)pa_dp_rational_to_ld(s2);
    if ((rc = pa_dp_gaussian_exact_delta(sigma2, k, eps, &delta)) != PA_OK)
        return engine_error("delta", rc);
    if (o->bJson)
        return print_json(json_pack("{s:f, s:f, s:I, s:f, s:s}", "sigma2", sigma2, "eps", eps,
                                    "sensitivity", (json_int_t)k, "delta", delta, "formula",
                                    "CKS 2020 Theorem 7"));
    printf("%.15g\n", delta);
    return 0;
}

static int run_calibrate(const struct dp_opts *o)
{
    pa_dp_rational s2;
    double eps, delta, rho;
    uint64_t k;
    char zS2[64];
    int rc;
    double rhoTarget = 0;
    if (o->zRho != NULL) {
        /* target rho directly */
        if (o->zEps != NULL || o->zDelta != NULL || o->bExact)
            return usage_error("calibrate", "give either --rho or --eps/--delta [--exact]", NULL);
        if ((rc = parse_real("calibrate", "--rho", o->zRho, &rhoTarget)) ||
            (rc = parse_u64("calibrate", "--sensitivity", o->zSens, 1, (uint64_t)1 << 32, &k)))
            return rc;
        eps = delta = 0;
        rc = pa_dp_calibrate_rho(rhoTarget, k * k, &s2);
    } else {
        if ((rc = parse_real("calibrate", "--eps", o->zEps, &eps)) ||
            (rc = parse_real("calibrate", "--delta", o->zDelta, &delta)) ||
            (rc = parse_u64("calibrate", "--sensitivity", o->zSens, 1, (uint64_t)1 << 32, &k)))
            return rc;
        rc = o->bExact ? pa_dp_calibrate_exact(eps, delta, k * k, &s2)
                       : pa_dp_calibrate_eps_delta(eps, delta, k * k, &s2);
    }
    if (rc != PA_OK || (rc = pa_dp_rational_format(s2, zS2, sizeof zS2)) != PA_OK ||
        (rc = pa_dp_rho_gaussian(k * k, s2, &rho)) != PA_OK)
        return engine_error("calibrate", rc);
    if (o->bJson)
        return print_json(json_pack("{s:f, s:f, s:I, s:s, s:f, s:s, s:f}", "eps", eps, "delta", delta,
                                    "sensitivity", (json_int_t)k, "sigma2", zS2, "sigma2_value",
                                    (double)pa_dp_rational_to_ld(s2), "method",
                                    o->zRho ? "rho target: sigma2 >= K^2/(2 rho)"
                                    : o->bExact ? "exact (CKS 2020 Theorem 7, one release)"
                                                : "zCDP (CKS 2020 Corollary 13)",
                                    "rho", rho));
    printf("%s\n", zS2);
    return 0;
}

static int parse_seed(const char *z, uint8_t aSeed[32], size_t *pn)
{
    size_t n = strlen(z);
    if (n == 0 || n > 64 || n % 2 != 0)
        return -1;
    for (size_t i = 0; i < n; i += 2) {
        unsigned v = 0;
        for (size_t j = 0; j < 2; j++) {
            char c = z[i + j];
            v <<= 4;
            if (c >= '0' && c <= '9')
                v |= (unsigned)(c - '0');
            else if (c >= 'a' && c <= 'f')
                v |= (unsigned)(c - 'a' + 10);
            else if (c >= 'A' && c <= 'F')
                v |= (unsigned)(c - 'A' + 10);
            else
                return -1;
        }
        aSeed[i / 2] = (uint8_t)v;
    }
    *pn = n / 2;
    return 0;
}

static int run_sample(const struct dp_opts *o)
{
    pa_dp_mechanism mech;
    pa_dp_rational param;
    pa_dp_rng *pRng = NULL;
    uint64_t n;
    uint8_t aSeed[32];
    size_t nSeed = 0;
    json_t *pArr = NULL;
    int rc;

    if (o->zMech == NULL)
        return usage_error("sample", "missing required option", "--mechanism");
    if (strcmp(o->zMech, "gaussian") == 0) {
        if (o->zScale)
            return usage_error("sample", "--scale belongs to --mechanism laplace", NULL);
        if ((rc = parse_rational("sample", "--sigma2", o->zSigma2, &param)))
            return rc;
        rc = pa_dp_mechanism_gaussian(&mech, param);
    } else if (strcmp(o->zMech, "laplace") == 0) {
        if (o->zSigma2)
            return usage_error("sample", "--sigma2 belongs to --mechanism gaussian", NULL);
        if ((rc = parse_rational("sample", "--scale", o->zScale, &param)))
            return rc;
        rc = pa_dp_mechanism_laplace(&mech, param);
    } else {
        return usage_error("sample", "--mechanism must be gaussian or laplace, got", o->zMech);
    }
    if (rc != PA_OK)
        return engine_error("sample", rc);
    if ((rc = parse_u64("sample", "--count", o->zCount, 1, DP_MAX_SAMPLES, &n)))
        return rc;
    if (o->zSeed && parse_seed(o->zSeed, aSeed, &nSeed) != 0)
        return usage_error("sample", "--seed must be 2 to 64 hex digits (even count), got", o->zSeed);
    rc = o->zSeed ? pa_dp_rng_new_seeded_for_tests(&pRng, aSeed, nSeed) : pa_dp_rng_new(&pRng);
    if (rc != PA_OK)
        return engine_error("sample", rc);
    if (o->bJson)
        pArr = json_array();
    for (uint64_t i = 0; i < n; i++) {
        int64_t x;
        if ((rc = pa_dp_sample_vartime(pRng, &mech, &x)) != PA_OK)
            break;
        if (pArr)
            json_array_append_new(pArr, json_integer((json_int_t)x));
        else
            printf("%lld\n", (long long)x);
    }
    pa_dp_rng_free(pRng);
    if (rc != PA_OK) {
        json_decref(pArr);
        return engine_error("sample", rc);
    }
    if (pArr) {
        char zParam[64];
        if (pa_dp_rational_format(mech.param, zParam, sizeof zParam) != PA_OK)
            zParam[0] = '\0';
        return print_json(json_pack("{s:s, s:s, s:s, s:o}", "mechanism", o->zMech,
                                    mech.kind == PA_DP_GAUSSIAN ? "sigma2" : "scale", zParam,
                                    "seeded", o->zSeed ? "yes (tests only)" : "no", "samples", pArr));
    }
    return 0;
}

static const struct dp_sub g_subs[] = {
    {"eps", run_eps,
     "usage: privagg dp eps --rho R --delta D [--json]\n"
     "Converts rho-zCDP to (eps, delta)-DP with the tight conversion of Canonne,\n"
     "Kamath, Steinke 2020 (Corollary 13, optimised over alpha > 1).  --json also\n"
     "prints the standard eps = rho + 2 sqrt(rho ln(1/delta)).\n"
     "example:\n  privagg dp eps --rho 0.05 --delta 1e-6\n"},
    {"rho", run_rho,
     "usage: privagg dp rho --eps E --delta D [--json]\n"
     "The largest rho whose tight conversion (CKS 2020 Corollary 13) meets (eps, delta).\n"
     "example:\n  privagg dp rho --eps 1 --delta 1e-6\n"},
    {"delta", run_delta,
     "usage: privagg dp delta --sigma2 S --eps E --sensitivity K [--json]\n"
     "Exact delta(eps) of one discrete Gaussian release N_Z(0, S) with integer L2\n"
     "sensitivity K (CKS 2020 Theorem 7).\n"
     "example:\n  privagg dp delta --sigma2 10 --eps 1 --sensitivity 1\n"},
    {"calibrate", run_calibrate,
     "usage: privagg dp calibrate --eps E --delta D --sensitivity K [--exact] [--json]\n"
     "       privagg dp calibrate --rho R --sensitivity K [--json]\n"
     "The smallest sigma2 (9 significant digits, printed exactly) of a discrete\n"
     "Gaussian meeting (eps, delta), or rho, at integer L2 sensitivity K.  Default:\n"
     "through zCDP, rho = largest rho meeting (eps, delta), sigma2 >= K^2/(2 rho)\n"
     "(composable: the ledger charges rho).  --exact: through the exact delta of one\n"
     "release (CKS 2020 Theorem 7).\n"
     "examples:\n  privagg dp calibrate --eps 1.5 --delta 1e-6 --sensitivity 1\n"
     "  privagg dp calibrate --rho 0.05 --sensitivity 1\n"},
    {"sample", run_sample,
     "usage: privagg dp sample --mechanism gaussian --sigma2 S --count N [--seed HEX] [--json]\n"
     "       privagg dp sample --mechanism laplace --scale S --count N [--seed HEX] [--json]\n"
     "Exact samples of the discrete Gaussian N_Z(0, S) or the discrete Laplace with\n"
     "scale S (CKS 2020 Algorithms 1-3), one per line.  S is exact: 0.5, 1e6, 3/7.\n"
     "--seed makes the output reproducible (ChaCha20 under the seed; for tests only,\n"
     "never used by an aggregator).  N <= 10^8.\n"
     "example:\n  privagg dp sample --mechanism gaussian --sigma2 25 --count 5 --seed 00ff\n"},
};

static const char g_zDpExit[] =
    "\n"
    "exit status:\n"
    "  0  printed\n"
    "  1  the computation failed (e.g. no sigma2 meets the target)\n"
    "  2  bad usage: an unknown option, a missing one, a value out of range\n";

static void dp_usage(FILE *out, int bFull)
{
    fprintf(out, "usage: privagg dp <eps|rho|delta|calibrate|sample> [options]\n"
                 "Differential-privacy conversions, calibration and exact sampling.\n");
    for (size_t i = 0; bFull && i < sizeof g_subs / sizeof g_subs[0]; i++)
        fprintf(out, "\n%s", g_subs[i].zUsage);
    if (bFull)
        fputs(g_zDpExit, out);
    else
        fprintf(out, "Run 'privagg dp --help' or 'privagg dp <subcommand> --help'.\n");
}

int pa_cli_dp(int argc, char **argv)
{
    const struct dp_sub *pSub = NULL;
    struct dp_opts o;

    if (argc < 2) {
        dp_usage(stderr, 0);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        dp_usage(stdout, 1);
        return 0;
    }
    for (size_t i = 0; i < sizeof g_subs / sizeof g_subs[0]; i++)
        if (strcmp(argv[1], g_subs[i].zName) == 0)
            pSub = &g_subs[i];
    if (pSub == NULL) {
        fprintf(stderr, "privagg dp: unknown subcommand '%s'\n", argv[1]);
        dp_usage(stderr, 0);
        return 2;
    }
    memset(&o, 0, sizeof o);
    /* the shared parser (engine/cli/opts.c) over the options this subcommand's
     * usage names, so "--rho=0.05" and "--rho 0.05" both work */
    static const struct {
        const char *zFlag;
        size_t off;
    } aVal[] = {
        {"--rho", offsetof(struct dp_opts, zRho)},       {"--eps", offsetof(struct dp_opts, zEps)},
        {"--delta", offsetof(struct dp_opts, zDelta)},   {"--sigma2", offsetof(struct dp_opts, zSigma2)},
        {"--scale", offsetof(struct dp_opts, zScale)},   {"--sensitivity", offsetof(struct dp_opts, zSens)},
        {"--mechanism", offsetof(struct dp_opts, zMech)}, {"--count", offsetof(struct dp_opts, zCount)},
        {"--seed", offsetof(struct dp_opts, zSeed)},
    };
    pa_cli_opt aOpt[sizeof aVal / sizeof aVal[0] + 4];
    size_t nOpt = 0;
    char zCmd[32];
    int rc;
    memset(aOpt, 0, sizeof aOpt);
    for (size_t j = 0; j < sizeof aVal / sizeof aVal[0]; j++)
        if (strstr(pSub->zUsage, aVal[j].zFlag) != NULL)
            aOpt[nOpt++].zName = aVal[j].zFlag;
    aOpt[nOpt].zName = "--json";
    aOpt[nOpt++].bFlag = 1;
    aOpt[nOpt].zName = "--help";
    aOpt[nOpt++].bFlag = 1;
    aOpt[nOpt].zName = "-h";
    aOpt[nOpt++].bFlag = 1;
    if (strcmp(pSub->zName, "calibrate") == 0) {
        aOpt[nOpt].zName = "--exact";
        aOpt[nOpt++].bFlag = 1;
    }
    snprintf(zCmd, sizeof zCmd, "dp %s", pSub->zName);
    argv[1] = zCmd;   /* the parser names the command by argv[0] */
    if ((rc = pa_cli_parse(argc - 1, argv + 1, aOpt, nOpt)) != 0)
        return rc;
    for (size_t j = 0; j < sizeof aVal / sizeof aVal[0]; j++)
        *(const char **)((char *)&o + aVal[j].off) = pa_cli_value(aOpt, nOpt, aVal[j].zFlag);
    o.bJson = pa_cli_seen(aOpt, nOpt, "--json");
    o.bHelp = pa_cli_seen(aOpt, nOpt, "--help") || pa_cli_seen(aOpt, nOpt, "-h");
    o.bExact = pa_cli_seen(aOpt, nOpt, "--exact");
    if (o.bHelp) {
        fputs(pSub->zUsage, stdout);
        fputs(g_zDpExit, stdout);
        return 0;
    }
    return pSub->xRun(&o);
}
