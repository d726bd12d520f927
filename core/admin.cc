#include "admin.h"

#include <nlohmann/json.hpp>

#include "reply.h"
#include "topics.h"

namespace courier::core {
namespace {

using json = nlohmann::json;
using Kind = storage::AdminOp::Kind;

std::string StringField(const json& cmd, const char* name) {
  auto it = cmd.find(name);
  return it != cmd.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// Fills `op` from `cmd`; returns an error text, or "" when the command is good.
std::string Translate(const json& cmd, const CoreOptions& o, storage::AdminOp* op) {
  const std::string name = StringField(cmd, "command");
  auto need_name = [&](const char* field, std::string* out) -> std::string {
    *out = StringField(cmd, field);
    if (!IsValidName(*out, o.max_name_bytes)) {
      return std::string("'") + field + "' must be a name of 1.." + std::to_string(o.max_name_bytes) +
             " bytes without '/', '+', '#'";
    }
    return "";
  };
  std::string err;
  if (name == "createGroup") {
    op->kind = Kind::kCreateGroup;
    if (!(err = need_name("group", &op->group)).empty()) return err;
    if (auto it = cmd.find("members"); it != cmd.end()) {
      if (!it->is_array()) return "'members' must be an array of user names";
      for (const auto& m : *it) {
        if (!m.is_string() || !IsValidName(m.get<std::string>(), o.max_name_bytes)) {
          return "'members' must be an array of user names";
        }
        op->members.push_back(m.get<std::string>());
      }
    }
  } else if (name == "deleteGroup") {
    op->kind = Kind::kDeleteGroup;
    err = need_name("group", &op->group);
  } else if (name == "addGroupMember" || name == "removeGroupMember") {
    op->kind = name == "addGroupMember" ? Kind::kAddMember : Kind::kRemoveMember;
    if (!(err = need_name("group", &op->group)).empty()) return err;
    err = need_name("user", &op->user);
  } else if (name == "listGroups") {
    op->kind = Kind::kListGroups;
  } else if (name == "getGroup") {
    op->kind = Kind::kGetGroup;
    err = need_name("group", &op->group);
    op->conversation = GroupConversation(op->group);
  } else if (name == "getUser") {
    op->kind = Kind::kGetUser;
    err = need_name("user", &op->user);
  } else if (name == "listPushRegistrations") {
    op->kind = Kind::kListPush;
    err = need_name("user", &op->user);
  } else if (name == "removePushRegistration") {
    op->kind = Kind::kRemovePush;
    if (!(err = need_name("user", &op->user)).empty()) return err;
    err = need_name("device", &op->device);
  } else if (name == "getStats") {
    op->kind = Kind::kNone;
  } else {
    return name.empty() ? "'command' is missing" : "unknown command '" + name + "'";
  }
  op->max_members = o.max_group_members;
  return err;
}

json StatsJson(const Stats& s) {
  auto v = [](const std::atomic<uint64_t>& a) { return a.load(std::memory_order_relaxed); };
  json errors = json::object();
  for (size_t i = 0; i < s.errors.size(); ++i) {
    if (v(s.errors[i]) != 0) errors[std::string(Name(static_cast<ErrorCode>(i)))] = v(s.errors[i]);
  }
  const uint64_t commits = v(s.commits), commit_us_total = v(s.commit_us_total);
  return json{{"accepted", v(s.accepted)},
              {"duplicates", v(s.duplicates)},
              {"deliveries", v(s.deliveries)},
              {"receipts", v(s.receipts)},
              {"expired", v(s.expired)},
              {"trimmed", v(s.trimmed)},
              {"relayed", v(s.relayed)},
              {"errors", errors},
              {"commits", commits},
              {"commitMicrosTotal", commit_us_total},
              {"commitMicrosMax", v(s.commit_us_max)},
              {"commitMicrosLast", v(s.last_commit_us)},
              {"commitMicrosMean", commits ? commit_us_total / commits : 0},
              {"heapInUseBytes", v(s.heap_in_use_bytes)}};
}

}  // namespace

std::string GroupConversation(std::string_view group) {
  std::string key = "g";
  key.push_back('\0');
  key.append(group);
  return key;
}

storage::AdminRequest ParseAdminRequest(std::string_view payload, bool authorized, const CoreOptions& options,
                                        int64_t now_ms, std::string_view client_id) {
  storage::AdminRequest req;
  AdminReply reply{.client_id = std::string(client_id), .commands = {}, .correlations = {}, .errors = {}};
  json doc = json::parse(payload, nullptr, /*allow_exceptions=*/false);
  auto add = [&](std::string command, std::string correlation, storage::AdminOp op, std::string error) {
    reply.commands.push_back(std::move(command));
    reply.correlations.push_back(std::move(correlation));
    op.now_ms = now_ms;
    if (!error.empty()) op.kind = Kind::kNone;
    req.ops.push_back(std::move(op));
    reply.errors.push_back(std::move(error));
  };
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("commands") || !doc["commands"].is_array()) {
    add("", "", {}, "the payload must be a JSON object with a 'commands' array");
    req.reply = MakeReply(std::move(reply));
    return req;
  }
  for (const auto& cmd : doc["commands"]) {
    if (!cmd.is_object()) {
      add("", "", {}, "each command must be a JSON object");
      continue;
    }
    std::string correlation = StringField(cmd, "correlationData");
    std::string command = StringField(cmd, "command");
    storage::AdminOp op;
    std::string error = authorized ? Translate(cmd, options, &op) : "not authorized";
    add(std::move(command), std::move(correlation), std::move(op), std::move(error));
  }
  req.reply = MakeReply(std::move(reply));
  return req;
}

std::string AdminResponse(const storage::AdminRequest& req, const storage::AdminResult* result,
                          std::string_view failure, const Stats* stats) {
  const AdminReply& reply = ReplyOf(req);
  json responses = json::array();
  for (size_t i = 0; i < req.ops.size(); ++i) {
    // A reply made elsewhere than ParseAdminRequest may be short: read it as empty.
    auto at = [&](const std::vector<std::string>& v) { return i < v.size() ? v[i] : std::string(); };
    json r = {{"command", at(reply.commands)}};
    if (!at(reply.correlations).empty()) r["correlationData"] = at(reply.correlations);
    const storage::AdminOp& op = req.ops[i];
    const storage::AdminOpResult* res = result && i < result->results.size() ? &result->results[i] : nullptr;
    if (!at(reply.errors).empty()) {
      r["error"] = at(reply.errors);
    } else if (!result) {
      r["error"] = std::string(failure);
    } else if (res && !res->status.ok()) {
      r["error"] = res->status.message();
    } else if (at(reply.commands) == "getStats") {
      r["data"] = stats ? StatsJson(*stats) : json::object();
    } else if (res) {
      switch (op.kind) {
        case Kind::kListGroups: r["data"] = {{"groups", res->names}}; break;
        case Kind::kGetGroup:
          r["data"] = {{"group", op.group}, {"members", res->names}, {"userOffset", res->user_offset}};
          break;
        case Kind::kGetUser: {
          json devices = json::array();
          for (const auto& [device, cursor] : res->cursors) devices.push_back({{"device", device}, {"cursor", cursor}});
          r["data"] = {{"user", op.user}, {"head", res->head}, {"devices", devices}, {"undelivered", res->undelivered}};
          break;
        }
        case Kind::kListPush: {
          json devices = json::array();
          for (const auto& reg : res->push_regs) {
            devices.push_back({{"device", reg.device},
                               {"app", reg.app},
                               {"token", reg.token},
                               {"registeredMs", reg.registered_ms},
                               {"due", reg.due}});
          }
          r["data"] = {{"user", op.user}, {"devices", devices}};
          break;
        }
        default: break;
      }
    }
    responses.push_back(std::move(r));
  }
  return json{{"responses", responses}}.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace courier::core
