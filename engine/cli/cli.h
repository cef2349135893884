/*
 * The privagg command's subcommands (internal).  One file per subcommand in
 * engine/cli/; each entry point takes the arguments after its own name
 * (argv[0] is the subcommand name) and returns the process exit status:
 * 0 success, 1 the work failed (e.g. a vector did not match), 2 bad usage.
 */
#ifndef PA_CLI_H
#define PA_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

int pa_cli_conformance(int argc, char **argv);
int pa_cli_conformance_vdaf(int argc, char **argv);
int pa_cli_conformance_hpke(int argc, char **argv);
int pa_cli_dp(int argc, char **argv);
int pa_cli_ledger(int argc, char **argv);

int pa_cli_keygen(int argc, char **argv);
int pa_cli_task(int argc, char **argv);
int pa_cli_serve(int argc, char **argv);
int pa_cli_submit(int argc, char **argv);
int pa_cli_collect(int argc, char **argv);
int pa_cli_demo(int argc, char **argv);
int pa_cli_tls(int argc, char **argv);
int pa_cli_publish(int argc, char **argv);
int pa_cli_audit(int argc, char **argv);
int pa_cli_synth(int argc, char **argv);
int pa_cli_store(int argc, char **argv);
int pa_cli_status(int argc, char **argv);
int pa_cli_registry(int argc, char **argv);

/* Options: fill zName and bFlag; pa_cli_parse() sets bSeen and zValue. */
typedef struct {
    const char *zName;   /* "--role" */
    int bFlag;           /* 1: takes no value; PA_CLI_TWO_VALUES: takes two */
    const char *zValue;
    int bSeen;
    const char *zValue2; /* the second value of a two-value option */
} pa_cli_opt;
#define PA_CLI_TWO_VALUES 2 /* e.g. --ledgers leader.json helper.json */

/* Parse argv[1..] (argv[0] is the subcommand); 0, or 2 after printing why. */
int pa_cli_parse(int argc, char **argv, pa_cli_opt *aOpt, size_t nOpt);
/* The start of every subcommand: parse, and answer --help with xUsage.  Returns -1
 * to go on, else the exit status (0 after --help, 2 for a bad option). */
int pa_cli_begin(int argc, char **argv, pa_cli_opt *aOpt, size_t nOpt, void (*xUsage)(FILE *out));
const char *pa_cli_value(const pa_cli_opt *aOpt, size_t nOpt, const char *zName);
int pa_cli_seen(const pa_cli_opt *aOpt, size_t nOpt, const char *zName);
/* Parse a number option; 0, or 2 after printing the option, value and range. */
int pa_cli_uint(const char *zCmd, const char *zOpt, const char *zValue, unsigned long long nMin,
                unsigned long long nMax, unsigned long long *pOut);
int pa_cli_real(const char *zCmd, const char *zOpt, const char *zValue, double rMin, double rMax,
                double *pOut);

/* The folder of the shipped data: zOverride (--data) when not NULL, else the
 * installed share/privagg/data next to the executable, the source tree's data/
 * of a build-tree binary, the configured prefix's data folder, or "data"
 * (engine/cli/datadir.c).  The result is zOverride, zBuf or a constant. */
const char *pa_cli_data_dir(const char *zOverride, char *zBuf, size_t nBuf);

/* Unix seconds t as "YYYY-MM-DD HH:MM:SS UTC" into z (n bytes; 24 suffice), or
 * "@t" when the time cannot be shown so. */
void pa_cli_utc(char *z, size_t n, int64_t t);

/* Print "privagg: <what>: <pa_strerror(code)>: <detail>" to stderr. */
void pa_cli_report(const char *what, int code);

#endif
