#include "status.h"

namespace courier::storage {

std::string Status::ToString() const {
  const char* name = "ok";
  switch (code_) {
    case Code::kOk: return "ok";
    case Code::kNotFound: name = "not found"; break;
    case Code::kInvalid: name = "invalid"; break;
    case Code::kFull: name = "full"; break;
    case Code::kIoError: name = "io error"; break;
    case Code::kCorruption: name = "corruption"; break;
    case Code::kLimit: name = "limit"; break;
    case Code::kForbidden: name = "forbidden"; break;
  }
  return message_.empty() ? name : std::string(name) + ": " + message_;
}

}  // namespace courier::storage
