// Compile-time values: what a `const`, a field default, a `limit` bound or a
// constant sub-expression evaluates to. Folding follows the language's runtime
// semantics (int division truncates, division by zero yields 0).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ast/ast.h"

namespace juncture::compiler {

struct ConstValue {
  Type type;
  bool b = false;
  int64_t i = 0;  // int, duration (us), time (us)
  double f = 0;
  std::string s;
  std::vector<ConstValue> list;

  static ConstValue Bool(bool v) { ConstValue c; c.type = Type::Bool(); c.b = v; return c; }
  static ConstValue Int(int64_t v) { ConstValue c; c.type = Type::Int(); c.i = v; return c; }
  static ConstValue Float(double v) { ConstValue c; c.type = Type::Float(); c.f = v; return c; }
  static ConstValue Str(std::string v) { ConstValue c; c.type = Type::String(); c.s = std::move(v); return c; }
  static ConstValue Duration(int64_t v) { ConstValue c; c.type = Type::Duration(); c.i = v; return c; }

  // The numeric value as a double (int, duration and time read their integer).
  double AsDouble() const { return type.kind == TypeKind::kFloat ? f : static_cast<double>(i); }
  // How the value reads in a message: 20%, "x", 7d, [1, 2].
  std::string ToString() const;
};

// Evaluates `expr` if it is constant: literals, lists of constants, consts, and
// operators and pure stdlib functions over constants. Requires sema to have typed
// `expr`. Returns nullopt for anything that depends on an event, the profile, the
// time or a window, and for expressions with type errors.
std::optional<ConstValue> Fold(const ast::Expr& expr);

}  // namespace juncture::compiler
