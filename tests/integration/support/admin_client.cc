#include "support/admin_client.h"

namespace courier::it {

AdminClient::AdminClient(int port, std::string user, std::string client_id)
    : client_("127.0.0.1", port, std::move(user), std::move(client_id)) {}

::testing::AssertionResult AdminClient::Connect() {
  std::string error;
  if (!client_.Connect(kWait, &error)) {
    return ::testing::AssertionFailure() << "admin '" << client_.user() << "'/'" << client_.client_id()
                                         << "': " << error;
  }
  return ::testing::AssertionSuccess();
}

std::optional<AdminClient::json> AdminClient::CallRaw(const std::string& payload, std::chrono::milliseconds timeout) {
  std::string error;
  if (!client_.Send(payload, &error)) {
    ADD_FAILURE() << error;
    return std::nullopt;
  }
  auto reply = client_.WaitReply(timeout);
  if (!reply) return std::nullopt;
  json doc = json::parse(*reply, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    ADD_FAILURE() << "admin reply is not JSON: " << *reply;
    return std::nullopt;
  }
  return doc;
}

std::optional<AdminClient::json> AdminClient::Call(const json& commands) {
  auto doc = CallRaw(json{{"commands", commands}}.dump());
  if (!doc) return std::nullopt;
  if (!doc->is_object() || !doc->contains("responses") || !(*doc)["responses"].is_array()) {
    ADD_FAILURE() << "admin reply has no 'responses' array: " << doc->dump();
    return std::nullopt;
  }
  return (*doc)["responses"];
}

std::optional<AdminClient::json> AdminClient::Command(const json& command) {
  auto responses = Call(json::array({command}));
  if (!responses) return std::nullopt;
  if (responses->size() != 1) {
    ADD_FAILURE() << "expected one response, got " << responses->dump();
    return std::nullopt;
  }
  return (*responses)[0];
}

::testing::AssertionResult AdminClient::Ok(const json& command, json* data) {
  auto r = Command(command);
  if (!r) {
    return ::testing::AssertionFailure() << "no admin reply to " << command.dump() << " within " << kWait.count()
                                         << " ms";
  }
  if (r->contains("error")) { return ::testing::AssertionFailure() << command.dump() << " failed: " << r->dump(); }
  if (data) *data = r->contains("data") ? (*r)["data"] : json();
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult AdminClient::CreateGroup(const std::string& group, const std::vector<std::string>& members) {
  return Ok({{"command", "createGroup"}, {"group", group}, {"members", members}});
}

::testing::AssertionResult AdminClient::AddMember(const std::string& group, const std::string& user) {
  return Ok({{"command", "addGroupMember"}, {"group", group}, {"user", user}});
}

::testing::AssertionResult AdminClient::RemoveMember(const std::string& group, const std::string& user) {
  return Ok({{"command", "removeGroupMember"}, {"group", group}, {"user", user}});
}

}  // namespace courier::it
