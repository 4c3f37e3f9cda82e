#include "juncture/lsp/features.h"

#include <algorithm>
#include <optional>
#include <regex>
#include <set>

#include "ast/formatter.h"
#include "juncture/compiler/format.h"
#include "juncture/lsp/index.h"
#include "juncture/stdlib/declarations.h"
#include "sema/sema.h"

namespace juncture::lsp {
namespace {

using compiler::Compilation;
using compiler::SourceLoc;
using compiler::SourceRange;

// ---- positions ---------------------------------------------------------------------

json LspPosition(const Compilation& c, SourceLoc l) {
  const uint32_t line = l.line == 0 ? 1 : l.line;
  std::string_view text = c.sources().LineText(l.file, line);
  return {{"line", line - 1}, {"character", Utf16Column(text, l.column == 0 ? 1 : l.column)}};
}

json LspRange(const Compilation& c, const SourceRange& r) {
  const SourceLoc end = r.end.valid() ? r.end : r.begin;
  return {{"start", LspPosition(c, r.begin)}, {"end", LspPosition(c, end)}};
}

json Location(const Compilation& c, const SourceRange& r) {
  return {{"uri", PathToUri(c.sources().file(r.begin.file).path)}, {"range", LspRange(c, r)}};
}

// The compiler's (file, line, column) of an LSP position in `path`, in compilation `c`.
bool ToSource(const Compilation& c, const std::string& path, Position at, compiler::FileId& file,
              uint32_t& line, uint32_t& column) {
  file = FindFile(c, path);
  if (file == compiler::kNoFile) return false;
  line = static_cast<uint32_t>(at.line) + 1;
  column = CodepointColumn(c.sources().LineText(file, line), at.character);
  return true;
}

// The text of `line` (0-based) of `text` up to the UTF-16 column `character`.
std::string LinePrefix(const std::string& text, Position at) {
  size_t start = 0;
  for (int l = 0; l < at.line; ++l) {
    start = text.find('\n', start);
    if (start == std::string::npos) return "";
    ++start;
  }
  size_t end = text.find('\n', start);
  std::string line = text.substr(start, end == std::string::npos ? std::string::npos : end - start);
  const uint32_t column = CodepointColumn(line, at.character);
  size_t bytes = 0;
  for (uint32_t k = 1; k < column && bytes < line.size(); ++k) {
    const auto lead = static_cast<unsigned char>(line[bytes]);
    bytes += lead < 0xC0 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
  }
  return line.substr(0, std::min(bytes, line.size()));
}

// ---- words -------------------------------------------------------------------------

std::string Code(const std::string& s) { return "`" + s + "`"; }

std::string Where(const Compilation& c, const SourceRange& r) {
  if (!r.begin.valid()) return "";
  std::string path = c.sources().file(r.begin.file).path;
  path = path.substr(path.find_last_of('/') + 1);
  return path + ":" + std::to_string(r.begin.line);
}

std::string FieldLine(const ast::FieldDecl& f) {
  std::string out = f.name + ": " + compiler::TypeName(f.type);
  if (f.default_value) out += " = " + compiler::ast::FormatExpr(*f.default_value);
  return out;
}

std::string EventText(const Compilation& c, const ast::EventDecl& e) {
  std::string out = "```juncture\nevent " + e.name + " {";
  for (const ast::FieldDecl& f : e.fields) out += "\n  " + FieldLine(f);
  out += e.fields.empty() ? " }\n```" : "\n}\n```";
  return out + "\nDeclared at " + Where(c, e.name_range) + ".";
}

std::string ChannelText(const ast::ChannelDecl& ch) {
  std::string out = "**channel " + ch.name + "**";
  std::vector<std::string> rules;
  rules.push_back(ch.consent ? "consent " + Code(compiler::ast::FormatExpr(*ch.consent))
                             : "no consent clause: always allowed");
  if (ch.cap) rules.push_back("cap " + std::to_string(ch.cap->count) + " per " + ch.cap->per_spelling);
  if (ch.quiet) {
    rules.push_back("quiet " + ch.quiet->start_spelling + " .. " + ch.quiet->end_spelling +
                    (ch.quiet->local ? " local" : " UTC") +
                    (ch.quiet->drop ? " (dropped)" : " (deferred)"));
  }
  for (const ast::NameRef& r : ch.approval_roles) rules.push_back("needs approval by " + r.name);
  for (const std::string& r : rules) out += "\n- " + r;
  return out;
}

const compiler::JourneyInfo* Info(const Compilation& c, const ast::JourneyDecl* j) {
  if (c.sema() == nullptr || j == nullptr) return nullptr;
  for (const compiler::JourneyInfo& info : c.sema()->journeys) {
    if (info.decl == j) return &info;
  }
  return nullptr;
}

std::string ApprovalText(const Compilation& c, const ast::JourneyDecl* j) {
  const compiler::JourneyInfo* info = Info(c, j);
  if (info == nullptr) return "";
  if (info->required_roles.empty()) return "Journey " + Code(j->name) + " needs no approval.";
  std::string out = "Journey " + Code(j->name) + " version " + Code(info->hash.substr(0, 12)) + ": ";
  if (info->approved()) return out + "approved.";
  out += "**not approved**, missing ";
  for (size_t k = 0; k < info->missing_roles.size(); ++k) out += (k ? ", " : "") + info->missing_roles[k];
  return out + ": its sends are suppressed (`unapproved`).";
}

std::string FunctionText(int index) {
  const stdlib::Function& f = stdlib::Functions()[static_cast<size_t>(index)];
  std::string out = "```juncture\n";
  for (const stdlib::Overload& o : f.overloads) {
    out += std::string(f.name) + "(";
    for (size_t k = 0; k < o.params.size(); ++k) {
      out += (k ? ", " : "") + std::string(stdlib::KindName(o.params[k]));
      if (static_cast<int>(k) >= o.min_args) out += "?";
    }
    out += ") -> " + std::string(stdlib::KindName(o.result)) + "\n";
  }
  return out + "```\n" + std::string(f.summary);
}

std::string HoverText(const Compilation& c, const Occurrence& o) {
  switch (o.kind) {
    case NameKind::kEvent: return o.event ? EventText(c, *o.event) : "";
    case NameKind::kEventField: {
      if (o.field == nullptr) return "";
      std::string out = Code("event." + FieldLine(*o.field)) + ": a field of ";
      for (size_t k = 0; k < o.events.size(); ++k) out += (k ? ", " : "") + Code(o.events[k]->name);
      return out + " (" + Where(c, o.field->name_range) + ")";
    }
    case NameKind::kEnvelope:
      return Code("event." + std::string(o.expr ? compiler::TypeName(o.expr->type) : "")) ;
    case NameKind::kProfileField:
      return o.field ? Code("profile." + FieldLine(*o.field)) + ": a trait of the profile (" +
                           Where(c, o.field->name_range) + ")"
                     : "";
    case NameKind::kSegment: {
      const auto* s = static_cast<const ast::SegmentDecl*>(o.decl);
      return "```juncture\nsegment " + s->name + " = " +
             (s->value ? compiler::ast::FormatExpr(*s->value) : "") + "\n```\nbool, " +
             Where(c, s->name_range);
    }
    case NameKind::kConst: {
      const auto* k = static_cast<const ast::ConstDecl*>(o.decl);
      std::string type = k->value ? compiler::TypeName(k->value->type) : "";
      return "```juncture\nconst " + k->name + " = " +
             (k->value ? compiler::ast::FormatExpr(*k->value) : "") + "\n```\n" + type + ", " +
             Where(c, k->name_range);
    }
    case NameKind::kChannel: {
      std::string out = ChannelText(static_cast<const ast::ChannelDecl&>(*o.decl));
      if (!o.declaration && o.journey) out += "\n\n" + ApprovalText(c, o.journey);
      return out;
    }
    case NameKind::kFunction: return FunctionText(o.function);
    case NameKind::kJourney: {
      const auto* j = static_cast<const ast::JourneyDecl*>(o.decl);
      std::string out = "**journey " + j->name + "**";
      if (!j->title_value.empty()) out += ": " + j->title_value;
      if (!j->owner_value.empty()) out += "\n\nOwner: " + j->owner_value;
      out += "\n\nPriority " + std::to_string(j->priority.value_or(0)) + ". " + ApprovalText(c, j);
      return out;
    }
  }
  return "";
}

// The occurrence at `at` in the latest compilation that parsed, and that compilation.
const Occurrence* Find(const Workspace& ws, const std::string& path, Position at,
                       std::vector<Occurrence>& index, const Compilation*& c) {
  c = ws.parsed();
  if (c == nullptr || c->ast() == nullptr) return nullptr;
  compiler::FileId file;
  uint32_t line, column;
  if (!ToSource(*c, path, at, file, line, column)) return nullptr;
  index = IndexProgram(*c->ast());
  return OccurrenceAt(index, file, line, column);
}

SourceRange DefinitionRange(const Occurrence& o) {
  switch (o.kind) {
    case NameKind::kEvent: return o.event ? o.event->name_range : SourceRange{};
    case NameKind::kEventField:
    case NameKind::kProfileField: return o.field ? o.field->name_range : SourceRange{};
    case NameKind::kSegment:
    case NameKind::kConst:
    case NameKind::kChannel:
    case NameKind::kJourney: return o.decl ? o.decl->name_range : SourceRange{};
    default: return {};
  }
}

// ---- completion --------------------------------------------------------------------

const char* const kKeywords[] = {
    "event", "profile", "segment", "const", "channel", "journey", "on", "when", "eligible",
    "reenter", "always", "never", "after", "exit", "goal", "within", "deadline", "approvals",
    "approval", "consent", "quiet", "local", "drop", "cap", "per", "limit", "title", "owner",
    "priority", "send", "wait", "until", "if", "else", "split", "control", "and", "or", "not",
    "in", "starts_with", "ends_with", "contains", "has", "count", "sum", "time_since", "where",
    "now", "true", "false", "int", "float", "string", "bool", "time", "duration", "list"};

json Item(const std::string& label, int kind, const std::string& detail) {
  json item = {{"label", label}, {"kind", kind}};
  if (!detail.empty()) item["detail"] = detail;
  return item;
}

// LSP CompletionItemKind values.
constexpr int kText = 1, kFunctionKind = 3, kField = 5, kVariable = 6, kInterface = 8,
              kKeyword = 14, kConstant = 21, kStruct = 22, kEventKind = 23;

// The journey of `file` whose text holds `line`, or null.
const ast::JourneyDecl* JourneyAt(const ast::Program& p, compiler::FileId file, uint32_t line) {
  for (const ast::Module& m : p.modules) {
    if (m.file != file) continue;
    for (const ast::DeclPtr& d : m.decls) {
      if (d->kind == ast::DeclKind::kJourney && d->range.begin.line <= line && line <= d->range.end.line) {
        return static_cast<const ast::JourneyDecl*>(d.get());
      }
    }
  }
  return nullptr;
}

using Events = std::vector<const ast::EventDecl*>;

void AddAll(Events& to, const Events& more) {
  for (const ast::EventDecl* e : more) {
    if (std::find(to.begin(), to.end(), e) == to.end()) to.push_back(e);
  }
}

// Every event a `wait until` in `s` (itself, or at any depth inside it) waits for.
void Awaited(const ast::Step& s, Events& out);
void Awaited(const ast::Block& b, Events& out) {
  for (const ast::StepPtr& s : b.steps) Awaited(*s, out);
}
void Awaited(const ast::Step& s, Events& out) {
  if (s.kind == ast::StepKind::kWaitUntil) {
    const auto& w = static_cast<const ast::WaitUntilStep&>(s);
    for (const ast::EventName& e : w.events) {
      if (e.decl) AddAll(out, {e.decl});
    }
    if (w.on_event) Awaited(*w.on_event, out);
    if (w.on_timeout) Awaited(*w.on_timeout, out);
  } else if (s.kind == ast::StepKind::kIf) {
    const auto& f = static_cast<const ast::IfStep&>(s);
    for (const ast::IfArm& arm : f.arms) Awaited(arm.body, out);
    if (f.else_body) Awaited(*f.else_body, out);
  } else if (s.kind == ast::StepKind::kSplit) {
    for (const ast::SplitArm& arm : static_cast<const ast::SplitStep&>(s).arms) Awaited(arm.body, out);
  }
}

bool InBlock(const std::optional<ast::Block>& b, uint32_t line) {
  return b && b->range.begin.line <= line && line <= b->range.end.line;
}

// What `event` may be at `line` inside `b`, where it may be `current` on entry, as
// the checker binds it: the awaited events inside a `wait until`'s block, what it
// was before in its `else` block, and after a step any event a `wait until` in it
// awaited too. False if `line` is not in `b`.
bool BoundIn(const ast::Block& b, uint32_t line, Events current, Events& out) {
  for (const ast::StepPtr& s : b.steps) {
    if (s->range.end.line < line) {  // before the line: it may have rebound `event`
      Awaited(*s, current);
      continue;
    }
    if (s->range.begin.line > line) break;
    // The line is in this step.
    if (s->kind == ast::StepKind::kWaitUntil) {
      const auto& w = static_cast<const ast::WaitUntilStep&>(*s);
      Events events;
      for (const ast::EventName& e : w.events) {
        if (e.decl) events.push_back(e.decl);
      }
      if (InBlock(w.on_event, line)) return BoundIn(*w.on_event, line, events, out) || (out = events, true);
      if (InBlock(w.on_timeout, line)) return BoundIn(*w.on_timeout, line, current, out) || (out = current, true);
      out = events;  // its own `when`
      return true;
    }
    if (s->kind == ast::StepKind::kIf) {
      const auto& f = static_cast<const ast::IfStep&>(*s);
      for (const ast::IfArm& arm : f.arms) {
        if (arm.body.range.begin.line <= line && line <= arm.body.range.end.line) {
          return BoundIn(arm.body, line, current, out) || (out = current, true);
        }
      }
      if (InBlock(f.else_body, line)) return BoundIn(*f.else_body, line, current, out) || (out = current, true);
    } else if (s->kind == ast::StepKind::kSplit) {
      for (const ast::SplitArm& arm : static_cast<const ast::SplitStep&>(*s).arms) {
        if (arm.body.range.begin.line <= line && line <= arm.body.range.end.line) {
          return BoundIn(arm.body, line, current, out) || (out = current, true);
        }
      }
    }
    out = current;  // a send's parameters, an `if`'s condition
    return true;
  }
  out = current;  // after its last step (or past it, in a text being typed)
  return b.range.begin.line <= line;
}

// The events `event` may be at `line` of a journey.
Events BoundEvents(const ast::JourneyDecl& j, uint32_t line) {
  for (const auto* clauses : {&j.triggers, &j.exits}) {
    for (const ast::Trigger& t : *clauses) {
      if (t.range.begin.line == line && t.event.decl) return {t.event.decl};
    }
  }
  if (j.goal && j.goal->range.begin.line == line && j.goal->event.decl) return {j.goal->event.decl};
  Events triggers;
  for (const ast::Trigger& t : j.triggers) {
    if (t.event.decl) AddAll(triggers, {t.event.decl});
  }
  Events out;
  if (BoundIn(j.body, line, triggers, out)) return out;
  return triggers;  // the header (`eligible`)
}

const ast::EventDecl* EventNamed(const Compilation& c, const std::string& name) {
  if (c.sema() == nullptr) return nullptr;
  for (const ast::EventDecl* e : c.sema()->events) {
    if (e->name == name) return e;
  }
  return nullptr;
}

json EventFields(const std::vector<const ast::EventDecl*>& events) {
  json items = json::array();
  if (events.empty()) return items;
  // The fields every one of them has (reading one of them must type-check).
  for (const ast::FieldDecl& f : events.front()->fields) {
    bool everywhere = true;
    for (const ast::EventDecl* e : events) {
      everywhere &= std::any_of(e->fields.begin(), e->fields.end(),
                                [&](const ast::FieldDecl& g) { return g.name == f.name; });
    }
    if (everywhere) items.push_back(Item(f.name, kField, compiler::TypeName(f.type)));
  }
  items.push_back(Item("id", kField, "string (every event)"));
  items.push_back(Item("customer", kField, "string (every event)"));
  items.push_back(Item("time", kField, "time (every event)"));
  return items;
}

}  // namespace

std::map<std::string, json> Diagnostics(const Workspace& ws) {
  std::map<std::string, json> out;
  const Compilation* c = ws.current();
  if (c == nullptr) return out;
  for (compiler::FileId f = 0; f < c->sources().size(); ++f) {
    out[c->sources().file(f).path] = json::array();
  }
  for (const compiler::Diagnostic& d : c->diagnostics()) {
    // A problem without a place (an unreadable approvals ledger) goes on line 1 of
    // every file, so that it is seen.
    std::vector<std::string> files;
    if (d.range.begin.valid()) {
      files.push_back(c->sources().file(d.range.begin.file).path);
    } else {
      for (const auto& [path, list] : out) files.push_back(path);
    }
    json item = {
        {"severity", d.severity == compiler::Severity::kError ? 1 : d.severity == compiler::Severity::kWarning ? 2 : 3},
        {"source", "juncture"},
        {"message", d.message},
        {"range", d.range.begin.valid() ? LspRange(*c, d.range)
                                        : json{{"start", {{"line", 0}, {"character", 0}}},
                                               {"end", {{"line", 0}, {"character", 0}}}}}};
    if (d.error != compiler::ErrorCode::kNone) {
      item["code"] = std::string(compiler::ErrorCodeName(d.error));
    } else if (d.code != compiler::WarnCode::kNone) {
      item["code"] = std::string(compiler::WarnCodeName(d.code));
    }
    json related = json::array();
    for (const auto& [range, note] : d.notes) {
      if (range.begin.valid()) related.push_back({{"location", Location(*c, range)}, {"message", note}});
    }
    if (!related.empty()) item["relatedInformation"] = related;
    for (const std::string& f : files) out[f].push_back(item);
  }
  return out;
}

json Hover(const Workspace& ws, const std::string& path, Position at) {
  std::vector<Occurrence> index;
  const Compilation* c = nullptr;
  const Occurrence* o = Find(ws, path, at, index, c);
  if (o == nullptr) return nullptr;
  std::string text = HoverText(*c, *o);
  if (o->expr != nullptr && o->kind != NameKind::kFunction && o->kind != NameKind::kEnvelope &&
      o->kind != NameKind::kEventField && o->kind != NameKind::kProfileField) {
    text += "\n\nHere: " + Code(compiler::TypeName(o->expr->type));
  }
  if (o->kind == NameKind::kEnvelope && o->expr) {
    const auto* m = static_cast<const ast::MemberExpr*>(o->expr);
    text = Code("event." + m->field + ": " + compiler::TypeName(o->expr->type)) +
           ": every event has it";
  }
  if (text.empty()) return nullptr;
  return {{"contents", {{"kind", "markdown"}, {"value", text}}}, {"range", LspRange(*c, o->range)}};
}

json Definition(const Workspace& ws, const std::string& path, Position at) {
  std::vector<Occurrence> index;
  const Compilation* c = nullptr;
  const Occurrence* o = Find(ws, path, at, index, c);
  if (o == nullptr) return nullptr;
  SourceRange r = DefinitionRange(*o);
  if (!r.begin.valid()) return nullptr;
  return Location(*c, r);
}

json Completion(const Workspace& ws, const std::string& path, Position at) {
  const std::string prefix = LinePrefix(ws.Text(path), at);
  const Compilation* c = ws.parsed();
  json items = json::array();
  std::smatch m;
  static const std::regex kMember(R"(\b(event|profile)\.[A-Za-z_0-9]*$)");
  static const std::regex kSend(R"(\bsend\s+[A-Za-z_0-9]*$)");
  static const std::regex kEventSlot(
      R"((\b(on|until|goal)\s+|\b(count|sum|time_since)\(\s*|,\s*)[A-Za-z_0-9]*$)");
  static const std::regex kWindowWhere(R"(\b(count|sum)\(\s*([A-Za-z_][A-Za-z_0-9]*)[^()]*\bwhere\b[^()]*$)");
  if (std::regex_search(prefix, m, kMember)) {
    if (c == nullptr || c->sema() == nullptr) return items;
    if (m[1] == "profile") {
      for (const ast::FieldDecl* f : c->sema()->profile_fields) {
        items.push_back(Item(f->name, kField, compiler::TypeName(f->type)));
      }
      return items;
    }
    std::smatch w;
    if (std::regex_search(prefix, w, kWindowWhere)) {
      if (const ast::EventDecl* e = EventNamed(*c, w[2])) return EventFields({e});
    }
    const compiler::FileId file = FindFile(*c, path);
    const ast::JourneyDecl* j = file == compiler::kNoFile ? nullptr
                                                          : JourneyAt(*c->ast(), file, at.line + 1);
    return j ? EventFields(BoundEvents(*j, static_cast<uint32_t>(at.line) + 1)) : items;
  }
  if (c != nullptr && c->sema() != nullptr && std::regex_search(prefix, m, kSend)) {
    for (const ast::ChannelDecl* ch : c->sema()->channels) items.push_back(Item(ch->name, kInterface, "channel"));
    return items;
  }
  if (c != nullptr && c->sema() != nullptr && std::regex_search(prefix, m, kEventSlot) &&
      prefix.find("{") == std::string::npos) {
    for (const ast::EventDecl* e : c->sema()->events) items.push_back(Item(e->name, kEventKind, "event"));
    if (m[2].matched || m[3].matched) return items;
  }
  for (const char* k : kKeywords) items.push_back(Item(k, kKeyword, ""));
  for (const stdlib::Function& f : stdlib::Functions()) {
    items.push_back(Item(std::string(f.name), kFunctionKind, std::string(f.summary)));
  }
  if (c != nullptr && c->sema() != nullptr) {
    for (const ast::SegmentDecl* s : c->sema()->segments) items.push_back(Item(s->name, kVariable, "segment"));
    for (const ast::ConstDecl* k : c->sema()->consts) {
      items.push_back(Item(k->name, kConstant, k->value ? compiler::TypeName(k->value->type) : "const"));
    }
  }
  (void)kText;
  (void)kStruct;
  return items;
}

namespace {

// LSP SymbolKind values.
constexpr int kSymFunction = 12, kSymVariable = 13, kSymConstant = 14, kSymStruct = 23,
              kSymEvent = 24, kSymInterface = 11, kSymField = 8;

std::string StepName(const ast::Step& s) {
  switch (s.kind) {
    case ast::StepKind::kSend: {
      const auto& send = static_cast<const ast::SendStep&>(s);
      return s.id + " send " + send.channel + " " + send.template_name;
    }
    case ast::StepKind::kWait: return s.id + " wait " + static_cast<const ast::WaitStep&>(s).spelling;
    case ast::StepKind::kWaitUntil: {
      const auto& w = static_cast<const ast::WaitUntilStep&>(s);
      std::string out = s.id + " wait until";
      for (size_t k = 0; k < w.events.size(); ++k) out += (k ? " or " : " ") + w.events[k].name;
      return out + " within " + w.within_spelling;
    }
    case ast::StepKind::kIf: return s.id + " if";
    case ast::StepKind::kSplit: return s.id + " split";
    case ast::StepKind::kControl: return s.id + " control";
    case ast::StepKind::kExit: return s.id + " exit";
  }
  return s.id;
}

void StepSymbols(const Compilation& c, const ast::Block& b, json& out) {
  for (const ast::StepPtr& s : b.steps) {
    json sym = {{"name", StepName(*s)}, {"kind", kSymEvent}, {"range", LspRange(c, s->range)},
                {"selectionRange", LspRange(c, {s->range.begin, s->range.begin})}};
    out.push_back(sym);
    if (s->kind == ast::StepKind::kWaitUntil) {
      const auto& w = static_cast<const ast::WaitUntilStep&>(*s);
      if (w.on_event) StepSymbols(c, *w.on_event, out);
      if (w.on_timeout) StepSymbols(c, *w.on_timeout, out);
    } else if (s->kind == ast::StepKind::kIf) {
      const auto& f = static_cast<const ast::IfStep&>(*s);
      for (const ast::IfArm& arm : f.arms) StepSymbols(c, arm.body, out);
      if (f.else_body) StepSymbols(c, *f.else_body, out);
    } else if (s->kind == ast::StepKind::kSplit) {
      for (const ast::SplitArm& arm : static_cast<const ast::SplitStep&>(*s).arms) StepSymbols(c, arm.body, out);
    }
  }
}

}  // namespace

json DocumentSymbols(const Workspace& ws, const std::string& path) {
  json out = json::array();
  const Compilation* c = ws.parsed();
  if (c == nullptr || c->ast() == nullptr) return out;
  const compiler::FileId file = FindFile(*c, path);
  for (const ast::Module& m : c->ast()->modules) {
    if (m.file != file) continue;
    for (const ast::DeclPtr& d : m.decls) {
      static const int kKinds[] = {kSymStruct, kSymStruct, kSymInterface, kSymVariable, kSymConstant, kSymFunction};
      static const char* kDetail[] = {"event", "profile", "channel", "segment", "const", "journey"};
      const int kind = static_cast<int>(d->kind);
      json sym = {{"name", d->name.empty() ? "profile" : d->name}, {"detail", kDetail[kind]},
                  {"kind", kKinds[kind]}, {"range", LspRange(*c, d->range)},
                  {"selectionRange", LspRange(*c, d->name_range.begin.valid() ? d->name_range : d->range)}};
      json children = json::array();
      if (d->kind == ast::DeclKind::kJourney) {
        StepSymbols(*c, static_cast<const ast::JourneyDecl&>(*d).body, children);
      } else if (d->kind == ast::DeclKind::kEvent || d->kind == ast::DeclKind::kProfile) {
        const auto& fields = d->kind == ast::DeclKind::kEvent
                                 ? static_cast<const ast::EventDecl&>(*d).fields
                                 : static_cast<const ast::ProfileDecl&>(*d).fields;
        for (const ast::FieldDecl& f : fields) {
          children.push_back({{"name", f.name}, {"detail", compiler::TypeName(f.type)},
                              {"kind", kSymField}, {"range", LspRange(*c, f.name_range)},
                              {"selectionRange", LspRange(*c, f.name_range)}});
        }
      }
      if (!children.empty()) sym["children"] = children;
      out.push_back(sym);
    }
  }
  return out;
}

json Formatting(const Workspace& ws, const std::string& path) {
  const std::string text = ws.Text(path);
  Result<std::string> r = compiler::FormatSource(path, text);
  if (!r.ok()) throw RequestError(kRequestFailed, "not formatted: " + r.status().message());
  if (*r == text) return json::array();
  // The end of the document: its last line, after its last character.
  const int lines = static_cast<int>(std::count(text.begin(), text.end(), '\n'));
  const size_t last = text.rfind('\n');
  const std::string tail = last == std::string::npos ? text : text.substr(last + 1);
  return json::array(
      {{{"range",
         {{"start", {{"line", 0}, {"character", 0}}},
          {"end",
           {{"line", lines},
            {"character", Utf16Column(tail, 1 + static_cast<uint32_t>(std::count_if(
                                                    tail.begin(), tail.end(),
                                                    [](char ch) {
                                                      return (static_cast<unsigned char>(ch) &
                                                              0xC0) != 0x80;
                                                    })))}}}}},
        {"newText", *r}}});
}

json Rename(const Workspace& ws, const std::string& path, Position at, const std::string& name) {
  const Compilation* c = ws.current();
  if (c == nullptr || c->ast() == nullptr || c->sema() == nullptr) {
    throw RequestError(kRequestFailed, "the program has syntax errors: fix them first");
  }
  compiler::FileId file;
  uint32_t line, column;
  if (!ToSource(*c, path, at, file, line, column)) throw RequestError(kInvalidParams, "not a file of the program");
  std::vector<Occurrence> index = IndexProgram(*c->ast());
  const Occurrence* o = OccurrenceAt(index, file, line, column);
  if (o == nullptr || (o->kind != NameKind::kSegment && o->kind != NameKind::kConst)) {
    throw RequestError(kRequestFailed, "only a segment or a const can be renamed");
  }
  static const std::regex kName("^[A-Za-z_][A-Za-z0-9_]*$");
  if (!std::regex_match(name, kName) ||
      std::find(std::begin(kKeywords), std::end(kKeywords), name) != std::end(kKeywords)) {
    throw RequestError(kInvalidParams, "'" + name + "' is not a name (letters, digits, _; not a keyword)");
  }
  for (const ast::SegmentDecl* s : c->sema()->segments) {
    if (s->name == name) throw RequestError(kInvalidParams, "a segment is already called '" + name + "'");
  }
  for (const ast::ConstDecl* k : c->sema()->consts) {
    if (k->name == name) throw RequestError(kInvalidParams, "a const is already called '" + name + "'");
  }
  json changes = json::object();
  for (const Occurrence& x : index) {
    if (x.decl != o->decl || (x.kind != NameKind::kSegment && x.kind != NameKind::kConst)) continue;
    const std::string uri = PathToUri(c->sources().file(x.range.begin.file).path);
    if (!changes.contains(uri)) changes[uri] = json::array();
    changes[uri].push_back({{"range", LspRange(*c, x.range)}, {"newText", name}});
  }
  return {{"changes", changes}};
}

}  // namespace juncture::lsp
