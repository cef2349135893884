/*
 * privagg conformance hpke FILE... — replays RFC 9180 vector files
 * (tools/conformance/hpke_vectors.c) and prints one line per file:
 *   PASS <file>
 *   FAIL <file>: <what>, entry <i>: expected <hex> got <hex>
 * Exit status 0 only if every file passes; 1 if any fails; 2 on bad usage.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "conformance/hpke_vectors.h"
#include "privagg/common.h"

int pa_cli_conformance_hpke(int argc, char **argv)
{
    int nFail = 0;

    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fprintf(argc < 2 ? stderr : stdout,
                "usage: privagg conformance hpke FILE...\n"
                "\n"
                "Replays RFC 9180 test-vector files (JSON, see tests/vectors/hpke/README.md)\n"
                "for DHKEM(X25519, HKDF-SHA256) / HKDF-SHA256 / ChaCha20Poly1305 and\n"
                "checks every intermediate value, ciphertext and export byte for byte.\n"
                "Prints PASS or FAIL per file; exits 0 only if every file passes.\n"
                "\n"
                "exit status:\n"
                "  0  every file passed\n"
                "  1  a file failed or could not be read\n"
                "  2  bad usage\n"
                "\n"
                "example:\n"
                "  privagg conformance hpke tests/vectors/hpke/x25519-hkdfsha256-chacha20poly1305.json\n");
        return argc < 2 ? 2 : 0;
    }
    for (int i = 1; i < argc; i++)
        if (argv[i][0] == '-') {
            fprintf(stderr, "privagg conformance hpke: unknown option '%s' (see --help)\n", argv[i]);
            return 2;
        }
    for (int i = 1; i < argc; i++) {
        pa_error_clear();
        int rc = pa_conformance_hpke_file(argv[i], NULL);
        if (rc == 0) {
            printf("PASS %s\n", argv[i]);
        } else {
            const char *zDetail = pa_error_detail();
            printf("FAIL %s: %s\n", argv[i], zDetail[0] != '\0' ? zDetail : pa_strerror(rc));
            nFail++;
        }
    }
    fflush(stdout);
    return nFail == 0 ? 0 : 1;
}
