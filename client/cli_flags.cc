#include "client/cli_flags.h"

#include <iostream>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/internal/program_name.h"
#include "absl/flags/internal/usage.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

#ifndef ENSOLVE_BUILD_INFO
#define ENSOLVE_BUILD_INFO "unknown build"
#endif

namespace ensolve {

namespace {
const std::string* program_name = nullptr;
}  // namespace

void ConfigureUsage(const char* program, const char* version) {
  static std::string* name = new std::string(program);
  program_name = name;
  static std::string* version_text =
      new std::string(absl::StrCat(program, " ", version, " (", ENSOLVE_BUILD_INFO, ")\n"));
  absl::FlagsUsageConfig config;
  // Help lists flags by "file"; name them by program instead of by build path.
  config.normalize_filename = [](absl::string_view file) {
    return absl::StrContains(file, "absl/") ? std::string("abseil") : *name;
  };
  config.contains_help_flags = [](absl::string_view file) { return file == *name; };
  config.contains_helpshort_flags = config.contains_help_flags;
  config.version_string = [] { return *version_text; };
  absl::SetFlagsUsageConfig(config);
}

bool HandleHelp(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const absl::string_view arg = argv[i];
    if (arg == "--") break;
    const bool full = arg == "--helpfull" || arg == "-helpfull";
    if (!full && arg != "--help" && arg != "-help" && arg != "--helpshort" && arg != "-helpshort") {
      continue;
    }
    // FlagsHelp is what Abseil's --help prints, minus its exit status.
    absl::flags_internal::SetProgramInvocationName(argv[0]);
    absl::flags_internal::FlagsHelp(std::cout, full ? "" : *program_name,
                                    absl::flags_internal::HelpFormat::kHumanReadable,
                                    absl::ProgramUsageMessage());
    std::cout.flush();
    return true;
  }
  return false;
}

absl::Status CheckFlags(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (arg == "--") break;  // the rest are positional arguments
    if (arg.size() < 2 || arg[0] != '-' || arg == "-") continue;
    arg.remove_prefix(arg[1] == '-' ? 2 : 1);
    absl::string_view name = arg, value;
    const size_t eq = arg.find('=');
    const bool has_value = eq != absl::string_view::npos;
    if (has_value) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
    }
    // Abseil's own flags, which it handles itself.
    for (const char* builtin :
         {"help", "helpfull", "helpshort", "helppackage", "helpon", "helpmatch", "version",
          "only_check_args", "flagfile", "fromenv", "tryfromenv", "undefok"}) {
      if (name == builtin) name = "";
    }
    if (name.empty()) continue;
    absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    if (flag == nullptr && !has_value && absl::StartsWith(name, "no")) {
      flag = absl::FindCommandLineFlag(name.substr(2));  // --nofoo for a bool --foo
      if (flag != nullptr && flag->IsOfType<bool>()) continue;
      flag = nullptr;
    }
    if (flag == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag --", name));
    }
    std::string text;
    if (has_value) {
      text = std::string(value);
    } else if (flag->IsOfType<bool>()) {
      continue;
    } else if (i + 1 < argc) {
      text = argv[++i];  // "--flag value"
    } else {
      return absl::InvalidArgumentError(absl::StrCat("--", name, " needs a value"));
    }
    // Parse a copy of the value the way Abseil will, to report a bad one ourselves.
    std::string error;
    const std::string saved = flag->CurrentValue();
    if (!flag->ParseFrom(text, &error)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--", name, "=", text, ": ", error.empty() ? "bad value" : error));
    }
    std::string ignored;
    flag->ParseFrom(saved, &ignored);
  }
  return absl::OkStatus();
}

}  // namespace ensolve
