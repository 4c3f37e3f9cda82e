// juncture_compile: sources (and an approvals ledger) to a runnable program, through
// the same CompileSources and back ends as the command line.
#include <memory>
#include <utility>
#include <vector>

#include "internal.h"
#include "juncture/compiler/backend.h"
#include "juncture/compiler/jit.h"
#include "juncture/compiler/compiler.h"

namespace juncture::capi {
namespace {

juncture_status Compile(const juncture_source* sources, size_t count,
                        const char* approvals_json, juncture_backend backend,
                        juncture_program** out) {
  if (!out) return Fail(JUNCTURE_ERROR_ARGUMENT, "juncture_compile: out_program is NULL");
  *out = nullptr;
  if (!sources || count == 0) {
    return Fail(JUNCTURE_ERROR_ARGUMENT, "juncture_compile: no sources");
  }
  if (backend != JUNCTURE_BACKEND_JIT && backend != JUNCTURE_BACKEND_INTERPRETER) {
    return Fail(JUNCTURE_ERROR_ARGUMENT, "juncture_compile: unknown backend");
  }
  std::vector<std::pair<std::string, std::string>> files;
  for (size_t i = 0; i < count; ++i) {
    const juncture_source& s = sources[i];
    if (!s.name || (!s.text && s.length > 0)) {
      return Fail(JUNCTURE_ERROR_ARGUMENT, "juncture_compile: a source without a name or "
                  "text: number ", std::to_string(i));
    }
    files.emplace_back(s.name, std::string(s.text ? s.text : "", s.length));
  }

  compiler::CompileOptions options;
  // Only errors stop a program; warnings are `juncture lint`'s business.
  options.warnings.DisableAll();
  std::unique_ptr<compiler::Compilation> c =
      compiler::CompileSources(files, options, approvals_json ? approvals_json : "");
  if (!c->ok()) {
    return Fail(JUNCTURE_ERROR_COMPILE, c->FormatDiagnostics(compiler::DiagnosticFormat::kText));
  }

  auto program = std::make_unique<juncture_program>();
  if (backend == JUNCTURE_BACKEND_INTERPRETER) {
    program->compiled = *compiler::MakeInterpretedProgram(*c);
  } else {
    Result<runtime::CompiledProgram> jitted = compiler::MakeJitProgram(*c);
    if (!jitted.ok()) {
      return Fail(JUNCTURE_ERROR_BACKEND,
                  "the JIT could not compile the program: ", jitted.status().message());
    }
    program->compiled = *std::move(jitted);
  }
  *out = program.release();
  return JUNCTURE_OK;
}

}  // namespace
}  // namespace juncture::capi

extern "C" juncture_status juncture_compile(const juncture_source* sources, size_t count,
                                            const char* approvals_json,
                                            juncture_backend backend,
                                            juncture_program** out_program) {
  return juncture::capi::Guard([&] {
    return juncture::capi::Compile(sources, count, approvals_json, backend, out_program);
  });
}

extern "C" void juncture_program_free(juncture_program* program) { delete program; }
