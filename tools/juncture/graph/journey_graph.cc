// Drawing a journey: the checked AST (steps with their ids and lines) -> DOT.
//
// A journey is a cluster. Its entry node holds the triggers, eligibility, re-entry
// and deadline; exit conditions and the goal hang off it (dashed: they apply at any
// time). Then one node per step, in the order the steps run: sends (with their
// channel's guardrails as badges), waits, `wait until` (an edge for the awaited
// events and one for the timeout), `if` (a diamond per condition), splits (an edge
// per arm with its percent), holdouts (`control`), exits; `completed` at the end.
//
// With a decision log, nodes that decide show what was decided there (entered, sent,
// suppressed by reason, deferred, control, exited, completed, converted by arm) and
// by how many customers; waits show how many customers went past them, and the edges
// of branches, splits and `wait until` how many customers went each way (customers
// with a decision at a step down that way).
#include "juncture/graph/journey_graph.h"

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "ast/formatter.h"

namespace juncture::tools::graph {
namespace {

using namespace compiler::ast;  // NOLINT: the AST's many node types

// A DOT string literal's contents: `text` with backslashes and quotes escaped and line
// breaks as DOT's \n (centred lines).
std::string Escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

std::string Quote(const std::string& id) { return "\"" + Escape(id) + "\""; }

// An edge still to be drawn, from `node` to whatever comes next, with its label.
struct Loose {
  std::string node;
  std::string label;
  bool dashed = false;
};

class Drawer {
 public:
  Drawer(const Program& program, const Counts* counts, const compiler::SemaResult* sema)
      : counts_(counts) {
    if (sema != nullptr) {
      for (const compiler::JourneyInfo& j : sema->journeys) {
        if (j.decl != nullptr) approvals_[j.decl->name] = &j;
      }
    }
    for (const Module& m : program.modules) {
      for (const DeclPtr& d : m.decls) {
        if (d && d->kind == DeclKind::kChannel) {
          channels_[d->name] = static_cast<const ChannelDecl*>(d.get());
        }
      }
    }
  }

  void Journey(const JourneyDecl& j, const std::string& file, std::string& out) {
    journey_ = &j;
    auto info = approvals_.find(j.name);
    approval_ = info == approvals_.end() ? nullptr : info->second;
    file_ = file;
    tally_ = nullptr;
    if (counts_ != nullptr) {
      auto it = counts_->find(j.name);
      if (it != counts_->end()) tally_ = &it->second;
    }
    out_ = &out;
    out += "  subgraph " + Quote("cluster_" + j.name) + " {\n";
    out += "    label=" + Quote("journey " + j.name + (j.title ? " — " + j.title_value : "")) +
           ";\n";
    out += "    style=rounded; color=\"#9ca3af\"; fontname=\"Helvetica\";\n";
    Entry(j);
    std::vector<Loose> ends = Steps(j.body, {Loose{Id("entry"), ""}}, {"end"});
    Node("end", "completed" + Tally({"end"}), "shape=doublecircle, fontsize=10");
    Connect(ends, Id("end"));
    out += "  }\n";
  }

 private:
  std::string Id(const std::string& step) const { return journey_->name + "." + step; }

  void Node(const std::string& step, const std::string& label, const std::string& attrs) {
    *out_ += "    " + Quote(Id(step)) + " [label=" + Quote(label) + ", " + attrs + "];\n";
  }

  void Edge(const std::string& from, const std::string& to, const std::string& label,
            bool dashed) {
    *out_ += "    " + Quote(from) + " -> " + Quote(to);
    std::vector<std::string> attrs;
    if (!label.empty()) attrs.push_back("label=" + Quote(label));
    if (dashed) attrs.push_back("style=dashed");
    if (!attrs.empty()) {
      *out_ += " [";
      for (size_t i = 0; i < attrs.size(); ++i) *out_ += (i ? ", " : "") + attrs[i];
      *out_ += "]";
    }
    *out_ += ";\n";
  }

  void Connect(const std::vector<Loose>& from, const std::string& to) {
    for (const Loose& l : from) Edge(l.node, to, l.label, l.dashed);
  }

  std::string Where(const compiler::SourceRange& r) const {
    return file_ + ":" + std::to_string(r.begin.line);
  }

  // ---- The funnel ------------------------------------------------------------------

  // The distinct customers with a decision at any of `steps`.
  size_t Customers(const std::set<std::string>& steps) const {
    if (tally_ == nullptr) return 0;
    std::set<std::string> who;
    for (const std::string& s : steps) {
      auto it = tally_->find(s);
      if (it != tally_->end()) who.insert(it->second.customers.begin(), it->second.customers.end());
    }
    return who.size();
  }

  // "\n<what was decided at `steps`>, <customers>" or "" without a log.
  std::string Tally(const std::set<std::string>& steps) const {
    if (tally_ == nullptr) return "";
    std::map<std::string, uint64_t> outcomes;
    for (const std::string& s : steps) {
      auto it = tally_->find(s);
      if (it == tally_->end()) continue;
      for (const auto& [what, n] : it->second.outcomes) outcomes[what] += n;
    }
    if (outcomes.empty()) return "\n(nobody)";
    std::string line;
    for (const auto& [what, n] : outcomes) {
      if (!line.empty()) line += "\n";
      line += what + " " + std::to_string(n);
    }
    const size_t who = Customers(steps);
    return "\n" + line + "\n" + std::to_string(who) + (who == 1 ? " customer" : " customers");
  }

  // An edge label: `label`, and how many customers went that way (those with a
  // decision at one of `steps`; nothing tells if there are none).
  std::string Way(const std::string& label, const std::set<std::string>& steps) const {
    if (tally_ == nullptr || steps.empty()) return label;
    const size_t who = Customers(steps);
    return label + (label.empty() ? "" : "\n") + std::to_string(who) +
           (who == 1 ? " customer" : " customers");
  }

  // ---- Nodes -----------------------------------------------------------------------

  void Entry(const JourneyDecl& j) {
    std::string label = "journey " + j.name;
    if (j.priority) label += "  (priority " + std::to_string(*j.priority) + ")";
    for (const Trigger& t : j.triggers) {
      label += "\non " + t.event.name + (t.when ? " when " + FormatExpr(*t.when) : "");
    }
    for (const ExprPtr& e : j.eligible) label += "\neligible " + FormatExpr(*e);
    if (j.reenter_written) {
      switch (j.reenter) {
        case ReenterMode::kNever: label += "\nreenter never"; break;
        case ReenterMode::kAlways: label += "\nreenter always"; break;
        case ReenterMode::kAfter: label += "\nreenter after " + j.reenter_spelling; break;
      }
    }
    if (j.deadline_us) label += "\ndeadline " + j.deadline_spelling + " (later sends: late)";
    if (!j.approvals.empty()) {
      label += "\napprovals";
      for (const NameRef& r : j.approvals) label += " " + r.name;
    }
    if (approval_ != nullptr && !approval_->required_roles.empty()) {
      if (approval_->approved()) {
        label += "\nversion " + approval_->hash + " approved";
      } else {
        label += "\nversion " + approval_->hash + " NOT APPROVED by";
        for (const std::string& r : approval_->missing_roles) label += " " + r;
        label += ": every send is suppressed (unapproved)";
      }
    }
    label += "\n" + Where(j.range) + Tally({"entry"});
    Node("entry", label, "shape=box, style=\"rounded,bold\"");

    if (!j.exits.empty() || HasTally("exit") || HasTally("reload")) {
      std::string exits;
      for (const Trigger& t : j.exits) {
        exits += (exits.empty() ? "" : "\n") + std::string("exit on ") + t.event.name +
                 (t.when ? " when " + FormatExpr(*t.when) : "");
      }
      if (exits.empty()) exits = "exits";
      Node("exit", exits + Tally({"exit", "reload"}), "shape=octagon, fontsize=10");
      Edge(Id("entry"), Id("exit"), "at any time", true);
    }
    if (j.goal) {
      std::string label = "goal " + j.goal->event.name +
                          (j.goal->when ? " when " + FormatExpr(*j.goal->when) : "") +
                          " within " + j.goal->within_spelling;
      Node("goal", label + Tally({"goal"}), "shape=doubleoctagon, fontsize=10");
      Edge(Id("entry"), Id("goal"), "converts", true);
    }
  }

  bool HasTally(const std::string& step) const { return tally_ != nullptr && tally_->count(step) > 0; }

  // The guardrails a send goes through on its channel, as badges, one per line.
  std::string Badges(const SendStep& s) const {
    std::vector<std::string> badges;
    auto it = channels_.find(s.channel);
    if (it != channels_.end()) {
      const ChannelDecl& c = *it->second;
      if (c.consent) badges.push_back("consent " + FormatExpr(*c.consent));
      if (c.cap) badges.push_back("cap " + std::to_string(c.cap->count) + " per " + c.cap->per_spelling);
      if (c.quiet) {
        badges.push_back("quiet " + c.quiet->start_spelling + ".." + c.quiet->end_spelling +
                         (c.quiet->local ? " local" : "") + (c.quiet->drop ? " drop" : " defer"));
      }
      for (const NameRef& role : c.approval_roles) {
        std::string badge = "approval " + role.name;
        if (approval_ != nullptr) {
          const auto& missing = approval_->missing_roles;
          badge += std::find(missing.begin(), missing.end(), role.name) == missing.end()
                       ? ": approved" : ": missing";
        }
        badges.push_back(badge);
      }
    }
    std::string line;
    for (const std::string& b : badges) line += (line.empty() ? "" : "\n") + ("[" + b + "]");
    return line;
  }

  // The ids of every step in `block`, nested ones included.
  static void Ids(const Block& block, std::set<std::string>& out) {
    for (const StepPtr& s : block.steps) Ids(*s, out);
  }
  static void Ids(const Step& s, std::set<std::string>& out) {
    out.insert(s.id);
    switch (s.kind) {
      case StepKind::kWaitUntil: {
        const auto& w = static_cast<const WaitUntilStep&>(s);
        if (w.on_event) Ids(*w.on_event, out);
        if (w.on_timeout) Ids(*w.on_timeout, out);
        return;
      }
      case StepKind::kIf: {
        const auto& f = static_cast<const IfStep&>(s);
        for (const IfArm& arm : f.arms) Ids(arm.body, out);
        if (f.else_body) Ids(*f.else_body, out);
        return;
      }
      case StepKind::kSplit:
        for (const SplitArm& arm : static_cast<const SplitStep&>(s).arms) Ids(arm.body, out);
        return;
      default:
        return;
    }
  }

  // Draws the steps of `block`, the first connected from `from`; `after`: the ids of
  // the steps that run after the block and only for those who ran it (for the funnel:
  // nothing for the arm of a branch, since everyone's paths meet again after it; the
  // journey's end for its body). Returns the loose ends.
  std::vector<Loose> Steps(const Block& block, std::vector<Loose> from,
                           const std::set<std::string>& after) {
    for (size_t k = 0; k < block.steps.size(); ++k) {
      std::set<std::string> later = after;
      for (size_t m = k + 1; m < block.steps.size(); ++m) Ids(*block.steps[m], later);
      from = Step(*block.steps[k], std::move(from), later);
    }
    return from;
  }

  std::vector<Loose> Step(const compiler::ast::Step& s, std::vector<Loose> from,
                          const std::set<std::string>& later) {
    const std::string at = "\n" + s.id + "  " + Where(s.range);
    switch (s.kind) {
      case StepKind::kSend: {
        const auto& send = static_cast<const SendStep&>(s);
        std::string label = "send " + send.channel + " \"" + send.template_value + "\"";
        if (!send.params.empty()) {
          label += "\n{ ";
          for (size_t i = 0; i < send.params.size(); ++i) label += (i ? ", " : "") + send.params[i].key;
          label += " }";
        }
        const std::string badges = Badges(send);
        if (!badges.empty()) label += "\n" + badges;
        Node(s.id, label + at + Tally({s.id}),
             "shape=box, style=\"rounded,filled\", fillcolor=\"#dbeafe\"");
        Connect(from, Id(s.id));
        return {Loose{Id(s.id), ""}};
      }
      case StepKind::kWait: {
        const auto& w = static_cast<const WaitStep&>(s);
        Node(s.id, "wait " + w.spelling + at + Passed(later), "shape=box, style=\"rounded,dashed\"");
        Connect(from, Id(s.id));
        return {Loose{Id(s.id), ""}};
      }
      case StepKind::kWaitUntil: {
        const auto& w = static_cast<const WaitUntilStep&>(s);
        std::string events;
        for (const EventName& e : w.events) events += (events.empty() ? "" : " or ") + e.name;
        std::string label = "wait until " + events;
        if (w.when) label += "\nwhen " + FormatExpr(*w.when);
        label += "\nwithin " + w.within_spelling;
        Node(s.id, label + at, "shape=box, style=\"rounded,dashed\"");
        Connect(from, Id(s.id));
        std::vector<Loose> ends;
        for (const auto& [block, way] :
             {std::pair{&w.on_event, events}, std::pair{&w.on_timeout, std::string("timeout")}}) {
          std::set<std::string> ids;
          if (*block) Ids(**block, ids);
          std::vector<Loose> start{Loose{Id(s.id), Way(way, ids)}};
          std::vector<Loose> out = *block ? Steps(**block, start, {}) : start;
          ends.insert(ends.end(), out.begin(), out.end());
        }
        return ends;
      }
      case StepKind::kIf: {
        const auto& f = static_cast<const IfStep&>(s);
        std::vector<Loose> ends;
        for (size_t i = 0; i < f.arms.size(); ++i) {
          const std::string node = i == 0 ? s.id : s.id + ".else" + std::to_string(i);
          Node(node, "if " + FormatExpr(*f.arms[i].condition) + (i == 0 ? at : ""),
               "shape=diamond, fontsize=10");
          Connect(from, Id(node));
          std::set<std::string> ids;
          Ids(f.arms[i].body, ids);
          std::vector<Loose> out = Steps(f.arms[i].body, {Loose{Id(node), Way("yes", ids)}}, {});
          ends.insert(ends.end(), out.begin(), out.end());
          // Who went on: those in the later arms, if one of them is sure to run (an
          // `else`); without one, some go straight past the `if`, and nothing tells.
          std::set<std::string> other;
          for (size_t m = i + 1; m < f.arms.size(); ++m) Ids(f.arms[m].body, other);
          if (f.else_body) Ids(*f.else_body, other);
          from = {Loose{Id(node), f.else_body ? Way("no", other) : "no"}};
        }
        if (f.else_body) from = Steps(*f.else_body, std::move(from), {});
        ends.insert(ends.end(), from.begin(), from.end());
        return ends;
      }
      case StepKind::kSplit: {
        const auto& sp = static_cast<const SplitStep&>(s);
        Node(s.id, "split" + at, "shape=circle, fontsize=10");
        Connect(from, Id(s.id));
        std::vector<Loose> ends;
        for (const SplitArm& arm : sp.arms) {
          std::set<std::string> ids;
          Ids(arm.body, ids);
          std::vector<Loose> out = Steps(arm.body, {Loose{Id(s.id), Way(arm.spelling, ids)}}, {});
          ends.insert(ends.end(), out.begin(), out.end());
        }
        return ends;
      }
      case StepKind::kControl:
        Node(s.id, "control (holdout: later sends are recorded, not sent)" + at + Tally({s.id}),
             "shape=box, style=\"rounded,filled\", fillcolor=\"#e5e7eb\"");
        Connect(from, Id(s.id));
        return {Loose{Id(s.id), ""}};
      case StepKind::kExit:
        Node(s.id, "exit" + at + Tally({s.id}), "shape=octagon, fontsize=10");
        Connect(from, Id(s.id));
        return {};  // nothing runs after an exit
    }
    return from;
  }

  // "\npassed by N customers" (customers with a decision after this step), or ""
  // when nothing after it tells (a wait at the end of a branch's arm).
  std::string Passed(const std::set<std::string>& later) const {
    if (tally_ == nullptr || later.empty()) return "";
    const size_t who = Customers(later);
    return "\npassed by " + std::to_string(who) + (who == 1 ? " customer" : " customers");
  }

  const Counts* counts_;
  std::map<std::string, const ChannelDecl*> channels_;
  std::map<std::string, const compiler::JourneyInfo*> approvals_;  // by journey name
  const compiler::JourneyInfo* approval_ = nullptr;                 // the journey's
  const JourneyDecl* journey_ = nullptr;
  const std::map<std::string, StepTally>* tally_ = nullptr;
  std::string file_;
  std::string* out_ = nullptr;
};

}  // namespace

Result<std::string> JourneysDot(const compiler::ast::Program& program,
                                const compiler::SourceManager& sources,
                                const GraphOptions& options) {
  Drawer drawer(program, options.counts, options.sema);
  std::string body;
  bool found = false;
  for (const Module& m : program.modules) {
    const std::string file = std::filesystem::path(sources.file(m.file).path).filename().string();
    for (const DeclPtr& d : m.decls) {
      if (!d || d->kind != DeclKind::kJourney) continue;
      if (!options.journey.empty() && d->name != options.journey) continue;
      found = true;
      drawer.Journey(static_cast<const JourneyDecl&>(*d), file, body);
    }
  }
  if (!found) {
    return InvalidArgumentError(options.journey.empty()
                                    ? "the program has no journey"
                                    : "no journey named '" + options.journey + "'");
  }
  return std::string(
             "digraph journeys {\n"
             "  rankdir=TB; fontname=\"Helvetica\"; compound=true;\n"
             "  node [fontname=\"Helvetica\", fontsize=11];\n"
             "  edge [fontname=\"Helvetica\", fontsize=9];\n") +
         body + "}\n";
}

}  // namespace juncture::tools::graph
