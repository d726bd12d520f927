// Status: the outcome of a storage operation. Expected failures (an entry
// that does not exist, a full map, a disk error) are values, not exceptions.
#pragma once

#include <string>
#include <utility>

namespace courier::storage {

class Status {
 public:
  enum class Code {
    kOk = 0,
    kNotFound,    // the entry asked for does not exist
    kInvalid,     // the request cannot be applied (caller bug or bad input)
    kFull,        // the store reached its size limit; retry may succeed later
    kIoError,     // the disk failed; retry may succeed later
    kCorruption,  // the store is not in a state this build understands
    kLimit,       // a limit set in the request was reached; retry later
    kForbidden,   // the user may not do this (not a member of the group)
  };

  Status() = default;
  static Status Ok() { return {}; }
  static Status NotFound(std::string msg) { return {Code::kNotFound, std::move(msg)}; }
  static Status Invalid(std::string msg) { return {Code::kInvalid, std::move(msg)}; }
  static Status Full(std::string msg) { return {Code::kFull, std::move(msg)}; }
  static Status IoError(std::string msg) { return {Code::kIoError, std::move(msg)}; }
  static Status Corruption(std::string msg) { return {Code::kCorruption, std::move(msg)}; }
  static Status Limit(std::string msg) { return {Code::kLimit, std::move(msg)}; }
  static Status Forbidden(std::string msg) { return {Code::kForbidden, std::move(msg)}; }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  // A failure of the store itself rather than of the request: the same
  // request may succeed later.
  bool transient() const { return code_ == Code::kFull || code_ == Code::kIoError || code_ == Code::kLimit; }
  std::string ToString() const;

 private:
  Status(Code code, std::string msg) : code_(code), message_(std::move(msg)) {}
  Code code_ = Code::kOk;
  std::string message_;
};

}  // namespace courier::storage
