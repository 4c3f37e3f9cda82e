#include "codegen/value_emitter.h"

#include <cstddef>

#include "juncture/abi/abi.h"
#include "llvm/IR/Constants.h"
#include "llvm/IR/Function.h"

namespace juncture::compiler::codegen {
namespace {

using ir::Ty;

constexpr uint64_t kType = offsetof(JnValue, type);
constexpr uint64_t kElem = offsetof(JnValue, elem);
constexpr uint64_t kB = offsetof(JnValue, b);
constexpr uint64_t kI = offsetof(JnValue, i);
constexpr uint64_t kF = offsetof(JnValue, f);
constexpr uint64_t kS = offsetof(JnValue, s);
constexpr uint64_t kL = offsetof(JnValue, l);
constexpr uint64_t kStrLen = offsetof(JnStr, len);
constexpr uint64_t kStrSym = offsetof(JnStr, sym);
constexpr uint64_t kListLen = offsetof(JnList, len);
constexpr uint64_t kListElemSize = offsetof(JnList, elem_size);

uint8_t JnType(Ty ty) {
  switch (ty) {
    case Ty::kBool: return JN_BOOL;
    case Ty::kInt: return JN_INT;
    case Ty::kFloat: return JN_FLOAT;
    case Ty::kString: return JN_STRING;
    case Ty::kTime: return JN_TIME;
    case Ty::kDuration: return JN_DURATION;
    case Ty::kList: return JN_LIST;
  }
  return JN_BOOL;
}

}  // namespace

ValueEmitter::ValueEmitter(llvm::Module& module, llvm::IRBuilder<>& builder)
    : module_(module), b_(builder) {
  llvm::LLVMContext& c = module.getContext();
  llvm::Type* ptr = llvm::PointerType::getUnqual(c);
  llvm::Type* i32 = llvm::Type::getInt32Ty(c);
  llvm::Type* i8 = llvm::Type::getInt8Ty(c);
  jn_str_ = llvm::StructType::create(c, {ptr, i32, i32}, "JnStr");
  llvm::StructType* list = llvm::StructType::create(c, {ptr, i32, i32}, "JnList");
  jn_value_ = llvm::StructType::create(
      c, {i8, i8, i8, llvm::ArrayType::get(i8, 5), llvm::Type::getInt64Ty(c),
          llvm::Type::getDoubleTy(c), jn_str_, list},
      "JnValue");
}

llvm::Value* ValueEmitter::Addr(llvm::Value* base, uint64_t offset) {
  if (offset == 0) return base;
  return b_.CreateConstInBoundsGEP1_64(b_.getInt8Ty(), base, offset);
}

llvm::Value* ValueEmitter::Addr(llvm::Value* base, llvm::Value* offset) {
  return b_.CreateInBoundsGEP(b_.getInt8Ty(), base, offset);
}

llvm::Value* ValueEmitter::Load(llvm::Type* type, llvm::Value* base, uint64_t offset,
                                unsigned align) {
  return b_.CreateAlignedLoad(type, Addr(base, offset), llvm::Align(align));
}

void ValueEmitter::Store(llvm::Value* v, llvm::Value* base, uint64_t offset, unsigned align) {
  b_.CreateAlignedStore(v, Addr(base, offset), llvm::Align(align));
}

llvm::Type* ValueEmitter::ScalarType(Ty ty) {
  switch (ty) {
    case Ty::kBool: return b_.getInt1Ty();
    case Ty::kFloat: return b_.getDoubleTy();
    case Ty::kString:
    case Ty::kList: return b_.getPtrTy();
    default: return b_.getInt64Ty();
  }
}

Val ValueEmitter::LoadStr(llvm::Value* addr) {
  return {Load(b_.getPtrTy(), addr, 0, 1), Load(b_.getInt32Ty(), addr, kStrLen, 1),
          Load(b_.getInt32Ty(), addr, kStrSym, 1)};
}

Val ValueEmitter::LoadField(ir::IrType t, llvm::Value* addr) {
  switch (t.ty) {
    case Ty::kBool: return {b_.CreateICmpNE(Load(b_.getInt8Ty(), addr, 0, 1), b_.getInt8(0))};
    case Ty::kFloat: return {Load(b_.getDoubleTy(), addr, 0, 1)};
    case Ty::kString: return LoadStr(addr);
    case Ty::kList:
      return {Load(b_.getPtrTy(), addr, 0, 1), Load(b_.getInt32Ty(), addr, kListLen, 1),
              Load(b_.getInt32Ty(), addr, kListElemSize, 1)};
    default: return {Load(b_.getInt64Ty(), addr, 0, 1)};
  }
}

Val ValueEmitter::LoadJnValue(ir::IrType t, llvm::Value* value) {
  switch (t.ty) {
    case Ty::kBool: return {b_.CreateICmpNE(Load(b_.getInt8Ty(), value, kB, 1), b_.getInt8(0))};
    case Ty::kFloat: return {Load(b_.getDoubleTy(), value, kF, 8)};
    case Ty::kString: return LoadStr(Addr(value, kS));
    case Ty::kList: return LoadField(t, Addr(value, kL));
    default: return {Load(b_.getInt64Ty(), value, kI, 8)};
  }
}

void ValueEmitter::StoreJnValue(ir::IrType t, const Val& v, llvm::Value* out) {
  b_.CreateAlignedStore(llvm::Constant::getNullValue(llvm::ArrayType::get(b_.getInt64Ty(), 7)),
                        out, llvm::Align(8));
  Store(b_.getInt8(JnType(t.ty)), out, kType, 1);
  switch (t.ty) {
    case Ty::kBool: Store(b_.CreateZExt(v.a, b_.getInt8Ty()), out, kB, 1); break;
    case Ty::kFloat: Store(v.a, out, kF, 8); break;
    case Ty::kString:
      Store(v.a, out, kS, 8);
      Store(v.len, out, kS + kStrLen, 4);
      Store(v.aux, out, kS + kStrSym, 4);
      break;
    case Ty::kList:
      Store(b_.getInt8(JnType(t.elem)), out, kElem, 1);
      Store(v.a, out, kL, 8);
      Store(v.len, out, kL + kListLen, 4);
      Store(v.aux, out, kL + kListElemSize, 4);
      break;
    default: Store(v.a, out, kI, 8); break;
  }
}

Val ValueEmitter::Zero(ir::IrType t) {
  llvm::Type* type = ScalarType(t.ty);
  if (t.ty == Ty::kString || t.ty == Ty::kList) {
    return {llvm::ConstantPointerNull::get(b_.getPtrTy()), I32(0), I32(0)};
  }
  return {llvm::Constant::getNullValue(type)};
}

llvm::Constant* ValueEmitter::GlobalString(const std::string& s) {
  auto it = strings_.find(s);
  if (it != strings_.end()) return it->second;
  llvm::Constant* data = llvm::ConstantDataArray::getString(context(), s, /*AddNull=*/true);
  auto* g = new llvm::GlobalVariable(module_, data->getType(), /*isConstant=*/true,
                                     llvm::GlobalValue::PrivateLinkage, data, "str");
  g->setUnnamedAddr(llvm::GlobalValue::UnnamedAddr::Global);
  g->setAlignment(llvm::Align(1));
  strings_[s] = g;
  return g;
}

llvm::Constant* ValueEmitter::ConstantList(const ir::Value& v, Ty elem, uint32_t* elem_size) {
  std::vector<llvm::Constant*> items;
  llvm::Type* type;
  switch (elem) {
    case Ty::kString: type = jn_str_; *elem_size = sizeof(JnStr); break;
    case Ty::kBool: type = b_.getInt8Ty(); *elem_size = 1; break;
    case Ty::kFloat: type = b_.getDoubleTy(); *elem_size = 8; break;
    default: type = b_.getInt64Ty(); *elem_size = 8; break;
  }
  for (const ir::Value& x : v.list) {
    switch (elem) {
      case Ty::kString:
        items.push_back(llvm::ConstantStruct::get(
            jn_str_, {GlobalString(x.s), I32(static_cast<int64_t>(x.s.size())), I32(-1)}));
        break;
      case Ty::kBool: items.push_back(b_.getInt8(x.b ? 1 : 0)); break;
      case Ty::kFloat: items.push_back(llvm::ConstantFP::get(b_.getDoubleTy(), x.f)); break;
      default: items.push_back(I64(x.i)); break;
    }
  }
  if (items.empty()) return GlobalString("");
  auto* array_type = llvm::ArrayType::get(type, items.size());
  auto* g = new llvm::GlobalVariable(module_, array_type, /*isConstant=*/true,
                                     llvm::GlobalValue::PrivateLinkage,
                                     llvm::ConstantArray::get(array_type, items), "list");
  g->setUnnamedAddr(llvm::GlobalValue::UnnamedAddr::Global);
  g->setAlignment(llvm::Align(8));
  return g;
}

Val ValueEmitter::Constant(const ir::Value& v, ir::IrType t) {
  switch (t.ty) {
    case Ty::kBool: return {b_.getInt1(v.b)};
    case Ty::kFloat: return {llvm::ConstantFP::get(b_.getDoubleTy(), v.f)};
    case Ty::kString:
      return {GlobalString(v.s), I32(static_cast<int64_t>(v.s.size())), I32(-1)};
    case Ty::kList: {
      uint32_t elem_size = 8;
      llvm::Constant* data = ConstantList(v, t.elem, &elem_size);
      return {data, I32(static_cast<int64_t>(v.list.size())), I32(elem_size)};
    }
    default: return {I64(v.i)};
  }
}

llvm::BasicBlock* ValueEmitter::NewBlock(const char* name) {
  return llvm::BasicBlock::Create(context(), name, b_.GetInsertBlock()->getParent());
}

Val ValueEmitter::Merge(const std::vector<Incoming>& in) {
  if (in.size() == 1) return in[0].value;
  auto phi = [&](llvm::Value* Val::*part) -> llvm::Value* {
    if (in[0].value.*part == nullptr) return nullptr;
    llvm::PHINode* p = b_.CreatePHI((in[0].value.*part)->getType(), in.size());
    for (const Incoming& x : in) p->addIncoming(x.value.*part, x.block);
    return p;
  };
  Val out;
  out.a = phi(&Val::a);
  out.len = phi(&Val::len);
  out.aux = phi(&Val::aux);
  return out;
}

llvm::AllocaInst* ValueEmitter::EntryAlloca(llvm::Type* type, uint64_t count, const char* name) {
  llvm::Function* f = b_.GetInsertBlock()->getParent();
  llvm::IRBuilder<> entry(&f->getEntryBlock(), f->getEntryBlock().begin());
  llvm::AllocaInst* a = entry.CreateAlloca(type, entry.getInt32(static_cast<uint32_t>(count)), name);
  a->setAlignment(llvm::Align(8));
  return a;
}

llvm::FunctionCallee ValueEmitter::Declare(const std::string& name, llvm::FunctionType* type) {
  llvm::FunctionCallee callee = module_.getOrInsertFunction(name, type);
  if (auto* f = llvm::dyn_cast<llvm::Function>(callee.getCallee())) {
    f->addFnAttr(llvm::Attribute::NoUnwind);
  }
  return callee;
}

void ValueEmitter::CallStdlib(const std::string& symbol, llvm::Value* result, llvm::Value* ctx,
                              llvm::Value* args, uint32_t nargs) {
  llvm::Type* ptr = b_.getPtrTy();
  auto* type = llvm::FunctionType::get(b_.getVoidTy(), {ptr, ptr, ptr, b_.getInt32Ty()}, false);
  llvm::FunctionCallee callee = Declare(symbol, type);
  llvm::Attribute sret = llvm::Attribute::getWithStructRetType(context(), jn_value_);
  if (auto* f = llvm::dyn_cast<llvm::Function>(callee.getCallee())) f->addParamAttr(0, sret);
  llvm::CallInst* call = b_.CreateCall(callee, {result, ctx, args, b_.getInt32(nargs)});
  call->addParamAttr(0, sret);
}

void ValueEmitter::CallWindow(llvm::Value* fn, llvm::Value* result, llvm::Value* host,
                              uint32_t slot) {
  llvm::Type* ptr = b_.getPtrTy();
  auto* type = llvm::FunctionType::get(b_.getVoidTy(), {ptr, ptr, b_.getInt32Ty()}, false);
  llvm::CallInst* call = b_.CreateCall(type, fn, {result, host, b_.getInt32(slot)});
  call->addParamAttr(0, llvm::Attribute::getWithStructRetType(context(), jn_value_));
}

}  // namespace juncture::compiler::codegen
