// Emits the LLVM IR of typed IR expressions (ir/ir.h): one function per root
// expression and one internal function per segment it reads. The semantics of every
// op are the reference interpreter's (interp/interpreter.cc), value for value:
// wrapping int arithmetic, division and modulo by zero yield 0 and bump
// ctx->div_by_zero, int division by -1 negates (wrapping), float modulo is fmod,
// duration scaling saturates, floats compare as the interpreter's three-way Compare
// does (NaN compares equal to everything), strings compare byte-wise.
//
// Reads of a missing record (a null event or profile pointer in the context) see
// zeros, as the interpreter's do, without a branch: the record pointer is replaced
// by a zero-filled constant as large as the largest record. (The interpreter's
// JnValue{} for such a read is a bool; the JIT's zero has the IR type. The runtime
// never evaluates event reads without an event: the checker keeps `event` out of
// segments and consent.)
//
// Not thread-safe; one ExprEmitter per module being built.
#pragma once

#include <deque>
#include <string>
#include <vector>

#include "codegen/value_emitter.h"
#include "ir/ir.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/Module.h"

namespace juncture::compiler::codegen {

class ExprEmitter {
 public:
  ExprEmitter(const ir::Program& program, llvm::Module& module);

  // Defines `void name(JnContext* ctx, JnValue* out)` computing `root` into *out,
  // plus the segment functions it needs. Returns false (see error()) on IR the
  // emitter does not understand; the module is then unusable.
  bool EmitRoot(const ir::Expr& root, const std::string& name);
  // Defines `bool name(JnContext* ctx, const void*, int32_t)` (runtime::TestFn)
  // returning the value of the bool expression `root`.
  bool EmitPredicate(const ir::Expr& root, const std::string& name);

  // The first problem met, or "".
  const std::string& error() const { return error_; }

 private:
  // Dispatchers: the value of `e` in native form, emitted at the insertion point.
  Val Emit(const ir::Expr& e);
  Val EmitBinary(const ir::Expr& e);

  // Leaves.
  llvm::Value* Ctx(uint64_t offset, llvm::Type* type);
  llvm::Value* Record(bool profile);
  llvm::Value* HasRecord(bool profile);
  void BeginFunction(llvm::Function* f);
  Val Field(const ir::Expr& e);
  Val ReadField(const ir::Expr& e, llvm::Value* record, bool profile);
  llvm::Value* Present(llvm::Value* record, uint64_t word, const ir::FieldRef& ref);
  Val Envelope(const ir::Expr& e);
  Val Window(const ir::Expr& e, llvm::Value* out);
  Val Segment(const ir::Expr& e);
  Val Call(const ir::Expr& e, llvm::Value* out);

  // Operators.
  Val Logic(const ir::Expr& e);
  Val Select(const ir::Expr& e);
  Val Arithmetic(const ir::Expr& e, const Val& a, const Val& b);
  Val IntArithmetic(ir::Op op, llvm::Value* x, llvm::Value* y);
  Val FloatArithmetic(ir::Op op, llvm::Value* x, llvm::Value* y);
  Val Scale(const ir::Expr& e, llvm::Value* x, llvm::Value* y);
  llvm::Value* Saturate(llvm::Value* v);
  void CountDivByZero(llvm::Value* is_zero);
  llvm::Value* Compare(ir::Op op, ir::IrType t, const Val& a, const Val& b,
                       const ir::Expr& lhs, const ir::Expr& rhs);
  llvm::Value* CompareStrings(ir::Op op, const Val& a, const Val& b, const ir::Expr& lhs,
                              const ir::Expr& rhs);

  // Strings and lists: tests against constants inline, the rest through the C
  // helpers of runtime_helpers.h.
  llvm::Value* StrEqConst(const Val& s, const std::string& c);
  llvm::Value* StrAffixConst(const Val& s, const std::string& c, bool suffix);
  llvm::Value* StringTest(ir::Op op, const Val& a, const Val& b, const ir::Expr& rhs);
  llvm::Value* CallHelper(const char* name, llvm::Type* result, std::vector<llvm::Value*> args);
  llvm::Value* Memcmp(llvm::Value* a, llvm::Value* b, uint64_t n);
  Val Concat(const Val& a, const Val& b);
  llvm::Value* Membership(const Val& item, ir::Ty elem, const Val& list, const ir::Expr& list_expr);
  llvm::Value* ElementEquals(const Val& item, ir::Ty elem, const ir::Value& c);
  llvm::Value* SwitchMembership(const Val& item, ir::Ty elem, const std::vector<ir::Value>& constants);

  // Segment functions, emitted after the root that first reads them.
  llvm::Function* SegmentFunction(uint32_t index);
  void EmitPendingSegments();

  void Fail(const std::string& message);

  const ir::Program& program_;
  llvm::Module& module_;
  llvm::IRBuilder<> b_;
  ValueEmitter v_;
  llvm::Value* ctx_ = nullptr;  // the current function's JnContext*
  // Per function, loaded once in the entry block: the event and profile records, each
  // replaced by no_record_ when null, and whether there is an event.
  llvm::Value* event_ = nullptr;
  llvm::Value* profile_ = nullptr;
  llvm::Value* has_event_ = nullptr;
  llvm::Value* has_profile_ = nullptr;
  // Zero bytes as large as the largest record: a missing record reads as all-zero.
  llvm::GlobalVariable* no_record_ = nullptr;
  std::vector<llvm::Function*> segments_;  // by index; null until first read
  std::deque<uint32_t> pending_segments_;
  std::string error_;
};

}  // namespace juncture::compiler::codegen
