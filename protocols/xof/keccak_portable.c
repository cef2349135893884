/*
 * Keccak-p[1600, 12] for any CPU: the scalar round of keccak_round.h expanded
 * for the baseline instruction set (the fallback of turboshake128.c, and the
 * reference the faster backends are tested against).  Written here because
 * Debian's libsodium (1.0.18) has no Keccak.
 *
 * Strategy ("64-bit lanes, fully unrolled"): the 25 lanes live in local
 * variables for the whole run of full blocks; twelve rounds expanded inline,
 * alternating two lane sets so nothing is copied; blocks are XORed straight
 * from the caller's buffer with 64-bit little-endian loads.  Constant time.
 */
#include "xof/keccak_impl.h"
#include "xof/keccak_round.h"
#include "xof/turboshake128.h"

PA_KECCAK_SCALAR_BACKEND(portable, )
