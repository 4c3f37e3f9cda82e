// Declarations: collecting names across files, events, the profile, channels,
// segments and consts.
#include <algorithm>

#include "base/suggest.h"
#include "juncture/abi/abi.h"
#include "sema/checker.h"
#include "sema/const_value.h"

namespace juncture::compiler {

using namespace ast;

namespace {

constexpr int kMaxOptionalFields = JN_MAX_OPTIONAL_FIELDS;

const char* KindWord(DeclKind k) {
  switch (k) {
    case DeclKind::kEvent: return "event";
    case DeclKind::kProfile: return "profile";
    case DeclKind::kChannel: return "channel";
    case DeclKind::kSegment: return "segment";
    case DeclKind::kConst: return "const";
    case DeclKind::kJourney: return "journey";
  }
  return "declaration";
}

}  // namespace

std::string Checker::Suggest(const std::string& name, const std::vector<std::string>& candidates) {
  return DidYouMean(name, candidates);
}

// Gathers every declaration of every file into the name tables. Segments and
// consts share one namespace (both are read by bare name in expressions).
void Checker::Collect() {
  auto add = [&](auto& table, auto* decl) {
    auto [it, inserted] = table.emplace(decl->name, decl);
    if (!inserted) {
      Error(ErrorCode::kDuplicate, decl->name_range, std::string(KindWord(decl->kind)) + " '" + decl->name +
                                  "' is already declared");
      sink_.Note(it->second->name_range, "previous declaration is here");
    }
  };
  for (Module& m : program_.modules) {
    for (DeclPtr& d : m.decls) {
      switch (d->kind) {
        case DeclKind::kEvent: {
          auto* e = static_cast<EventDecl*>(d.get());
          add(events_, e);
          break;
        }
        case DeclKind::kProfile: profiles_.push_back(static_cast<ProfileDecl*>(d.get())); break;
        case DeclKind::kChannel: add(channels_, static_cast<ChannelDecl*>(d.get())); break;
        case DeclKind::kJourney: add(journeys_, static_cast<JourneyDecl*>(d.get())); break;
        case DeclKind::kSegment:
        case DeclKind::kConst: {
          Decl* prior = segments_.count(d->name) ? static_cast<Decl*>(segments_[d->name])
                        : consts_.count(d->name) ? static_cast<Decl*>(consts_[d->name])
                                                 : nullptr;
          if (prior) {
            Error(ErrorCode::kDuplicate, d->name_range, std::string(KindWord(d->kind)) + " '" + d->name +
                                     "' is already declared as a " + KindWord(prior->kind));
            sink_.Note(prior->name_range, "previous declaration is here");
          } else if (d->kind == DeclKind::kSegment) {
            segments_[d->name] = static_cast<SegmentDecl*>(d.get());
            segment_list_.push_back(static_cast<SegmentDecl*>(d.get()));
            result_.segments.push_back(segment_list_.back());
          } else {
            consts_[d->name] = static_cast<ConstDecl*>(d.get());
            const_list_.push_back(static_cast<ConstDecl*>(d.get()));
            result_.consts.push_back(const_list_.back());
          }
          break;
        }
      }
    }
  }
  // Dense ids in declaration order (file order, then position).
  for (Module& m : program_.modules) {
    for (DeclPtr& d : m.decls) {
      if (d->kind == DeclKind::kEvent && events_[d->name] == d.get()) {
        auto* e = static_cast<EventDecl*>(d.get());
        e->id = static_cast<int>(result_.events.size());
        event_list_.push_back(e);
        result_.events.push_back(e);
      } else if (d->kind == DeclKind::kChannel && channels_[d->name] == d.get()) {
        auto* c = static_cast<ChannelDecl*>(d.get());
        c->id = static_cast<int>(result_.channels.size());
        channel_list_.push_back(c);
        result_.channels.push_back(c);
      }
    }
  }
}

Type Checker::ResolveType(const TypeRef& ref) {
  static const std::map<std::string, TypeKind> kScalars = {
      {"bool", TypeKind::kBool},     {"int", TypeKind::kInt},   {"float", TypeKind::kFloat},
      {"string", TypeKind::kString}, {"time", TypeKind::kTime}, {"duration", TypeKind::kDuration}};
  Type t;
  if (ref.name == "list") {
    if (!ref.elem) {
      Error(ErrorCode::kUnknownType, ref.range, "'list' needs an element type, as in list<string>");
      return Type::Error();
    }
    if (ref.elem->name == "list" || ref.elem->optional) {
      Error(ErrorCode::kUnknownType, ref.elem->range, "list elements must be bool, int, float, string, time or duration");
      return Type::Error();
    }
    Type elem = ResolveType(*ref.elem);
    if (elem.is_error()) return elem;
    t = Type::List(elem.kind);
  } else {
    auto it = kScalars.find(ref.name);
    if (it == kScalars.end()) {
      std::vector<std::string> names = {"bool", "int", "float", "string", "time", "duration", "list"};
      // Type names of other languages marketers and engineers may know.
      static const std::vector<std::pair<std::string, std::string>> kAliases = {
          {"integer", "int"},   {"long", "int"},       {"number", "float"},  {"double", "float"},
          {"decimal", "float"}, {"real", "float"},     {"boolean", "bool"},  {"str", "string"},
          {"text", "string"},   {"timestamp", "time"}, {"datetime", "time"}, {"date", "time"},
          {"array", "list"},    {"interval", "duration"}};
      Error(ErrorCode::kUnknownType, ref.range, "unknown type '" + ref.name + "'" + DidYouMean(ref.name, names, kAliases));
      return Type::Error();
    }
    if (ref.elem) {
      Error(ErrorCode::kUnknownType, ref.range, "type '" + ref.name + "' takes no element type");
      return Type::Error();
    }
    t = Type{it->second};
  }
  t.optional = ref.optional;
  return t;
}

void Checker::CheckFields(std::vector<FieldDecl>& fields, const std::string& owner) {
  std::map<std::string, const FieldDecl*> seen;
  int optional_count = 0;
  for (FieldDecl& f : fields) {
    if (f.type_ref.optional && ++optional_count == kMaxOptionalFields + 1) {
      Error(ErrorCode::kInvalidValue, f.name_range, owner + " has more than " + std::to_string(kMaxOptionalFields) +
                              " optional fields");
    }
    if (auto [it, inserted] = seen.emplace(f.name, &f); !inserted) {
      Error(ErrorCode::kDuplicate, f.name_range, "field '" + f.name + "' is already declared in " + owner);
      sink_.Note(it->second->name_range, "previous declaration is here");
    }
    f.type = ResolveType(f.type_ref);
    if (!f.default_value) continue;
    if (f.type.optional) {
      Error(ErrorCode::kOptional, f.default_value->range,
            "optional field '" + f.name + "' cannot have a default (absent means absent)");
      continue;
    }
    ExprEnv env{Site::kFieldDefault};
    Type t = CheckValue(*f.default_value, env);
    if (t.is_error() || f.type.is_error()) continue;
    if (!IsAssignable(t, f.type)) {
      Error(ErrorCode::kConstant, f.default_value->range, "default of field '" + f.name + "' must be " +
                                        TypeName(f.type) + ", not " + TypeName(t));
    } else if (!Fold(*f.default_value)) {
      Error(ErrorCode::kConstant, f.default_value->range, "default of field '" + f.name + "' must be a constant");
    }
  }
}

void Checker::CheckEvent(EventDecl& e) {
  for (const FieldDecl& f : e.fields) {
    if (f.name == "id" || f.name == "customer" || f.name == "time") {
      Error(ErrorCode::kUnknownField, f.name_range, "field name '" + f.name + "' is reserved: every event has event." +
                              f.name + " from the message envelope");
    }
  }
  CheckFields(e.fields, "event '" + e.name + "'");
  for (size_t i = 0; i < e.fields.size(); ++i) e.fields[i].index = static_cast<int>(i);
}

// The profile may be split over several blocks and files; its fields are merged.
void Checker::CheckProfile() {
  if (profiles_.empty()) return;
  std::vector<FieldDecl*> all;
  for (ProfileDecl* p : profiles_) {
    CheckFields(p->fields, "the profile");
    for (FieldDecl& f : p->fields) {
      auto [it, inserted] = profile_fields_.emplace(f.name, &f);
      if (!inserted && it->second != &f) {
        // Duplicates inside one block were reported by CheckFields.
        bool same_block = false;
        for (const FieldDecl& g : p->fields) same_block |= (&g == it->second);
        if (!same_block) {
          Error(ErrorCode::kDuplicate, f.name_range, "profile field '" + f.name + "' is already declared");
          sink_.Note(it->second->name_range, "previous declaration is here");
        }
        continue;
      }
      f.index = static_cast<int>(result_.profile_fields.size());
      result_.profile_fields.push_back(&f);
    }
  }
}

void Checker::CheckBoolExpr(Expr& e, const ExprEnv& env, const char* what) {
  Type t = CheckValue(e, env);
  if (!t.is_error() && t.kind != TypeKind::kBool) {
    Error(ErrorCode::kType, e.range, std::string(what) + " must be a bool, not " + TypeName(t));
  }
}

void Checker::CheckChannel(ChannelDecl& c) {
  if (c.consent) CheckBoolExpr(*c.consent, ExprEnv{Site::kConsent}, "consent");
  if (c.quiet) {
    if (c.quiet->start_minute == c.quiet->end_minute) {
      Error(ErrorCode::kInvalidValue, c.quiet->range, "quiet window of channel '" + c.name + "' is empty (start == end)");
    }
    if (c.quiet->local) {
      auto it = profile_fields_.find("timezone");
      if (it == profile_fields_.end() || it->second->type.kind != TypeKind::kString ||
          it->second->type.optional) {
        Error(ErrorCode::kTimeZoneField, c.quiet->range, "'quiet … local' needs a profile field 'timezone: string' "
                              "(the customer's IANA time zone)");
      }
    }
  }
  if (c.cap) {
    if (c.cap->count <= 0) Error(ErrorCode::kInvalidValue, c.cap->range, "cap must allow at least 1 send");
    if (c.cap->per_us <= 0) Error(ErrorCode::kInvalidValue, c.cap->range, "cap window must be longer than 0s");
  }
}

void Checker::CheckSegment(SegmentDecl& s) {
  if (state_[&s] == State::kDone) return;
  state_[&s] = State::kChecking;
  checking_.push_back(&s);
  CheckBoolExpr(*s.value, ExprEnv{Site::kSegment}, "a segment");
  checking_.pop_back();
  state_[&s] = State::kDone;
}

void Checker::CheckConst(ConstDecl& c) {
  if (state_[&c] == State::kDone) return;
  state_[&c] = State::kChecking;
  checking_.push_back(&c);
  Type t = CheckValue(*c.value, ExprEnv{Site::kConst});
  if (!t.is_error() && !Fold(*c.value)) {
    Error(ErrorCode::kConstant, c.value->range, "const '" + c.name + "' must be a constant expression");
  }
  checking_.pop_back();
  state_[&c] = State::kDone;
}

bool Checker::Run() {
  Collect();
  for (EventDecl* e : event_list_) CheckEvent(*e);
  CheckProfile();
  for (SegmentDecl* s : segment_list_) CheckSegment(*s);
  for (ConstDecl* c : const_list_) CheckConst(*c);
  for (ChannelDecl* c : channel_list_) CheckChannel(*c);
  for (Module& m : program_.modules) {
    for (DeclPtr& d : m.decls) {
      if (d->kind != DeclKind::kJourney) continue;
      auto* j = static_cast<JourneyDecl*>(d.get());
      if (journeys_[j->name] != j) continue;  // a duplicate, already reported
      JourneyInfo info;
      info.decl = j;
      result_.journeys.push_back(info);
      CheckJourney(*j, result_.journeys.back());
    }
  }
  Lint();
  return !sink_.has_errors();
}

bool Analyze(Program& program, const SemaOptions& options, DiagnosticSink& sink,
             SemaResult& result) {
  return Checker(program, options, sink, result).Run();
}

}  // namespace juncture::compiler
