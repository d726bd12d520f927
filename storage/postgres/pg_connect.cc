#include "pg_connect.h"

namespace courier::storage {

Status ConninfoParams(const std::string& conninfo, int timeout_s, PgParams* out) {
  out->clear();
  char* err = nullptr;
  PQconninfoOption* opts = PQconninfoParse(conninfo.c_str(), &err);
  if (!opts) {
    std::string msg = err ? err : "out of memory";
    if (err) PQfreemem(err);
    while (!msg.empty() && msg.back() == '\n') msg.pop_back();
    return Status::Invalid("malformed postgres conninfo: " + msg);
  }
  bool timeout = false;
  for (auto* o = opts; o->keyword; ++o) {
    if (!o->val) continue;
    out->emplace_back(o->keyword, o->val);
    timeout |= std::string(o->keyword) == "connect_timeout";
  }
  PQconninfoFree(opts);
  if (!timeout) out->emplace_back("connect_timeout", std::to_string(timeout_s > 0 ? timeout_s : 1));
  return Status::Ok();
}

Status ConnectPg(const std::string& conninfo, int timeout_s, std::unique_ptr<PgConn>* out) {
  out->reset();
  PgParams params;
  Status s = ConninfoParams(conninfo, timeout_s, &params);
  if (!s.ok()) return s;
  std::string error;
  *out = PgConn::Connect(params, &error);
  if (!*out) return Status::IoError("cannot connect to postgres: " + error);
  return Status::Ok();
}

std::string DescribeConninfo(const std::string& conninfo) {
  PgParams params;
  if (!ConninfoParams(conninfo, 1, &params).ok()) return "(malformed conninfo)";
  std::string out;
  for (const char* key : {"host", "hostaddr", "port", "dbname", "user"}) {
    for (const auto& [k, v] : params) {
      if (k != key || v.empty()) continue;
      if (!out.empty()) out += ' ';
      out += k + "=" + v;
    }
  }
  return out;
}

}  // namespace courier::storage
