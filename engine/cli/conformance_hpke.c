/*
 * privagg conformance hpke — placeholder until its module lands (fails loudly, never passes).
 */
#include <stdio.h>

#include "cli/cli.h"

int pa_cli_conformance_hpke(int argc, char **argv)
{
    (void)argc;
    fprintf(stderr, "privagg %s: not implemented yet\n", argv[0]);
    return 1;
}
