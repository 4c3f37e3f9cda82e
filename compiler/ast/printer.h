// A readable dump of the AST: what `juncture compile --emit ast` prints and what the
// golden tests compare against.
//
// The dump is an indented S-expression, one node per line, children indented by two
// spaces, closing parentheses at the end of a node's last line:
//
//   (module "examples/cart_rescue.jny"
//     (const FREE_SHIPPING @3:1 used
//       (literal float 75.0 = 75 @3:23 : float))
//     (journey cart_rescue @5:1
//       (on cart_updated @6:3 -> event cart_updated
//         (when
//           (binary ">=" @6:24 : bool
//             (member cart_value @6:24 : float -> event cart_updated.cart_value
//               (event @6:24))
//             (literal int 50 = 50 @6:44 : int))))
//       (body @8:3
//         (wait 30m = 1800000000us @8:3 s1))))
//
// Each node line shows the node's kind, its key attributes (names, operator spellings,
// literal spelling and value, durations in microseconds, clock times in minutes), its
// position `@line:column` (`@?` if unknown), then what sema added, when it has run:
// step ids (`s3`), declaration ids and field indexes, `used`, the type (`: int`, left out
// while it is kError) and what a reference resolved to (`-> const FREE_SHIPPING`,
// `-> segment vip`, `-> event cart_updated.cart_value`, `-> envelope time`,
// `-> profile.country`, `-> channel email`, `-> builtin #3/1`). The output depends on
// nothing but the tree and the file paths, so it is deterministic.
#pragma once

#include <string>

#include "ast/ast.h"
#include "juncture/compiler/source.h"

namespace juncture::compiler::ast {

// Dumps every module of `program`, in order, as `(module "path" ...)`; `sm` supplies
// the paths. The result ends with a newline unless the program has no modules.
std::string PrintAst(const Program& program, const SourceManager& sm);

}  // namespace juncture::compiler::ast
