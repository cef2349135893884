/*
 * Internal: numerics of the discrete Gaussian used by accounting.c and accuracy.c
 * (never by the samplers).  long double throughout; sums of e^{-(y-c)^2/(2 s2)} over
 * the integers are taken directly for small s2 and by Poisson summation
 *   sum_y e^{-(y-c)^2/(2 s2)} = sqrt(2 pi s2) sum_k e^{-2 pi^2 s2 k^2} cos(2 pi k c)
 * (an exact identity whose series converges after a handful of terms) above.
 */
#ifndef PA_DP_DGMATH_H
#define PA_DP_DGMATH_H

#include <stdint.h>

/* sum over all integers y of e^{-(y-c)^2/(2 s2)}, s2 > 0 */
long double pa_dp_dg_theta(long double s2, long double c);

/* sum over integers z >= m (m >= 0) of e^{-z^2/(2 s2)} */
long double pa_dp_dg_tail_weight(long double s2, int64_t m);

/* P[Z >= m] for Z ~ N_Z(0, s2), any integer m */
long double pa_dp_dg_tail_prob(long double s2, int64_t m);

#endif
