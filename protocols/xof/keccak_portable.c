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

void pa_keccak_p12_portable(uint64_t s[25])
{
    PA_LANES_DECLARE(a);
    PA_LANES_DECLARE(e);

    PA_LANES_LOAD(a, s);
    PA_KECCAK_P12(a, e);
    PA_LANES_STORE(s, a);
}

void pa_keccak_absorb_portable(uint64_t s[25], const uint8_t *in, size_t nblocks)
{
    PA_LANES_DECLARE(a);
    PA_LANES_DECLARE(e);

    PA_LANES_LOAD(a, s);
    while (nblocks-- > 0) {
        PA_LANES_XOR_BLOCK(a, in);
        PA_KECCAK_P12(a, e);
        in += PA_TURBOSHAKE128_RATE;
    }
    PA_LANES_STORE(s, a);
}
