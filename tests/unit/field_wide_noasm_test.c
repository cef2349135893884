/*
 * field_wide_test.c against the portable (non-assembly) Field128 code: the same
 * GMP cross-checks of pa_f128_wide_* with PA_F128_NO_ASM defined.
 */
#define PA_F128_NO_ASM 1
#include "field_wide_test.c"
