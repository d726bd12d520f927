#include "broker.h"

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>

#include "admin.h"
#include "proc.h"
#include "proc/loopback.h"

namespace courier::bench {

const char* KindName(BrokerKind kind) {
  switch (kind) {
    case BrokerKind::kPlain: return "plain";
    case BrokerKind::kPersist: return "persist";
    case BrokerKind::kCourierFull: return "courier-full";
    case BrokerKind::kCourierOs: return "courier-os";
    case BrokerKind::kCourierNoMeta: return "courier-nometa";
    case BrokerKind::kCourierPerListener: return "courier-perlistener";
  }
  return "?";
}

bool ParseKind(const std::string& s, BrokerKind* out) {
  for (auto k : {BrokerKind::kPlain, BrokerKind::kPersist, BrokerKind::kCourierFull, BrokerKind::kCourierNoMeta,
                 BrokerKind::kCourierOs, BrokerKind::kCourierPerListener}) {
    if (s == KindName(k)) {
      *out = k;
      return true;
    }
  }
  return false;
}

namespace {
// plugin_opt_sync of a Courier kind; nullptr for the others.
const char* SyncOption(BrokerKind kind) {
  switch (kind) {
    case BrokerKind::kCourierFull:
    case BrokerKind::kCourierPerListener: return "full";
    case BrokerKind::kCourierNoMeta: return "nometa";
    case BrokerKind::kCourierOs: return "os";
    default: return nullptr;
  }
}
}  // namespace

bool IsCourier(BrokerKind kind) { return SyncOption(kind) != nullptr; }

Broker::Broker(BrokerSpec spec) : spec_(std::move(spec)) {
  dir_ = MakeTempDir(std::string("courier-bench-") + KindName(spec_.kind) + "-");
  if (!dir_.empty()) ::mkdir(db_path().c_str(), 0700);
}

Broker::~Broker() {
  Stop();
  if (!spec_.keep_dir) RemoveTree(dir_);
}

void Broker::WriteConfig() const {
  std::ofstream c(dir_ + "/mosquitto.conf", std::ios::trunc);
  c << "# written by courier_bench (" << KindName(spec_.kind) << ")\n";
  // Before the listener: it decides where the listener's security lines go.
  if (spec_.kind == BrokerKind::kCourierPerListener) c << "per_listener_settings true\n";
  c << "listener " << port_ << " 127.0.0.1\n";
  c << "allow_anonymous true\n";
  // Identical in every configuration: room for 10k clients, no silent drop
  // of queued QoS 1 messages, Nagle off (chat traffic is small packets).
  c << "max_connections -1\n";
  c << "max_queued_messages 100000\n";
  c << "set_tcp_nodelay true\n";
  if (::geteuid() == 0) c << "user root\n";
  c << "log_dest file " << dir_ << "/mosquitto.log\n";
  c << "log_type error\nlog_type warning\nlog_type notice\nlog_type information\n";
  c << "connection_messages false\n";
  switch (spec_.kind) {
    case BrokerKind::kPlain:
      c << "persistence false\n";
      break;
    case BrokerKind::kPersist:
      c << "persistence true\n";
      c << "persistence_location " << db_path() << "/\n";
      c << "autosave_on_changes true\n";
      c << "autosave_interval 1\n";
      break;
    case BrokerKind::kCourierFull:
    case BrokerKind::kCourierOs:
    case BrokerKind::kCourierNoMeta:
    case BrokerKind::kCourierPerListener:
      c << "persistence false\n";
      if (spec_.kind != BrokerKind::kCourierPerListener) c << "per_listener_settings false\n";
      c << "plugin " << spec_.plugin << "\n";
      c << "plugin_opt_db_path " << db_path() << "\n";
      c << "plugin_opt_sync " << SyncOption(spec_.kind) << "\n";
      c << "plugin_opt_admin_users " << kAdminUser << "\n";  // groups and counters for the bench
      break;
  }
  for (const auto& line : spec_.extra) c << line << "\n";
}

bool Broker::Launch(std::string* error, int64_t* started_ns, int64_t* accepted_ns) {
  proc::SpawnOptions options;
  options.argv = {spec_.mosquitto, "-c", dir_ + "/mosquitto.conf"};
  options.output_file = dir_ + "/mosquitto.out";
  *started_ns = NowNs();
  if (!child_.Spawn(options, error)) return false;
  const int64_t deadline = NowNs() + 15'000'000'000;
  while (NowNs() < deadline) {
    if (child_.Exited()) {
      *error = std::string(KindName(spec_.kind)) + " broker exited during start-up; log:\n" + LogTail();
      return false;
    }
    if (proc::PortAccepts(port_)) {
      *accepted_ns = NowNs();
      return true;
    }
    ::usleep(1000);
  }
  *error = std::string(KindName(spec_.kind)) + " broker did not accept on port " + std::to_string(port_) +
           " within 15 s; log:\n" + LogTail();
  Stop();
  return false;
}

bool Broker::Start(std::string* error) {
  if (dir_.empty()) {
    *error = "cannot create a temporary directory";
    return false;
  }
  if (IsCourier(spec_.kind) && ::access(spec_.plugin.c_str(), R_OK) != 0) {
    *error = "plugin not found at " + spec_.plugin + " (build it, or pass --plugin)";
    return false;
  }
  for (int attempt = 0; attempt < 5; ++attempt) {
    port_ = proc::PickFreePort();
    if (port_ == 0) continue;
    WriteConfig();
    int64_t t0, t1;
    if (Launch(error, &t0, &t1)) return true;
  }
  return false;
}

bool Broker::Restart(std::string* error, double* to_port_s, bool drop_cache) {
  Stop();
  if (drop_cache) {
    DropFileCache(db_path() + "/data.mdb");
    DropFileCache(db_path() + "/mosquitto.db");
  }
  for (int attempt = 0; attempt < 5; ++attempt) {
    int64_t t0 = 0, t1 = 0;
    if (Launch(error, &t0, &t1)) {
      *to_port_s = double(t1 - t0) / 1e9;
      return true;
    }
    ::usleep(200000);
  }
  return false;
}

void Broker::Stop() { child_.Stop(std::chrono::seconds(20)); }

std::string Broker::LogTail(size_t bytes) const {
  std::string s = ReadWholeFile(dir_ + "/mosquitto.log") + ReadWholeFile(dir_ + "/mosquitto.out");
  return s.size() > bytes ? s.substr(s.size() - bytes) : s;
}

}  // namespace courier::bench
