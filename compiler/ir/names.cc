// The lower_snake names of the IR's enumerations, used by the printer, the verifier's
// messages and the back ends' diagnostics.
#include <string>

#include "ir/ir.h"

namespace juncture::compiler::ir {

const char* TyName(Ty ty) {
  switch (ty) {
    case Ty::kBool: return "bool";
    case Ty::kInt: return "int";
    case Ty::kFloat: return "float";
    case Ty::kString: return "string";
    case Ty::kTime: return "time";
    case Ty::kDuration: return "duration";
    case Ty::kList: return "list";
  }
  return "?";
}

std::string TypeName(IrType t) {
  if (t.ty != Ty::kList) return TyName(t.ty);
  return std::string("list<") + TyName(t.elem) + ">";
}

const char* OpName(Op op) {
  switch (op) {
    case Op::kConst: return "const";
    case Op::kEventField: return "event_field";
    case Op::kEventPresent: return "event_present";
    case Op::kEnvelope: return "envelope";
    case Op::kProfileField: return "profile_field";
    case Op::kProfilePresent: return "profile_present";
    case Op::kNow: return "now";
    case Op::kCustomer: return "customer";
    case Op::kWindow: return "window";
    case Op::kSegment: return "segment";
    case Op::kIntToFloat: return "int_to_float";
    case Op::kNot: return "not";
    case Op::kNeg: return "neg";
    case Op::kAdd: return "add";
    case Op::kSub: return "sub";
    case Op::kMul: return "mul";
    case Op::kDiv: return "div";
    case Op::kMod: return "mod";
    case Op::kScale: return "scale";
    case Op::kConcat: return "concat";
    case Op::kEq: return "eq";
    case Op::kNe: return "ne";
    case Op::kLt: return "lt";
    case Op::kLe: return "le";
    case Op::kGt: return "gt";
    case Op::kGe: return "ge";
    case Op::kAnd: return "and";
    case Op::kOr: return "or";
    case Op::kSelect: return "select";
    case Op::kStartsWith: return "starts_with";
    case Op::kEndsWith: return "ends_with";
    case Op::kStrContains: return "str_contains";
    case Op::kInList: return "in_list";
    case Op::kListContains: return "list_contains";
    case Op::kCall: return "call";
  }
  return "?";
}

const char* StepOpName(StepOp op) {
  switch (op) {
    case StepOp::kSend: return "send";
    case StepOp::kWait: return "wait";
    case StepOp::kWaitUntil: return "wait_until";
    case StepOp::kBranch: return "branch";
    case StepOp::kSplit: return "split";
    case StepOp::kControl: return "control";
    case StepOp::kExit: return "exit";
    case StepOp::kComplete: return "complete";
  }
  return "?";
}

}  // namespace juncture::compiler::ir
