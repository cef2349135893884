/*
 * The privagg command's subcommands (internal).  One file per subcommand in
 * engine/cli/; each entry point takes the arguments after its own name
 * (argv[0] is the subcommand name) and returns the process exit status:
 * 0 success, 1 the work failed (e.g. a vector did not match), 2 bad usage.
 */
#ifndef PA_CLI_H
#define PA_CLI_H

int pa_cli_conformance(int argc, char **argv);
int pa_cli_conformance_vdaf(int argc, char **argv);
int pa_cli_conformance_hpke(int argc, char **argv);
int pa_cli_dp(int argc, char **argv);

/* Print "privagg: <what>: <pa_strerror(code)>: <detail>" to stderr. */
void pa_cli_report(const char *what, int code);

#endif
