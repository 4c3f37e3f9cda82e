// A send through its guardrails (docs/language.md), in this order: a held-out
// instance only records it (`control`); then the deadline (`late`), approval
// (precompiled), limit guards, consent, arbitration, cap, quiet hours. A deferred send
// is released by a timer and passes the deadline, consent, cap and quiet again.
#include <algorithm>

#include "exec/engine_impl.h"
#include "juncture/runtime/record.h"
#include "juncture/stdlib/functions.h"

namespace juncture::runtime {
namespace {

double Number(const JnValue& v) { return v.type == JN_FLOAT ? v.f : static_cast<double>(v.i); }

}  // namespace

bool Engine::Impl::Consent(uint32_t channel, const std::string& customer, CustomerState& c,
                           int64_t at) {
  EvalHost host{this, &c, at, {}};
  JnContext ctx = Context(host, customer, nullptr);
  const ChannelSpec& ch = spec_->channels[channel];
  const bool given = program_.evaluator->Test(ch.consent, ctx);
  if (tracing_ && ch.consent != kNoExpr) TraceConsent(ch, c, given, at);
  return given;
}

Engine::Impl::Verdict Engine::Impl::Guardrails(uint32_t channel, const std::string& customer,
                                               CustomerState& c, int64_t at, int64_t& until) {
  if (!Consent(channel, customer, c, at)) return Suppress(Reason::kConsent);
  return CapAndQuiet(channel, c, at, until);
}

Engine::Impl::Verdict Engine::Impl::CapAndQuiet(uint32_t channel, CustomerState& c, int64_t at,
                                                int64_t& until) {
  const ChannelSpec& ch = spec_->channels[channel];
  if (ch.has_cap && channel < c.sent_at.size()) {
    CompactVector<int64_t>& sent = c.sent_at[channel];
    sent.erase(std::remove_if(sent.begin(), sent.end(),
                              [&](int64_t t) { return t <= at - ch.cap_per_us; }),
               sent.end());
    const bool capped = static_cast<int64_t>(sent.size()) >= ch.cap_count;
    if (tracing_) TraceCap(channel, &sent, at, capped);
    if (capped) return Suppress(Reason::kCap);
  } else if (ch.has_cap && tracing_) {
    TraceCap(channel, nullptr, at, false);
  }
  if (ch.has_quiet) {
    std::string_view tz = "UTC";
    if (ch.quiet_local && spec_->profile_timezone_field >= 0) {
      const FieldSpec& f = spec_->profile.fields[spec_->profile_timezone_field];
      tz = RecordView(c.profile->data()).GetString(f.offset);
    }
    stdlib::CivilTime local = stdlib::LocalTime(at, tz);
    int minute = local.hour * 60 + local.minute;
    int start = ch.quiet_start_minute, end = ch.quiet_end_minute;
    bool quiet = start < end ? (minute >= start && minute < end) : (minute >= start || minute < end);
    Verdict verdict;
    if (quiet && ch.quiet_drop) verdict = Suppress(Reason::kQuiet);
    if (quiet && !ch.quiet_drop) {
      verdict.defer = true;
      until = stdlib::NextLocalTime(at, tz, end);
    }
    if (tracing_) TraceQuiet(channel, tz, minute, verdict, until, at);
    return verdict;
  }
  return Verdict{};
}

void Engine::Impl::Send(uint32_t j, const StepSpec& step,
                        const std::string& customer, CustomerState& c, const Instance& inst,
                        int64_t at, Batch& batch) {
  const JourneySpec& journey = spec_->journeys[j];
  Decision& d = batch.Add();
  const size_t index = batch.size() - 1;
  const std::string_view cause = inst.cause();
  SetDecisionId(d.id, cause, journey.name, step.id);
  d.customer = customer;
  d.journey = journey.name;
  d.version = journey.version;
  d.step = step.id;
  d.channel = spec_->channels[step.channel].name;
  d.template_name = step.template_name;
  d.cause = cause;
  d.signal_us = inst.signal_us;
  d.at_us = at;
  trace_journey_ = j;
  trace_step_id_ = step.id;

  // Parameters are evaluated once, with `event` bound, and rendered as JSON.
  EvalHost host{this, &c, at, {}};
  JnContext ctx = Context(host, customer, inst.event.get());
  std::vector<JnValue>& values = param_values_;
  values.clear();
  if (!step.params.empty()) {
    d.params_json += '{';  // the slot is cleared
    for (const ParamSpec& p : step.params) {
      values.push_back(program_.evaluator->Eval(p.value, ctx));
      if (d.params_json.size() > 1) d.params_json += ',';
      if (!p.key_json.empty()) {
        d.params_json += p.key_json;
      } else {
        AppendJsonString(p.key, d.params_json);
        d.params_json += ':';
      }
      AppendJsonValue(values.back(), d.params_json);
    }
    d.params_json += '}';
  }
  stats_.div_by_zero += ctx.div_by_zero;

  auto suppress = [&](Reason why) {
    d.outcome = Outcome::kSuppressed;
    d.reason = why;
  };
  // A held-out instance records what it would have sent: no guardrail, no cap.
  if (inst.held_out) {
    if (tracing_) TraceGuard(at, "held out (control): recorded, not sent");
    d.outcome = Outcome::kControl;
    return;
  }
  // The moment first: a send decided too long after its signal is late.
  const int64_t late_after =
      journey.deadline_us > 0 ? inst.signal_us + journey.deadline_us : kNoDeadline;
  if (tracing_ && journey.deadline_us > 0) TraceDeadline(journey, inst.signal_us, at);
  if (at > late_after) return suppress(Reason::kLate);
  if (!journey.approved) {
    if (tracing_) TraceApproval(journey, at);
    return suppress(Reason::kUnapproved);
  }
  for (const GuardSpec& g : step.guards) {
    double v = Number(values[g.param]);
    const bool over = g.upper ? v > g.bound : v < g.bound;
    if (tracing_) TraceLimit(step, g, values[g.param], over, at);
    if (over) return suppress(Reason::kLimit);
  }
  if (!Consent(step.channel, customer, c, at)) return suppress(Reason::kConsent);
  // Arbitration: one journey per channel per message; journeys are indexed in
  // arbitration order, so a lower index wins and may take over an earlier claim
  // (taking back its cap slot or deferral) before the cap is checked.
  auto claim = std::find_if(batch.claims.begin(), batch.claims.end(),
                            [&](const Batch::Claim& k) { return k.channel == step.channel; });
  const bool held = claim != batch.claims.end() && claim->journey == j;
  if (tracing_) {
    TraceArbitration(step.channel,
                     claim == batch.claims.end() ? int64_t{-1} : int64_t{claim->journey}, j, at);
  }
  if (claim != batch.claims.end() && !held) {
    if (claim->journey < j) return suppress(Reason::kArbitration);
    for (const auto& [channel, earlier] : batch.claimed_sends) {
      if (channel == step.channel) TakeBack(batch, earlier, c);
    }
    batch.claims.erase(claim);
    auto gone = std::remove_if(batch.claimed_sends.begin(), batch.claimed_sends.end(),
                               [&](const auto& k) { return k.first == step.channel; });
    batch.claimed_sends.erase(gone, batch.claimed_sends.end());
  }
  int64_t until = 0;
  const Verdict verdict = CapAndQuiet(step.channel, c, at, until);
  if (verdict.suppressed != Reason::kNone) return suppress(verdict.suppressed);
  if (!held) batch.claims.push_back({step.channel, j});
  batch.claimed_sends.emplace_back(step.channel, index);
  if (verdict.defer) {
    d.outcome = Outcome::kDeferred;
    d.until_us = until;
    Timer t;
    t.due_us = until;
    t.seq = next_seq_++;
    t.kind = TimerKind::kRelease;
    t.customer = customer;
    t.journey = j;
    t.release = std::make_unique<DeferredSend>(DeferredSend{d, step.channel, late_after});
    batch.release_timers[index] = t.seq;
    PushTimer(std::move(t));
    CountDeferred(c, +1);
  } else {
    d.outcome = Outcome::kSent;
    RecordSend(c, step.channel, at);
  }
}

void Engine::Impl::RecordSend(CustomerState& c, uint32_t channel, int64_t at) {
  if (!spec_->channels[channel].has_cap) return;
  if (c.sent_at.size() <= channel) c.sent_at.resize(channel + 1);  // the channels up to it
  c.sent_at[channel].push_back(at);
}

// Turns a send of this batch into `suppressed arbitration`, giving back its cap slot
// or cancelling its release.
void Engine::Impl::TakeBack(Batch& batch, size_t index, CustomerState& c) {
  Decision& loser = batch[index];
  uint32_t channel = 0;
  for (uint32_t k = 0; k < spec_->channels.size(); ++k) {
    if (spec_->channels[k].name == loser.channel) channel = k;
  }
  if (loser.outcome == Outcome::kSent) {
    if (channel < c.sent_at.size()) {
      auto& sent = c.sent_at[channel];
      auto it = std::find(sent.begin(), sent.end(), loser.at_us);
      if (it != sent.end()) sent.erase(it);
    }
  } else if (uint64_t timer = batch.release_timers[index]) {
    cancelled_[timer] = true;
    if (track_changes_ && !rewrite_) {
      timer_changes_.push_back(TimerChange{StateChanges::TimerOp::kCancel, 0, timer, {}});
    }
    CountDeferred(c, -1);  // its timer is stale from now on
  }
  loser.outcome = Outcome::kSuppressed;
  loser.reason = Reason::kArbitration;
  loser.until_us = 0;
}

// A deferred send's release: every guardrail again (consent, cap, quiet), then sent
// or suppressed. Still inside quiet hours (the customer moved time zone): deferred
// again, silently.
void Engine::Impl::Release(const Timer& t, DecisionSink& sink) {
  Result<CustomerState*> customer = Customer(t.customer);
  if (!customer.ok()) return PutOff(t);  // still pending: its count stays
  CustomerState& c = **customer;
  int64_t until = 0;
  // The deadline first, as when it was deferred.
  const DeferredSend& send = *t.release;
  tracing_ = Traces(t.customer);
  if (tracing_) {
    TraceTimer(t, send.decision.step);
    trace_journey_ = t.journey;
    trace_step_id_ = send.decision.step;
    trace_depth_ = 0;  // its guardrails right under it
    if (send.late_after_us != kNoDeadline) {
      TraceGuard(t.due_us, "deadline: late after " + FormatTimestamp(send.late_after_us) +
                               (t.due_us > send.late_after_us ? " -> suppressed late" : ": in time"));
    }
  }
  const Verdict verdict = t.due_us > send.late_after_us
                              ? Suppress(Reason::kLate)
                              : Guardrails(send.channel, t.customer, c, t.due_us, until);
  trace_depth_ = 2;
  if (verdict.defer) {  // still pending: its count stays
    Timer again = t;
    again.due_us = until;
    again.seq = next_seq_++;
    PushTimer(std::move(again));
    return;
  }
  CountDeferred(c, -1);
  Batch& batch = NewBatch();
  Decision& d = batch.Add();
  d = send.decision;
  d.id += ":release";
  d.at_us = t.due_us;
  d.until_us = 0;
  if (verdict.goes()) {
    d.outcome = Outcome::kSent;
    RecordSend(c, send.channel, t.due_us);
  } else {
    d.outcome = Outcome::kSuppressed;
    d.reason = verdict.suppressed;
  }
  Emit(batch, sink);
}

}  // namespace juncture::runtime
