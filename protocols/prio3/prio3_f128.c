/*
 * Prio3's field-specific steps (draft-irtf-cfrg-vdaf-20 §7.2) for
 * Field128: see prio3/prio3_tmpl.h.
 */
#define FLD f128
#define FLD_ENC 16
#include "prio3/prio3_tmpl.h"
