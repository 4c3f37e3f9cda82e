// The subcommands of `juncture`. Each Add*Command registers its options on the CLI11
// app and returns the function that runs it (exit code: 0 ok, 1 diagnostics or
// failures, 2 usage).
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

namespace juncture::tools {

using Runner = std::function<int()>;

Runner AddLintCommand(CLI::App& app);
Runner AddCompileCommand(CLI::App& app);
Runner AddFmtCommand(CLI::App& app);
Runner AddGraphCommand(CLI::App& app);
Runner AddApproveCommand(CLI::App& app);
Runner AddRunCommand(CLI::App& app);
Runner AddExplainCommand(CLI::App& app);
Runner AddLspCommand(CLI::App& app);
Runner AddTestCommand(CLI::App& app);
Runner AddServeCommand(CLI::App& app);
Runner AddReportCommand(CLI::App& app);
Runner AddStateCommand(CLI::App& app);
Runner AddPublishCommand(CLI::App& app);
Runner AddIngestCommand(CLI::App& app);

// Options shared by every command that compiles a program.
struct ProgramOptions {
  std::vector<std::string> paths;
  std::vector<std::string> warning_flags;  // -Wno-<code>, -W<code>, -Werror
  std::string approvals;
};

// Registers PATHS..., -W and --approvals on `cmd`.
void AddProgramOptions(CLI::App& cmd, ProgramOptions& options);

}  // namespace juncture::tools
