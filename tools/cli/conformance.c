/*
 * privagg conformance — replays official test vectors through the real code.
 *   privagg conformance vdaf PATH...   (draft-irtf-cfrg-vdaf-20 Prio3 vectors)
 *   privagg conformance hpke FILE...   (RFC 9180 vectors)
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: privagg conformance vdaf PATH...\n"
            "       privagg conformance hpke FILE...\n"
            "\n"
            "Replays official test vectors and compares every byte.  PATH is a vector\n"
            "file or a folder of them; the VDAF is named by the file name's prefix\n"
            "(Prio3Count_0.json -> Prio3Count).  Prints PASS, FAIL or SKIP per file;\n"
            "exits 0 only if every file passes.\n"
            "\n"
            "exit status:\n"
            "  0  every file passed (or was skipped)\n"
            "  1  a file failed or could not be read\n"
            "  2  bad usage\n"
            "\n"
            "example:\n"
            "  privagg conformance vdaf tests/vectors/vdaf\n"
            "  privagg conformance hpke tests/vectors/hpke/x25519-hkdfsha256-chacha20poly1305.json\n");
}

int pa_cli_conformance(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "vdaf") == 0)
        return pa_cli_conformance_vdaf(argc - 1, argv + 1);
    if (strcmp(argv[1], "hpke") == 0)
        return pa_cli_conformance_hpke(argc - 1, argv + 1);
    fprintf(stderr, "privagg conformance: unknown suite '%s' (expected vdaf or hpke)\n", argv[1]);
    usage(stderr);
    return 2;
}
