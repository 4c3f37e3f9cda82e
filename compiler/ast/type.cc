#include "ast/type.h"

namespace juncture::compiler {

std::string TypeKindName(TypeKind k) {
  switch (k) {
    case TypeKind::kError: return "<error>";
    case TypeKind::kBool: return "bool";
    case TypeKind::kInt: return "int";
    case TypeKind::kFloat: return "float";
    case TypeKind::kString: return "string";
    case TypeKind::kTime: return "time";
    case TypeKind::kDuration: return "duration";
    case TypeKind::kList: return "list";
    case TypeKind::kEmptyList: return "empty list";
  }
  return "?";
}

std::string TypeName(Type t) {
  std::string s = t.kind == TypeKind::kList ? "list<" + TypeKindName(t.elem) + ">"
                                            : TypeKindName(t.kind);
  if (t.optional) s += '?';
  return s;
}

bool IsAssignable(Type from, Type to) {
  if (from.is_error() || to.is_error()) return true;
  if (from.optional && !to.optional) return false;
  if (from.kind == TypeKind::kEmptyList) return to.kind == TypeKind::kList;
  if (from.kind == to.kind) {
    return from.kind != TypeKind::kList || from.elem == to.elem ||
           (from.elem == TypeKind::kInt && to.elem == TypeKind::kFloat);
  }
  return from.kind == TypeKind::kInt && to.kind == TypeKind::kFloat;
}

}  // namespace juncture::compiler
