#include "ir/layout.h"

#include "juncture/abi/abi.h"

namespace juncture::compiler::ir {

IrType ToIrType(Type t) {
  auto scalar = [](TypeKind k) {
    switch (k) {
      case TypeKind::kInt: return Ty::kInt;
      case TypeKind::kFloat: return Ty::kFloat;
      case TypeKind::kString: return Ty::kString;
      case TypeKind::kTime: return Ty::kTime;
      case TypeKind::kDuration: return Ty::kDuration;
      case TypeKind::kList:
      case TypeKind::kEmptyList: return Ty::kList;
      default: return Ty::kBool;
    }
  };
  IrType out{scalar(t.kind)};
  if (out.ty == Ty::kList) out.elem = t.kind == TypeKind::kEmptyList ? Ty::kString : scalar(t.elem);
  return out;
}

Value ToValue(const ConstValue& c, IrType type) {
  Value v;
  v.type = type;
  if (type.ty == Ty::kList) {
    for (const ConstValue& x : c.list) v.list.push_back(ToValue(x, IrType{type.elem}));
    return v;
  }
  v.b = c.b;
  v.s = c.s;
  if (type.ty == Ty::kFloat) {
    v.f = c.AsDouble();
  } else {
    v.i = c.i;
  }
  return v;
}

uint32_t SizeOf(IrType t) {
  switch (t.ty) {
    case Ty::kBool: return 1;
    case Ty::kString: return sizeof(JnStr);
    case Ty::kList: return sizeof(JnList);
    default: return 8;
  }
}

RecordLayout LayoutRecord(const std::string& name, uint32_t type_id,
                          const std::vector<const ast::FieldDecl*>& fields,
                          uint32_t header_size) {
  RecordLayout layout;
  layout.name = name;
  layout.type_id = type_id;
  uint32_t offset = header_size;
  int next_bit = 0;
  for (const ast::FieldDecl* f : fields) {
    FieldLayout field;
    field.name = f->name;
    field.type = ToIrType(f->type);
    uint32_t size = SizeOf(field.type);
    uint32_t align = size >= 8 ? 8 : size;
    offset = (offset + align - 1) / align * align;
    field.offset = offset;
    offset += size;
    if (f->type.optional) field.presence_bit = next_bit++;
    field.has_default = f->default_value != nullptr;
    if (field.has_default) {
      if (auto folded = Fold(*f->default_value)) field.default_value = ToValue(*folded, field.type);
    }
    layout.fields.push_back(field);
  }
  layout.size = (offset + 7) / 8 * 8;
  return layout;
}

}  // namespace juncture::compiler::ir
