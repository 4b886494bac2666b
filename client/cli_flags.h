// Command-line plumbing of the ensolve CLI on top of Abseil flags: help text without build
// paths, --version, and usage errors that exit 2 (Abseil's own parser exits 1 on them).
#ifndef ENSOLVE_CLIENT_CLI_FLAGS_H_
#define ENSOLVE_CLIENT_CLI_FLAGS_H_

#include "absl/status/status.h"

namespace ensolve {

// Sets what --help and --version print: flags listed under `program` (not under the
// source file's path), and "`program` VERSION (BUILD)" for --version.
void ConfigureUsage(const char* program, const char* version);

// Prints the help asked for by --help/--helpshort (this program's flags) or --helpfull
// (all) to stdout and returns true; Abseil's own handling would exit 1.
bool HandleHelp(int argc, char** argv);

// Checks every --flag of argv before Abseil parses it: each must exist and its value must
// parse. INVALID_ARGUMENT names the first offender.
absl::Status CheckFlags(int argc, char** argv);

}  // namespace ensolve

#endif  // ENSOLVE_CLIENT_CLI_FLAGS_H_
