// Helpers shared by the unit tests: temporary directories, message and
// signal builders, and decoding of the publishes the core produces.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "action.h"
#include "messaging.pb.h"
#include "proc/temp_dir.h"

namespace courier::testing {

// A fresh directory under /tmp, removed with everything in it on
// destruction (proc::TempDir); a failed mkdtemp is a test failure.
class TempDir : public proc::TempDir {
 public:
  TempDir() : proc::TempDir("courier-unit-") {
    if (!ok()) ADD_FAILURE() << error();
  }
};

inline courier::v1::Identity Ident(std::string user, std::string device = "") {
  courier::v1::Identity id;
  id.set_user(std::move(user));
  id.set_device(std::move(device));
  return id;
}

// A valid message to `to` as a client would send it.
inline courier::v1::Message Msg(std::string id, std::string to, std::string payload = "hello") {
  courier::v1::Message m;
  m.set_id(std::move(id));
  m.mutable_to()->set_user(std::move(to));
  m.set_payload(std::move(payload));
  m.set_encryption_type("none");
  m.set_timestamp(1000);
  return m;
}

inline courier::v1::Signal Receipt(std::string id, int32_t offset, bool read) {
  courier::v1::Signal s;
  s.set_id(std::move(id));
  s.set_signal_offset(offset);
  if (read) {
    s.mutable_signal_ack_state()->set_read(true);
  } else {
    s.mutable_signal_ack_state()->set_received(true);
  }
  return s;
}

inline courier::v1::Signal PullSignal(std::string id, int32_t after, uint32_t limit) {
  courier::v1::Signal s;
  s.set_id(std::move(id));
  s.set_type(1);            // REQUEST
  s.set_signal_request(1);  // PULL
  s.set_signal_offset(after);
  s.set_limit(limit);
  return s;
}

inline courier::v1::Signal Activity(std::string to, int32_t status) {
  courier::v1::Signal s;
  s.set_status(status);
  s.mutable_to()->set_user(std::move(to));
  return s;
}

template <typename Proto>
Proto Parse(const std::string& bytes) {
  Proto p;
  EXPECT_TRUE(p.ParseFromString(bytes)) << "payload does not parse";
  return p;
}

inline courier::v1::Signal AsSignal(const core::Publish& p) { return Parse<courier::v1::Signal>(p.payload); }
inline courier::v1::Message AsMessage(const core::Publish& p) { return Parse<courier::v1::Message>(p.payload); }

inline std::vector<std::string> TopicsOf(const std::vector<core::Publish>& out) {
  std::vector<std::string> t;
  for (const auto& p : out) t.push_back(p.topic);
  return t;
}

}  // namespace courier::testing
