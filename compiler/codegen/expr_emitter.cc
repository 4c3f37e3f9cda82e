#include "codegen/expr_emitter.h"

#include <algorithm>
#include <cstddef>
#include <limits>
#include <map>
#include <set>

#include "codegen/runtime_helpers.h"

#include "juncture/abi/abi.h"
#include "juncture/stdlib/functions.h"
#include "llvm/IR/Constants.h"
#include "llvm/IR/Function.h"
#include "llvm/IR/MDBuilder.h"

namespace juncture::compiler::codegen {
namespace {

using ir::Op;
using ir::Ty;

constexpr ir::IrType kBoolType{Ty::kBool};
// Constant lists up to this size are tested inline (a chain of comparisons that LLVM
// turns into a switch or bit test); longer ones go through the list helpers.
constexpr size_t kInlineListMax = 16;
// The interpreter passes at most this many arguments to a stdlib entry point.
constexpr size_t kMaxCallArgs = 8;

bool IsIntLike(Ty ty) { return ty == Ty::kInt || ty == Ty::kTime || ty == Ty::kDuration; }

size_t Arity(Op op) {
  switch (op) {
    case Op::kConst: case Op::kEventField: case Op::kEventPresent: case Op::kEnvelope:
    case Op::kProfileField: case Op::kProfilePresent: case Op::kNow: case Op::kCustomer:
    case Op::kWindow: case Op::kSegment: case Op::kCall:
      return 0;
    case Op::kIntToFloat: case Op::kNot: case Op::kNeg: return 1;
    case Op::kSelect: return 3;
    default: return 2;
  }
}

}  // namespace

ExprEmitter::ExprEmitter(const ir::Program& program, llvm::Module& module)
    : program_(program),
      module_(module),
      b_(module.getContext()),
      v_(module, b_),
      segments_(program.segments.size(), nullptr) {}

void ExprEmitter::Fail(const std::string& message) {
  if (error_.empty()) error_ = message;
}

bool ExprEmitter::EmitRoot(const ir::Expr& root, const std::string& name) {
  llvm::Type* ptr = b_.getPtrTy();
  auto* type = llvm::FunctionType::get(b_.getVoidTy(), {ptr, ptr}, false);
  llvm::Function* f =
      llvm::Function::Create(type, llvm::GlobalValue::ExternalLinkage, name, module_);
  f->addFnAttr(llvm::Attribute::NoUnwind);
  f->getArg(0)->setName("ctx");
  f->getArg(1)->setName("out");
  f->addParamAttr(1, llvm::Attribute::NoAlias);
  BeginFunction(f);
  llvm::Value* out = f->getArg(1);
  // A window or stdlib result is the root's value as is: let the callee write *out.
  if (root.op == Op::kWindow) {
    Window(root, out);
  } else if (root.op == Op::kCall) {
    Call(root, out);
  } else {
    v_.StoreJnValue(root.type, Emit(root), out);
  }
  b_.CreateRetVoid();
  EmitPendingSegments();
  return error_.empty();
}

bool ExprEmitter::EmitPredicate(const ir::Expr& root, const std::string& name) {
  llvm::Type* ptr = b_.getPtrTy();
  auto* type = llvm::FunctionType::get(b_.getInt1Ty(), {ptr, ptr, b_.getInt32Ty()}, false);
  llvm::Function* f =
      llvm::Function::Create(type, llvm::GlobalValue::ExternalLinkage, name, module_);
  f->addFnAttr(llvm::Attribute::NoUnwind);
  f->addRetAttr(llvm::Attribute::ZExt);  // a C++ bool, as the host ABI returns it
  f->getArg(0)->setName("ctx");
  BeginFunction(f);
  b_.CreateRet(Emit(root).a);
  EmitPendingSegments();
  return error_.empty();
}

// ---- Dispatch -----------------------------------------------------------------------

Val ExprEmitter::Emit(const ir::Expr& e) {
  if (e.args.size() < Arity(e.op)) {
    Fail(std::string("malformed IR: ") + ir::OpName(e.op) + " with too few operands");
    return v_.Zero(e.type);
  }
  switch (e.op) {
    case Op::kConst: return v_.Constant(e.value, e.type);
    case Op::kEventField:
    case Op::kEventPresent:
    case Op::kProfileField:
    case Op::kProfilePresent: return Field(e);
    case Op::kEnvelope: return Envelope(e);
    case Op::kNow: return {Ctx(offsetof(JnContext, now_us), b_.getInt64Ty())};
    case Op::kCustomer: return v_.LoadStr(v_.Addr(ctx_, offsetof(JnContext, customer)));
    case Op::kWindow: return Window(e, nullptr);
    case Op::kSegment: return Segment(e);
    case Op::kIntToFloat: return {b_.CreateSIToFP(Emit(*e.args[0]).a, b_.getDoubleTy())};
    case Op::kNot: return {b_.CreateNot(Emit(*e.args[0]).a)};
    case Op::kNeg: {
      Val x = Emit(*e.args[0]);
      if (e.args[0]->type.ty == Ty::kFloat) return {b_.CreateFNeg(x.a)};
      return {b_.CreateSub(v_.I64(0), x.a)};  // wraps
    }
    case Op::kAnd:
    case Op::kOr: return Logic(e);
    case Op::kSelect: return Select(e);
    case Op::kCall: return Call(e, nullptr);
    default: return EmitBinary(e);
  }
}

Val ExprEmitter::EmitBinary(const ir::Expr& e) {
  const ir::Expr& lhs = *e.args[0];
  const ir::Expr& rhs = *e.args[1];
  // Membership in a constant list needs only the item.
  if (e.op == Op::kInList && rhs.op == Op::kConst) {
    return {Membership(Emit(lhs), rhs.type.elem, Val{}, rhs)};
  }
  if (e.op == Op::kListContains && lhs.op == Op::kConst) {
    return {Membership(Emit(rhs), lhs.type.elem, Val{}, lhs)};
  }
  Val a = Emit(lhs);
  Val b = Emit(rhs);
  switch (e.op) {
    case Op::kEq: case Op::kNe: case Op::kLt: case Op::kLe: case Op::kGt: case Op::kGe:
      return {Compare(e.op, lhs.type, a, b, lhs, rhs)};
    case Op::kStartsWith:
    case Op::kEndsWith:
    case Op::kStrContains: return {StringTest(e.op, a, b, rhs)};
    case Op::kInList: return {Membership(a, rhs.type.elem, b, rhs)};
    case Op::kListContains: return {Membership(b, lhs.type.elem, a, lhs)};
    case Op::kConcat: return Concat(a, b);
    case Op::kAdd: case Op::kSub: case Op::kMul: case Op::kDiv: case Op::kMod: case Op::kScale:
      return Arithmetic(e, a, b);
    default:
      Fail(std::string("the code generator does not know op ") + ir::OpName(e.op));
      return v_.Zero(e.type);
  }
}

// ---- Leaves ---------------------------------------------------------------------------

llvm::Value* ExprEmitter::Ctx(uint64_t offset, llvm::Type* type) {
  return v_.Load(type, ctx_, offset, 8);
}

// A field or presence bit of the event or the profile. A missing record (a null
// pointer in the context) reads as zeros: the zero of the type, or absent.
Val ExprEmitter::Field(const ir::Expr& e) {
  bool profile = e.op == Op::kProfileField || e.op == Op::kProfilePresent;
  if (e.fields.empty()) {
    Fail("malformed IR: a field read without a field");
    return v_.Zero(e.type);
  }
  return ReadField(e, Record(profile), profile);
}

void ExprEmitter::BeginFunction(llvm::Function* f) {
  b_.SetInsertPoint(llvm::BasicBlock::Create(module_.getContext(), "entry", f));
  ctx_ = f->getArg(0);
  event_ = profile_ = has_event_ = has_profile_ = nullptr;
}

// The record pointers are loaded once, at the top of the entry block (the context
// does not change while an expression is evaluated).
llvm::Value* ExprEmitter::Record(bool profile) {
  llvm::Value*& cached = profile ? profile_ : event_;
  if (cached) return cached;
  if (!no_record_) {
    uint64_t size = std::max<uint64_t>(program_.profile.size, JN_EVENT_FIELDS_OFFSET);
    for (const ir::RecordLayout& l : program_.events) size = std::max<uint64_t>(size, l.size);
    auto* type = llvm::ArrayType::get(b_.getInt8Ty(), size + 16);
    no_record_ = new llvm::GlobalVariable(module_, type, /*isConstant=*/true,
                                          llvm::GlobalValue::PrivateLinkage,
                                          llvm::ConstantAggregateZero::get(type), "no_record");
    no_record_->setAlignment(llvm::Align(8));
  }
  llvm::Function* f = b_.GetInsertBlock()->getParent();
  llvm::IRBuilder<> entry(&f->getEntryBlock(), f->getEntryBlock().getFirstInsertionPt());
  llvm::Value* record = entry.CreateAlignedLoad(
      entry.getPtrTy(),
      entry.CreateConstInBoundsGEP1_64(entry.getInt8Ty(), ctx_,
                                       profile ? offsetof(JnContext, profile)
                                               : offsetof(JnContext, event)),
      llvm::Align(8), profile ? "profile" : "event");
  llvm::Value* present = entry.CreateIsNotNull(record);
  (profile ? has_profile_ : has_event_) = present;
  cached = entry.CreateSelect(present, record, no_record_);
  return cached;
}

llvm::Value* ExprEmitter::HasRecord(bool profile) {
  Record(profile);
  return profile ? has_profile_ : has_event_;
}

// With several possible event types (a union binding) the record header's type_id
// picks the layout; an unknown type falls back to the first, as in the interpreter.
Val ExprEmitter::ReadField(const ir::Expr& e, llvm::Value* record, bool profile) {
  bool presence = e.op == Op::kEventPresent || e.op == Op::kProfilePresent;
  uint64_t word = profile ? JN_PROFILE_PRESENT_OFFSET : JN_EVENT_PRESENT_OFFSET;
  size_t n = profile ? 1 : e.fields.size();
  llvm::Value* type_id = nullptr;
  if (n > 1) type_id = v_.Load(b_.getInt32Ty(), record, JN_EVENT_TYPE_ID_OFFSET, 1);
  auto is_type = [&](size_t k) { return b_.CreateICmpEQ(type_id, v_.I32(e.fields[k].type_id)); };
  if (presence) {
    llvm::Value* present = Present(record, word, e.fields[0]);
    for (size_t k = 1; k < n; ++k) {  // the last matching ref wins, as in the interpreter
      present = b_.CreateSelect(is_type(k), Present(record, word, e.fields[k]), present);
    }
    // A required field is present, except when there is no record at all.
    for (size_t k = 0; k < n; ++k) {
      if (e.fields[k].presence_bit < 0) return {b_.CreateAnd(present, HasRecord(profile))};
    }
    return {present};
  }
  llvm::Value* offset = v_.I64(e.fields[0].offset);
  for (size_t k = 1; k < n; ++k) {
    if (e.fields[k].offset == e.fields[0].offset) continue;
    offset = b_.CreateSelect(is_type(k), v_.I64(e.fields[k].offset), offset);
  }
  return v_.LoadField(e.type, v_.Addr(record, offset));
}

llvm::Value* ExprEmitter::Present(llvm::Value* record, uint64_t word, const ir::FieldRef& ref) {
  if (ref.presence_bit < 0) return b_.getTrue();  // a required field
  if (ref.presence_bit >= 64) return b_.getFalse();
  llvm::Value* bits = v_.Load(b_.getInt64Ty(), record, word, 1);
  llvm::Value* mask = v_.I64(int64_t(uint64_t{1} << ref.presence_bit));
  return b_.CreateICmpNE(b_.CreateAnd(bits, mask), v_.I64(0));
}

// event.id / event.customer / event.time; without an event: the customer and now.
Val ExprEmitter::Envelope(const ir::Expr& e) {
  llvm::Value* record = Record(false);
  llvm::Value* has_event = HasRecord(false);
  if (e.index == ir::kEnvTime) {
    return {b_.CreateSelect(has_event, v_.Load(b_.getInt64Ty(), record, JN_EVENT_TIME_OFFSET, 1),
                            Ctx(offsetof(JnContext, now_us), b_.getInt64Ty()))};
  }
  Val from_event = v_.LoadStr(
      v_.Addr(record, e.index == ir::kEnvId ? JN_EVENT_ID_OFFSET : JN_EVENT_CUSTOMER_OFFSET));
  Val customer = v_.LoadStr(v_.Addr(ctx_, offsetof(JnContext, customer)));
  return {b_.CreateSelect(has_event, from_event.a, customer.a),
          b_.CreateSelect(has_event, from_event.len, customer.len),
          b_.CreateSelect(has_event, from_event.aux, customer.aux)};
}

// ctx->window(ctx->host, slot); the result goes to `out` if given (then the returned
// Val is empty), else it is read back as a native value.
Val ExprEmitter::Window(const ir::Expr& e, llvm::Value* out) {
  llvm::Value* result = out ? out : v_.EntryAlloca(v_.JnValueType(), 1, "window");
  llvm::Value* fn = Ctx(offsetof(JnContext, window), b_.getPtrTy());
  llvm::Value* host = Ctx(offsetof(JnContext, host), b_.getPtrTy());
  v_.CallWindow(fn, result, host, e.index);
  if (out) return {};
  return v_.LoadJnValue(e.type, result);
}

Val ExprEmitter::Segment(const ir::Expr& e) {
  if (e.index >= segments_.size() || !program_.segments[e.index].body) {
    Fail("malformed IR: segment " + std::to_string(e.index) + " does not exist");
    return v_.Zero(kBoolType);
  }
  return {b_.CreateCall(SegmentFunction(e.index), {ctx_})};
}

// A stdlib call through its uniform entry point: the arguments as a stack array of
// JnValue (implicit ones first, as lowered), the result written by the callee.
Val ExprEmitter::Call(const ir::Expr& e, llvm::Value* out) {
  size_t n = std::min(e.args.size(), kMaxCallArgs);
  std::vector<Val> values;
  for (size_t k = 0; k < n; ++k) values.push_back(Emit(*e.args[k]));
  llvm::Value* args = v_.EntryAlloca(v_.JnValueType(), std::max<size_t>(n, 1), "args");
  for (size_t k = 0; k < n; ++k) {
    llvm::Value* slot = b_.CreateConstInBoundsGEP1_64(v_.JnValueType(), args, k);
    v_.StoreJnValue(e.args[k]->type, values[k], slot);
  }
  if (stdlib::FindEntryPoint(e.symbol) == nullptr) {
    Fail("unknown stdlib entry point '" + e.symbol + "'");
    return out ? Val{} : v_.Zero(e.type);
  }
  llvm::Value* result = out ? out : v_.EntryAlloca(v_.JnValueType(), 1, "result");
  v_.CallStdlib(e.symbol, result, ctx_, args, static_cast<uint32_t>(n));
  if (out) return {};
  return v_.LoadJnValue(e.type, result);
}

// ---- Logic and selection --------------------------------------------------------------

Val ExprEmitter::Logic(const ir::Expr& e) {
  bool is_and = e.op == Op::kAnd;
  Val a = Emit(*e.args[0]);
  llvm::BasicBlock* lhs_end = b_.GetInsertBlock();
  llvm::BasicBlock* rhs = v_.NewBlock(is_and ? "and_rhs" : "or_rhs");
  llvm::BasicBlock* done = v_.NewBlock(is_and ? "and_done" : "or_done");
  if (is_and) {
    b_.CreateCondBr(a.a, rhs, done);
  } else {
    b_.CreateCondBr(a.a, done, rhs);
  }
  b_.SetInsertPoint(rhs);
  Val b = Emit(*e.args[1]);
  llvm::BasicBlock* rhs_end = b_.GetInsertBlock();
  b_.CreateBr(done);
  b_.SetInsertPoint(done);
  return v_.Merge({{{b_.getInt1(!is_and)}, lhs_end}, {b, rhs_end}});
}

Val ExprEmitter::Select(const ir::Expr& e) {
  Val cond = Emit(*e.args[0]);
  llvm::BasicBlock* then_block = v_.NewBlock("then");
  llvm::BasicBlock* else_block = v_.NewBlock("else");
  llvm::BasicBlock* done = v_.NewBlock("select_done");
  b_.CreateCondBr(cond.a, then_block, else_block);
  b_.SetInsertPoint(then_block);
  Val x = Emit(*e.args[1]);
  llvm::BasicBlock* then_end = b_.GetInsertBlock();
  b_.CreateBr(done);
  b_.SetInsertPoint(else_block);
  Val y = Emit(*e.args[2]);
  llvm::BasicBlock* else_end = b_.GetInsertBlock();
  b_.CreateBr(done);
  b_.SetInsertPoint(done);
  return v_.Merge({{x, then_end}, {y, else_end}});
}

// ---- Arithmetic ---------------------------------------------------------------------

Val ExprEmitter::Arithmetic(const ir::Expr& e, const Val& a, const Val& b) {
  Ty x = e.args[0]->type.ty, y = e.args[1]->type.ty;
  if (e.op == Op::kScale) return Scale(e, a.a, b.a);
  if (x == Ty::kFloat) return FloatArithmetic(e.op, a.a, b.a);
  if (e.op == Op::kDiv && x == Ty::kDuration && y == Ty::kDuration) {  // -> float
    llvm::Value* zero = b_.CreateICmpEQ(b.a, v_.I64(0));
    CountDivByZero(zero);
    llvm::Value* q = b_.CreateFDiv(b_.CreateSIToFP(a.a, b_.getDoubleTy()),
                                   b_.CreateSIToFP(b.a, b_.getDoubleTy()));
    return {b_.CreateSelect(zero, llvm::ConstantFP::get(b_.getDoubleTy(), 0.0), q)};
  }
  if (!IsIntLike(x) || !IsIntLike(y)) {
    Fail(std::string("malformed IR: ") + ir::OpName(e.op) + " on " + ir::TypeName(e.args[0]->type));
    return v_.Zero(e.type);
  }
  return IntArithmetic(e.op, a.a, b.a);
}

// Wrapping + - *; / and % by 0 yield 0 (counted), by -1 negate (wrapping) or yield 0.
Val ExprEmitter::IntArithmetic(Op op, llvm::Value* x, llvm::Value* y) {
  switch (op) {
    case Op::kAdd: return {b_.CreateAdd(x, y)};
    case Op::kSub: return {b_.CreateSub(x, y)};
    case Op::kMul: return {b_.CreateMul(x, y)};
    default: break;
  }
  bool div = op == Op::kDiv;
  llvm::Value* zero = b_.CreateICmpEQ(y, v_.I64(0));
  llvm::Value* minus_one = b_.CreateICmpEQ(y, v_.I64(-1));
  CountDivByZero(zero);
  // sdiv/srem trap on 0 and on INT64_MIN / -1: divide by 1 in those cases instead.
  llvm::Value* safe = b_.CreateSelect(b_.CreateOr(zero, minus_one), v_.I64(1), y);
  llvm::Value* q = div ? b_.CreateSDiv(x, safe) : b_.CreateSRem(x, safe);
  llvm::Value* by_minus_one = div ? b_.CreateSub(v_.I64(0), x) : v_.I64(0);
  q = b_.CreateSelect(minus_one, by_minus_one, q);
  return {b_.CreateSelect(zero, v_.I64(0), q)};
}

Val ExprEmitter::FloatArithmetic(Op op, llvm::Value* x, llvm::Value* y) {
  switch (op) {
    case Op::kAdd: return {b_.CreateFAdd(x, y)};
    case Op::kSub: return {b_.CreateFSub(x, y)};
    case Op::kMul: return {b_.CreateFMul(x, y)};
    case Op::kDiv:
    case Op::kMod: {
      llvm::Constant* fzero = llvm::ConstantFP::get(b_.getDoubleTy(), 0.0);
      llvm::Value* zero = b_.CreateFCmpOEQ(y, fzero);
      CountDivByZero(zero);
      llvm::Value* r = op == Op::kDiv ? b_.CreateFDiv(x, y) : b_.CreateFRem(x, y);  // frem is fmod
      return {b_.CreateSelect(zero, fzero, r)};
    }
    default:
      Fail(std::string("malformed IR: ") + ir::OpName(op) + " on floats");
      return {llvm::ConstantFP::get(b_.getDoubleTy(), 0.0)};
  }
}

// duration * float, duration / float (Expr::index 1): through double, saturating.
Val ExprEmitter::Scale(const ir::Expr& e, llvm::Value* x, llvm::Value* y) {
  llvm::Value* d = b_.CreateSIToFP(x, b_.getDoubleTy());
  if (e.index != 1) return {Saturate(b_.CreateFMul(d, y))};
  llvm::Value* zero = b_.CreateFCmpOEQ(y, llvm::ConstantFP::get(b_.getDoubleTy(), 0.0));
  CountDivByZero(zero);
  return {b_.CreateSelect(zero, v_.I64(0), Saturate(b_.CreateFDiv(d, y)))};
}

// The interpreter's Saturate: NaN -> 0, >= 9.2e18 -> INT64_MAX, <= -9.2e18 -> INT64_MIN.
llvm::Value* ExprEmitter::Saturate(llvm::Value* v) {
  llvm::Type* f64 = b_.getDoubleTy();
  llvm::Value* high = b_.CreateFCmpOGE(v, llvm::ConstantFP::get(f64, 9.2e18));
  llvm::Value* low = b_.CreateFCmpOLE(v, llvm::ConstantFP::get(f64, -9.2e18));
  llvm::Value* nan = b_.CreateFCmpUNO(v, v);
  llvm::Value* outside = b_.CreateOr(b_.CreateOr(high, low), nan);
  // fptosi only sees in-range values (else it would be poison); NaN converts 0.0.
  llvm::Value* safe = b_.CreateSelect(outside, llvm::ConstantFP::get(f64, 0.0), v);
  llvm::Value* i = b_.CreateFPToSI(safe, b_.getInt64Ty());
  i = b_.CreateSelect(low, v_.I64(std::numeric_limits<int64_t>::min()), i);
  return b_.CreateSelect(high, v_.I64(std::numeric_limits<int64_t>::max()), i);
}

void ExprEmitter::CountDivByZero(llvm::Value* is_zero) {
  llvm::BasicBlock* bump = v_.NewBlock("div_by_zero");
  llvm::BasicBlock* cont = v_.NewBlock("div_ok");
  llvm::MDBuilder md(module_.getContext());
  b_.CreateCondBr(is_zero, bump, cont, md.createBranchWeights(1, 1000));
  b_.SetInsertPoint(bump);
  llvm::Value* counter = v_.Addr(ctx_, offsetof(JnContext, div_by_zero));
  llvm::Value* n = b_.CreateAlignedLoad(b_.getInt64Ty(), counter, llvm::Align(8));
  b_.CreateAlignedStore(b_.CreateAdd(n, v_.I64(1)), counter, llvm::Align(8));
  b_.CreateBr(cont);
  b_.SetInsertPoint(cont);
}

// ---- Comparisons --------------------------------------------------------------------

// The interpreter's three-way Compare(a, b) tested against 0. For floats that is
// "neither less nor greater", so a NaN operand compares equal.
llvm::Value* ExprEmitter::Compare(Op op, ir::IrType t, const Val& a, const Val& b,
                                  const ir::Expr& lhs, const ir::Expr& rhs) {
  using P = llvm::CmpInst::Predicate;
  auto pick = [op](P eq, P ne, P lt, P le, P gt, P ge) {
    switch (op) {
      case Op::kEq: return eq;
      case Op::kNe: return ne;
      case Op::kLt: return lt;
      case Op::kLe: return le;
      case Op::kGt: return gt;
      default: return ge;
    }
  };
  switch (t.ty) {
    case Ty::kString: return CompareStrings(op, a, b, lhs, rhs);
    case Ty::kFloat:
      return b_.CreateFCmp(pick(P::FCMP_UEQ, P::FCMP_ONE, P::FCMP_OLT, P::FCMP_ULE, P::FCMP_OGT,
                                P::FCMP_UGE),
                           a.a, b.a);
    case Ty::kBool:
      return b_.CreateICmp(pick(P::ICMP_EQ, P::ICMP_NE, P::ICMP_ULT, P::ICMP_ULE, P::ICMP_UGT,
                                P::ICMP_UGE),
                           a.a, b.a);
    case Ty::kList:  // the interpreter compares the (zero) int members: always equal
      return b_.getInt1(op == Op::kEq || op == Op::kLe || op == Op::kGe);
    default:
      return b_.CreateICmp(pick(P::ICMP_EQ, P::ICMP_NE, P::ICMP_SLT, P::ICMP_SLE, P::ICMP_SGT,
                                P::ICMP_SGE),
                           a.a, b.a);
  }
}

llvm::Value* ExprEmitter::CompareStrings(Op op, const Val& a, const Val& b, const ir::Expr& lhs,
                                         const ir::Expr& rhs) {
  if (op == Op::kEq || op == Op::kNe) {
    llvm::Value* eq;
    if (rhs.op == Op::kConst) {
      eq = StrEqConst(a, rhs.value.s);
    } else if (lhs.op == Op::kConst) {
      eq = StrEqConst(b, lhs.value.s);
    } else {
      eq = b_.CreateICmpNE(CallHelper("jn_rt_str_eq", b_.getInt32Ty(), {a.a, a.len, b.a, b.len}),
                           b_.getInt32(0));
    }
    return op == Op::kEq ? eq : b_.CreateNot(eq);
  }
  llvm::Value* c = CallHelper("jn_rt_str_cmp", b_.getInt32Ty(), {a.a, a.len, b.a, b.len});
  llvm::Value* zero = b_.getInt32(0);
  switch (op) {
    case Op::kLt: return b_.CreateICmpSLT(c, zero);
    case Op::kLe: return b_.CreateICmpSLE(c, zero);
    case Op::kGt: return b_.CreateICmpSGT(c, zero);
    default: return b_.CreateICmpSGE(c, zero);
  }
}

// ---- Strings and lists ----------------------------------------------------------------

llvm::Value* ExprEmitter::CallHelper(const char* name, llvm::Type* result,
                                     std::vector<llvm::Value*> args) {
  std::vector<llvm::Type*> types;
  for (llvm::Value* a : args) types.push_back(a->getType());
  llvm::FunctionCallee callee = v_.Declare(name, llvm::FunctionType::get(result, types, false));
  return b_.CreateCall(callee, args);
}

llvm::Value* ExprEmitter::Memcmp(llvm::Value* a, llvm::Value* b, uint64_t n) {
  llvm::Type* size = module_.getDataLayout().getIntPtrType(module_.getContext());
  return CallHelper("memcmp", b_.getInt32Ty(), {a, b, llvm::ConstantInt::get(size, n)});
}

// s == c for a constant c: the lengths, then (only if they match) the bytes.
llvm::Value* ExprEmitter::StrEqConst(const Val& s, const std::string& c) {
  llvm::Value* same_len = b_.CreateICmpEQ(s.len, v_.I32(static_cast<int64_t>(c.size())));
  if (c.empty()) return same_len;
  llvm::BasicBlock* start = b_.GetInsertBlock();
  llvm::BasicBlock* bytes = v_.NewBlock("str_bytes");
  llvm::BasicBlock* done = v_.NewBlock("str_eq_done");
  b_.CreateCondBr(same_len, bytes, done);
  b_.SetInsertPoint(bytes);
  llvm::Value* eq = b_.CreateICmpEQ(Memcmp(s.a, v_.GlobalString(c), c.size()), b_.getInt32(0));
  llvm::BasicBlock* bytes_end = b_.GetInsertBlock();
  b_.CreateBr(done);
  b_.SetInsertPoint(done);
  return v_.Merge({{{b_.getFalse()}, start}, {{eq}, bytes_end}}).a;
}

// s starts_with c / s ends_with c for a constant c.
llvm::Value* ExprEmitter::StrAffixConst(const Val& s, const std::string& c, bool suffix) {
  if (c.empty()) return b_.getTrue();
  auto n = static_cast<int64_t>(c.size());
  llvm::Value* long_enough = b_.CreateICmpUGE(s.len, v_.I32(n));
  llvm::BasicBlock* start = b_.GetInsertBlock();
  llvm::BasicBlock* bytes = v_.NewBlock("affix_bytes");
  llvm::BasicBlock* done = v_.NewBlock("affix_done");
  b_.CreateCondBr(long_enough, bytes, done);
  b_.SetInsertPoint(bytes);
  llvm::Value* from = s.a;
  if (suffix) {
    llvm::Value* skip = b_.CreateSub(b_.CreateZExt(s.len, b_.getInt64Ty()), v_.I64(n));
    from = v_.Addr(s.a, skip);
  }
  llvm::Value* eq = b_.CreateICmpEQ(Memcmp(from, v_.GlobalString(c), c.size()), b_.getInt32(0));
  llvm::BasicBlock* bytes_end = b_.GetInsertBlock();
  b_.CreateBr(done);
  b_.SetInsertPoint(done);
  return v_.Merge({{{b_.getFalse()}, start}, {{eq}, bytes_end}}).a;
}

llvm::Value* ExprEmitter::StringTest(Op op, const Val& a, const Val& b, const ir::Expr& rhs) {
  if (op != Op::kStrContains && rhs.op == Op::kConst) {
    return StrAffixConst(a, rhs.value.s, op == Op::kEndsWith);
  }
  const char* helper = op == Op::kStartsWith ? "jn_rt_starts_with"
                       : op == Op::kEndsWith ? "jn_rt_ends_with"
                                             : "jn_rt_str_contains";
  return b_.CreateICmpNE(CallHelper(helper, b_.getInt32Ty(), {a.a, a.len, b.a, b.len}),
                         b_.getInt32(0));
}

Val ExprEmitter::Concat(const Val& a, const Val& b) {
  llvm::Value* data =
      CallHelper("jn_rt_concat", b_.getPtrTy(), {ctx_, a.a, a.len, b.a, b.len});
  return {data, b_.CreateAdd(a.len, b.len), v_.I32(-1)};
}

// item == c, compared as the interpreter compares two values of the element type.
llvm::Value* ExprEmitter::ElementEquals(const Val& item, Ty elem, const ir::Value& c) {
  switch (elem) {
    case Ty::kString: return StrEqConst(item, c.s);
    case Ty::kBool: return b_.CreateICmpEQ(item.a, b_.getInt1(c.b));
    case Ty::kFloat:
      return b_.CreateFCmpUEQ(item.a, llvm::ConstantFP::get(b_.getDoubleTy(), c.f));
    default: return b_.CreateICmpEQ(item.a, v_.I64(c.i));
  }
}

// `item in list`. A constant list (list_expr is a kConst; `list` may then be empty)
// of a few elements becomes a chain of comparisons; a longer constant list of ints
// or strings a `switch` (SwitchMembership); anything else a helper's loop.
llvm::Value* ExprEmitter::Membership(const Val& item, Ty elem, const Val& list,
                                     const ir::Expr& list_expr) {
  bool constant = list_expr.op == Op::kConst;
  if (constant && list_expr.value.list.empty()) return b_.getFalse();
  llvm::Type* item_type = item.a->getType();
  bool fits = elem == Ty::kString ? item.len != nullptr
              : elem == Ty::kBool ? item_type->isIntegerTy(1)
              : elem == Ty::kFloat ? item_type->isDoubleTy()
                                   : item_type->isIntegerTy(64);
  if (!fits) {
    Fail("malformed IR: a list of " + std::string(ir::TyName(elem)) +
         " searched for a value of another type");
    return b_.getFalse();
  }
  if (constant && list_expr.value.list.size() <= kInlineListMax) {
    llvm::Value* found = b_.getFalse();
    for (const ir::Value& c : list_expr.value.list) {
      found = b_.CreateOr(found, ElementEquals(item, elem, c));
    }
    return found;
  }
  if (constant && (IsIntLike(elem) || elem == Ty::kString)) {
    return SwitchMembership(item, elem, list_expr.value.list);
  }
  Val l = constant ? v_.Constant(list_expr.value, list_expr.type) : list;
  std::vector<llvm::Value*> args = {l.a, l.len, l.aux};
  const char* helper;
  switch (elem) {
    case Ty::kString:
      helper = "jn_rt_list_has_str";
      args.push_back(item.a);
      args.push_back(item.len);
      break;
    case Ty::kBool:
      helper = "jn_rt_list_has_bool";
      args.push_back(b_.CreateZExt(item.a, b_.getInt32Ty()));
      break;
    case Ty::kFloat:
      helper = "jn_rt_list_has_float";
      args.push_back(item.a);
      break;
    default:
      helper = "jn_rt_list_has_int";
      args.push_back(item.a);
      break;
  }
  return b_.CreateICmpNE(CallHelper(helper, b_.getInt32Ty(), args), b_.getInt32(0));
}

// Membership in a long constant list, precompiled: a `switch` that LLVM lowers to a
// jump table or a balanced tree of compares (no loop over the list). Ints switch on
// the value. Strings switch on their 64-bit XXH3 hash (jn_rt_str_hash; the cases are
// the constants' hashes, computed now), and a hit is confirmed by comparing with the
// constants of that hash, so a collision can cost a compare but never a wrong answer.
llvm::Value* ExprEmitter::SwitchMembership(const Val& item, Ty elem,
                                           const std::vector<ir::Value>& constants) {
  llvm::LLVMContext& context = module_.getContext();
  llvm::Function* f = b_.GetInsertBlock()->getParent();
  llvm::BasicBlock* done = llvm::BasicBlock::Create(context, "in.done", f);
  llvm::BasicBlock* miss = llvm::BasicBlock::Create(context, "in.miss", f);
  // Every hit block branches to `done` with its answer; `miss` answers false.
  std::vector<std::pair<llvm::BasicBlock*, llvm::Value*>> answers;
  if (elem == Ty::kString) {
    std::map<uint64_t, std::vector<const ir::Value*>> by_hash;
    for (const ir::Value& c : constants) {
      by_hash[jn_rt_str_hash(c.s.data(), static_cast<uint32_t>(c.s.size()))].push_back(&c);
    }
    llvm::Value* hash = CallHelper("jn_rt_str_hash", b_.getInt64Ty(), {item.a, item.len});
    llvm::SwitchInst* sw = b_.CreateSwitch(hash, miss, static_cast<unsigned>(by_hash.size()));
    for (const auto& [h, group] : by_hash) {
      llvm::BasicBlock* check = llvm::BasicBlock::Create(context, "in.check", f);
      sw->addCase(b_.getInt64(h), check);
      b_.SetInsertPoint(check);
      llvm::Value* equal = b_.getFalse();
      for (const ir::Value* c : group) equal = b_.CreateOr(equal, StrEqConst(item, c->s));
      answers.emplace_back(b_.GetInsertBlock(), equal);
      b_.CreateBr(done);
    }
  } else {
    std::set<int64_t> values;
    for (const ir::Value& c : constants) values.insert(c.i);
    llvm::BasicBlock* hit = llvm::BasicBlock::Create(context, "in.hit", f);
    llvm::SwitchInst* sw = b_.CreateSwitch(item.a, miss, static_cast<unsigned>(values.size()));
    for (int64_t v : values) sw->addCase(b_.getInt64(static_cast<uint64_t>(v)), hit);
    b_.SetInsertPoint(hit);
    answers.emplace_back(hit, b_.getTrue());
    b_.CreateBr(done);
  }
  b_.SetInsertPoint(miss);
  answers.emplace_back(miss, b_.getFalse());
  b_.CreateBr(done);
  b_.SetInsertPoint(done);
  llvm::PHINode* phi = b_.CreatePHI(b_.getInt1Ty(), static_cast<unsigned>(answers.size()));
  for (const auto& [block, value] : answers) phi->addIncoming(value, block);
  return phi;
}

// ---- Segments ---------------------------------------------------------------------

llvm::Function* ExprEmitter::SegmentFunction(uint32_t index) {
  if (segments_[index]) return segments_[index];
  auto* type = llvm::FunctionType::get(b_.getInt1Ty(), {b_.getPtrTy()}, false);
  llvm::Function* f = llvm::Function::Create(type, llvm::GlobalValue::InternalLinkage,
                                             "jn_segment_" + std::to_string(index), module_);
  f->addFnAttr(llvm::Attribute::NoUnwind);
  f->getArg(0)->setName("ctx");
  segments_[index] = f;
  pending_segments_.push_back(index);
  return f;
}

void ExprEmitter::EmitPendingSegments() {
  while (!pending_segments_.empty()) {
    uint32_t index = pending_segments_.front();
    pending_segments_.pop_front();
    llvm::Function* f = segments_[index];
    BeginFunction(f);
    const ir::Expr& body = *program_.segments[index].body;
    Val v = body.type.ty == Ty::kBool ? Emit(body) : Val{b_.getFalse()};
    if (body.type.ty != Ty::kBool) Fail("malformed IR: segment " + program_.segments[index].name + " is not a bool");
    b_.CreateRet(v.a);
  }
}

}  // namespace juncture::compiler::codegen
