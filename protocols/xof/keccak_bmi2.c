/*
 * Keccak-p[1600, 12] for x86-64 CPUs with BMI1 and BMI2 but without AVX-512VL
 * (e.g. Haswell..Ice Lake clients, Zen 1-3).  Written here because Debian's
 * libsodium (1.0.18) has no Keccak.
 *
 * Strategy: the very same scalar round (keccak_round.h) as keccak_portable.c,
 * expanded inside functions compiled with target("bmi,bmi2"), so the compiler
 * emits andn for chi's ~b & c and rorx (a non-destructive rotate that does not
 * touch the flags) for rho and theta; that saves the register copies the
 * two-operand forms need.  Measured on Zen 4: about 15% faster than the
 * portable build.  turboshake128.c calls these only after
 * __builtin_cpu_supports("bmi") and ("bmi2").  Constant time.
 */
#include "xof/keccak_impl.h"

#if PA_KECCAK_X86
#include "xof/keccak_round.h"
#include "xof/turboshake128.h"

#define PA_BMI2_ATTR __attribute__((target("bmi,bmi2")))

PA_KECCAK_SCALAR_BACKEND(bmi2, PA_BMI2_ATTR)
#else
typedef int pa_keccak_bmi2_unused; /* ISO C forbids an empty translation unit */
#endif
