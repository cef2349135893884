/*
 * privagg conformance vdaf PATH... — replays the draft-irtf-cfrg-vdaf-20 Prio3 and
 * XOF test vectors (files or folders of *.json) through the real code; the work is
 * in tools/conformance/vdaf_*.c.  Exit 0 only if every file passes.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "conformance/vdaf_conformance.h"

int pa_cli_conformance_vdaf(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        FILE *out = argc < 2 ? stderr : stdout;
        fprintf(out, "usage: privagg conformance vdaf PATH...\n"
                     "\n"
                     "PATH is a vector file or a folder (non-JSON files ignored).  The VDAF is\n"
                     "named by the file name's prefix before the first '_'.  Prints one line per\n"
                     "file: PASS, FAIL (with the step, report, aggregator and the bytes) or SKIP.\n"
                     "\n"
                     "exit status:\n"
                     "  0  every file passed (or was skipped)\n"
                     "  1  a file failed or could not be read\n"
                     "  2  bad usage\n"
                     "\n"
                     "example:\n"
                     "  privagg conformance vdaf tests/vectors/vdaf\n");
        return argc < 2 ? 2 : 0;
    }
    for (int i = 1; i < argc; i++)
        if (argv[i][0] == '-') {
            fprintf(stderr, "privagg conformance vdaf: unknown option '%s' (see --help)\n", argv[i]);
            return 2;
        }
    return pa_conformance_vdaf_main(argc - 1, argv + 1, stdout);
}
