// Status and Result<T>: how every Juncture library reports a failure (docs/embedding.md,
// "Errors: Status and Result<T>").
//
//   juncture::Status s = state_store.Commit(engine, position, /*sync=*/true);
//   if (!s.ok()) std::cerr << s.ToString() << "\n";   // "i/o error: ... disk is full"
//
//   juncture::Result<runtime::CompiledProgram> p = compiler::MakeJitProgram(*c);
//   if (!p.ok()) return p.status();
//   runtime::Engine engine(std::move(p).value());
//
// A Status is a code (what a caller may act on) and a one-line message (what a person
// reads; several lines only for a compiler's diagnostics). The ok Status carries no
// message and costs no allocation. A Result<T> holds either a T or a failed Status.
// Both are [[nodiscard]]: a failure cannot be dropped by accident. No Juncture
// function throws to report a failure.
//
// Outside this rule, on purpose: the compiler's Compilation, whose diagnostics carry
// positions (Compilation::status() condenses them), and small parsers whose only
// failure is "not one" (ParseOutcome, ParseReason: optional; ParseTimestamp,
// ParseTimeValue, ParseDuration, CustomerOfMessage: bool).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

namespace juncture {

enum class StatusCode : uint8_t {
  kOk = 0,
  kInvalidArgument,     // the input is wrong: a bad message, script, option or value
  kNotFound,            // what was asked for does not exist (a file, a stream)
  kCorruption,          // stored bytes are not intact (a snapshot, a state store)
  kIoError,             // the file system failed (disk full, permission denied)
  kUnavailable,         // a service is out of reach (NATS down, no JetStream); retry
  kFailedPrecondition,  // not in a state to do it (a store held by another process)
  kInternal,            // a bug, or a component that failed (the JIT)
};

// "ok", "invalid argument", "not found", "corruption", "i/o error", "unavailable",
// "failed precondition", "internal".
inline const char* ToString(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return "ok";
    case StatusCode::kInvalidArgument: return "invalid argument";
    case StatusCode::kNotFound: return "not found";
    case StatusCode::kCorruption: return "corruption";
    case StatusCode::kIoError: return "i/o error";
    case StatusCode::kUnavailable: return "unavailable";
    case StatusCode::kFailedPrecondition: return "failed precondition";
    case StatusCode::kInternal: return "internal";
  }
  return "unknown";
}

class [[nodiscard]] Status {
 public:
  // The ok status.
  Status() = default;
  // A failure; `code` should not be kOk (a kOk code with a message is still ok, and
  // the message is dropped).
  Status(StatusCode code, std::string message)
      : code_(code), message_(code == StatusCode::kOk ? std::string() : std::move(message)) {}

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  // The text alone ("" when ok), as a person reads it.
  const std::string& message() const { return message_; }
  // "ok", or the code and the message: "corruption: snapshot checksum mismatch".
  std::string ToString() const {
    if (ok()) return "ok";
    std::string out = juncture::ToString(code_);
    out += ": ";
    out += message_;
    return out;
  }
  // The same code with `context` before the message: "state/: " + "disk full".
  Status WithContext(std::string_view context) const {
    if (ok()) return *this;
    std::string text(context);
    text += message_;
    return Status(code_, std::move(text));
  }

  friend bool operator==(const Status& a, const Status& b) {
    return a.code_ == b.code_ && a.message_ == b.message_;
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status OkStatus() { return Status(); }
inline Status InvalidArgumentError(std::string message) {
  return Status(StatusCode::kInvalidArgument, std::move(message));
}
inline Status NotFoundError(std::string message) {
  return Status(StatusCode::kNotFound, std::move(message));
}
inline Status CorruptionError(std::string message) {
  return Status(StatusCode::kCorruption, std::move(message));
}
inline Status IoError(std::string message) {
  return Status(StatusCode::kIoError, std::move(message));
}
inline Status UnavailableError(std::string message) {
  return Status(StatusCode::kUnavailable, std::move(message));
}
inline Status FailedPreconditionError(std::string message) {
  return Status(StatusCode::kFailedPrecondition, std::move(message));
}
inline Status InternalError(std::string message) {
  return Status(StatusCode::kInternal, std::move(message));
}

// A T, or the Status of why there is none. Built implicitly from either, so a function
// returning Result<T> may `return value;` or `return status;`. A Result built from an
// ok Status is a bug of the caller's and holds an internal error instead.
//
// The value of an rvalue Result (`*std::move(r)`, `*F()`) is a reference into it: take
// it by value (`T v = *F();`), not by reference past the full expression.
template <typename T>
class [[nodiscard]] Result {
  static_assert(!std::is_same_v<std::decay_t<T>, Status>, "Result<Status> makes no sense");

 public:
  // From anything a T is implicitly built from (a string literal for a
  // Result<std::string>, a unique_ptr<Derived> for a Result<unique_ptr<Base>>); a
  // Result<bool> only from a bool, not from a pointer or a number.
  template <typename U = T,
            typename = std::enable_if_t<
                std::is_convertible_v<U&&, T> &&
                !std::is_same_v<std::remove_cvref_t<U>, Status> &&
                !std::is_same_v<std::remove_cvref_t<U>, Result> &&
                (!std::is_same_v<T, bool> || std::is_same_v<std::remove_cvref_t<U>, bool>)>>
  Result(U&& value) : state_(std::in_place_index<0>, std::forward<U>(value)) {}  // NOLINT
  Result(Status status)                                                           // NOLINT
      : state_(std::in_place_index<1>,
               status.ok() ? InternalError("a Result was built from an ok Status")
                           : std::move(status)) {}

  bool ok() const { return state_.index() == 0; }
  // OkStatus() if there is a value.
  Status status() const { return ok() ? OkStatus() : std::get<1>(state_); }

  // The value; only when ok() (std::get throws std::bad_variant_access otherwise: a
  // bug, not a failure report).
  T& value() & { return std::get<0>(state_); }
  const T& value() const& { return std::get<0>(state_); }
  T&& value() && { return std::get<0>(std::move(state_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> state_;
};

}  // namespace juncture
