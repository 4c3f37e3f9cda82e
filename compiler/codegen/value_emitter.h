// The building blocks of the code generator: how Juncture values look inside
// generated code and how they cross the ABI (juncture/abi/abi.h).
//
// Inside a function a value is held in native form (`Val`): a bool is an i1, an
// int/time/duration an i64, a float a double, a string the parts of a JnStr
// (data pointer, i32 length, i32 interned id) and a list the parts of a JnList (data
// pointer, i32 length, i32 element size). Only where a value meets the runtime (the
// result of a root expression, the arguments and result of a stdlib call, a window's
// value) is it stored as or loaded from a 56-byte JnValue.
//
// Not thread-safe: one ValueEmitter per module being built.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "ir/ir.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/Module.h"

namespace juncture::compiler::codegen {

// A value in native form; unused parts are null (see the file comment).
struct Val {
  llvm::Value* a = nullptr;    // the scalar, or the data pointer of a string or list
  llvm::Value* len = nullptr;  // string/list: i32 length
  llvm::Value* aux = nullptr;  // string: i32 sym; list: i32 element size
};

// One incoming edge of a merge: the value and the block it comes from.
struct Incoming {
  Val value;
  llvm::BasicBlock* block;
};

class ValueEmitter {
 public:
  ValueEmitter(llvm::Module& module, llvm::IRBuilder<>& builder);

  llvm::LLVMContext& context() { return module_.getContext(); }
  llvm::IRBuilder<>& builder() { return b_; }
  llvm::Module& module() { return module_; }
  // The LLVM struct with JnValue's layout (56 bytes, align 8).
  llvm::StructType* JnValueType() const { return jn_value_; }

  // ---- Memory at byte offsets ----
  llvm::Value* Addr(llvm::Value* base, uint64_t offset);
  llvm::Value* Addr(llvm::Value* base, llvm::Value* offset);
  llvm::Value* Load(llvm::Type* type, llvm::Value* base, uint64_t offset, unsigned align);
  void Store(llvm::Value* v, llvm::Value* base, uint64_t offset, unsigned align);

  // ---- Values in memory ----
  // A record field of type `t` at `addr` (record representation: bool is a byte).
  Val LoadField(ir::IrType t, llvm::Value* addr);
  // A JnStr at `addr`.
  Val LoadStr(llvm::Value* addr);
  // The value of type `t` held by the JnValue at `value`.
  Val LoadJnValue(ir::IrType t, llvm::Value* value);
  // Writes `v` (of type `t`) as a complete JnValue at `out`: zero bytes, then the
  // type tag, the element type of a list and the member the tag selects.
  void StoreJnValue(ir::IrType t, const Val& v, llvm::Value* out);

  // ---- Constants ----
  // The zero of type `t` (false, 0, 0.0, an empty string or list).
  Val Zero(ir::IrType t);
  // A constant of type `t`; strings and lists are private globals of the module.
  Val Constant(const ir::Value& v, ir::IrType t);
  // A private global holding `s` (NUL-terminated for debuggers); shared per text.
  llvm::Constant* GlobalString(const std::string& s);
  llvm::ConstantInt* I32(int64_t v) { return b_.getInt32(static_cast<uint32_t>(v)); }
  llvm::ConstantInt* I64(int64_t v) { return b_.getInt64(static_cast<uint64_t>(v)); }

  // ---- Control flow ----
  llvm::BasicBlock* NewBlock(const char* name);
  // A phi per part of the merged values, in the current block.
  Val Merge(const std::vector<Incoming>& in);
  // A stack slot of `type` in the entry block of the current function.
  llvm::AllocaInst* EntryAlloca(llvm::Type* type, uint64_t count, const char* name);

  // ---- Calls ----
  // A function of the module by symbol, declared on first use (nounwind).
  llvm::FunctionCallee Declare(const std::string& name, llvm::FunctionType* type);
  // Calls a stdlib entry point (JnStdlibFn) by symbol, the result written to `result`.
  void CallStdlib(const std::string& symbol, llvm::Value* result, llvm::Value* ctx,
                  llvm::Value* args, uint32_t nargs);
  // Calls a JnWindowFn through a pointer, the result written to `result`.
  void CallWindow(llvm::Value* fn, llvm::Value* result, llvm::Value* host, uint32_t slot);

 private:
  llvm::Type* ScalarType(ir::Ty ty);
  llvm::Constant* ConstantList(const ir::Value& v, ir::Ty elem, uint32_t* elem_size);

  llvm::Module& module_;
  llvm::IRBuilder<>& b_;
  llvm::StructType* jn_value_;
  llvm::StructType* jn_str_;
  std::map<std::string, llvm::Constant*> strings_;
};

}  // namespace juncture::compiler::codegen
