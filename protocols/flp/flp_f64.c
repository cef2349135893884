/*
 * The generic FLP and its circuits (draft-irtf-cfrg-vdaf-20 §7.3, §7.4)
 * instantiated for Field64: see flp/flp_tmpl.h.
 */
#define FLD f64
#include "flp/flp_tmpl.h"
