#include "pg_connect.h"

#include <utility>
#include <vector>

namespace courier::storage {

Status ConnectPg(const std::string& conninfo, int timeout_s, std::unique_ptr<PgConn>* out) {
  out->reset();
  char* err = nullptr;
  PQconninfoOption* opts = PQconninfoParse(conninfo.c_str(), &err);
  if (!opts) {
    std::string msg = err ? err : "out of memory";
    if (err) PQfreemem(err);
    while (!msg.empty() && msg.back() == '\n') msg.pop_back();
    return Status::Invalid("malformed postgres conninfo: " + msg);
  }
  std::vector<std::pair<std::string, std::string>> params;
  bool timeout = false;
  for (auto* o = opts; o->keyword; ++o) {
    if (!o->val) continue;
    params.emplace_back(o->keyword, o->val);
    timeout |= std::string(o->keyword) == "connect_timeout";
  }
  PQconninfoFree(opts);
  if (!timeout) params.emplace_back("connect_timeout", std::to_string(timeout_s > 0 ? timeout_s : 1));
  std::string error;
  *out = PgConn::Connect(params, &error);
  if (!*out) return Status::IoError("cannot connect to postgres: " + error);
  return Status::Ok();
}

}  // namespace courier::storage
