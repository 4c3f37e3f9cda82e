// The types of the Juncture language: bool int float string time duration list<T>,
// each possibly optional (T?). A Type is a small value; kError marks an expression
// whose type could not be computed (its error has already been reported).
#pragma once

#include <cstdint>
#include <string>

namespace juncture::compiler {

enum class TypeKind : uint8_t {
  kError,     // already diagnosed; suppresses follow-on errors
  kBool,
  kInt,
  kFloat,
  kString,
  kTime,      // an instant (microseconds since the Unix epoch, UTC)
  kDuration,  // a span (microseconds)
  kList,      // list<elem>
  kEmptyList, // the literal [] before it meets a context
};

struct Type {
  TypeKind kind = TypeKind::kError;
  TypeKind elem = TypeKind::kError;  // element kind of a list (a scalar kind)
  bool optional = false;

  static Type Error() { return {}; }
  static Type Bool() { return {TypeKind::kBool}; }
  static Type Int() { return {TypeKind::kInt}; }
  static Type Float() { return {TypeKind::kFloat}; }
  static Type String() { return {TypeKind::kString}; }
  static Type Time() { return {TypeKind::kTime}; }
  static Type Duration() { return {TypeKind::kDuration}; }
  static Type List(TypeKind elem) { return {TypeKind::kList, elem}; }
  static Type EmptyList() { return {TypeKind::kEmptyList}; }

  bool is_error() const { return kind == TypeKind::kError; }
  bool is_numeric() const { return kind == TypeKind::kInt || kind == TypeKind::kFloat; }
  bool is_list() const { return kind == TypeKind::kList || kind == TypeKind::kEmptyList; }
  Type NonOptional() const { return {kind, elem, false}; }
  Type AsOptional() const { return {kind, elem, true}; }
  Type Elem() const { return {elem}; }

  friend bool operator==(const Type&, const Type&) = default;
};

// "int", "list<string>", "string?".
std::string TypeName(Type t);
std::string TypeKindName(TypeKind k);

// True if a value of type `from` may be used where `to` is expected: equal types,
// int -> float widening, [] -> any list, and a plain value where an optional is allowed.
bool IsAssignable(Type from, Type to);

}  // namespace juncture::compiler
