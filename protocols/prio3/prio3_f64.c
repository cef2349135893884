/*
 * Prio3's field-specific steps (draft-irtf-cfrg-vdaf-20 §7.2) for
 * Field64: see prio3/prio3_tmpl.h.
 */
#define FLD f64
#define FLD_ENC 8
#include "prio3/prio3_tmpl.h"
