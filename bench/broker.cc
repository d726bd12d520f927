#include "broker.h"

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>

#include "admin.h"
#include "proc.h"

namespace courier::bench {

const char* KindName(BrokerKind kind) {
  switch (kind) {
    case BrokerKind::kPlain: return "plain";
    case BrokerKind::kPersist: return "persist";
    case BrokerKind::kCourierFull: return "courier-full";
    case BrokerKind::kCourierOs: return "courier-os";
    case BrokerKind::kCourierNoMeta: return "courier-nometa";
    case BrokerKind::kCourierPerListener: return "courier-perlistener";
    case BrokerKind::kCourierPg: return "courier-pg";
  }
  return "?";
}

bool ParseKind(const std::string& s, BrokerKind* out) {
  for (auto k : {BrokerKind::kPlain, BrokerKind::kPersist, BrokerKind::kCourierFull, BrokerKind::kCourierNoMeta,
                 BrokerKind::kCourierOs, BrokerKind::kCourierPerListener, BrokerKind::kCourierPg}) {
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
    case BrokerKind::kCourierPerListener:
    case BrokerKind::kCourierPg: return "full";  // ignored with postgres
    case BrokerKind::kCourierNoMeta: return "nometa";
    case BrokerKind::kCourierOs: return "os";
    default: return nullptr;
  }
}
}  // namespace

bool IsCourier(BrokerKind kind) { return SyncOption(kind) != nullptr; }

namespace {

// How long a stopping broker may take (it flushes its store) before SIGKILL.
constexpr std::chrono::milliseconds kStopGrace{20'000};

proc::MosquittoOptions ProcessOptions(const BrokerSpec& spec) {
  proc::MosquittoOptions o;
  o.binary = spec.mosquitto;
  o.dir_prefix = std::string("courier-bench-") + KindName(spec.kind) + "-";
  o.keep_dir = spec.keep_dir;
  o.output_name = "mosquitto.out";
  o.start_timeout = std::chrono::seconds(15);
  // Restart() reports the time to the port: poll it finely.
  o.poll_interval = std::chrono::milliseconds(1);
  o.timeout_grace = kStopGrace;
  return o;
}

}  // namespace

Broker::Broker(BrokerSpec spec) : spec_(std::move(spec)), mosquitto_(ProcessOptions(spec_)) {
  if (!dir().empty()) ::mkdir(db_path().c_str(), 0700);
  Configure();
}

Broker::~Broker() { Stop(); }

void Broker::Configure() {
  proc::MosquittoConfig& c = mosquitto_.config();
  c.head = {std::string("# written by courier_bench (") + KindName(spec_.kind) + ")"};
  // Before the listener: it decides where the listener's security lines go.
  if (spec_.kind == BrokerKind::kCourierPerListener) c.head.push_back("per_listener_settings true");
  // Identical in every configuration: room for 10k clients, no silent drop
  // of queued QoS 1 messages, Nagle off (chat traffic is small packets).
  c.settings = {"max_connections -1", "max_queued_messages 100000", "set_tcp_nodelay true"};
  c.body = {"log_type error", "log_type warning", "log_type notice", "log_type information",
            "connection_messages false"};
  switch (spec_.kind) {
    case BrokerKind::kPlain: c.body.push_back("persistence false"); break;
    case BrokerKind::kPersist:
      c.body.insert(c.body.end(), {"persistence true", "persistence_location " + db_path() + "/",
                                   "autosave_on_changes true", "autosave_interval 1"});
      break;
    case BrokerKind::kCourierFull:
    case BrokerKind::kCourierOs:
    case BrokerKind::kCourierNoMeta:
    case BrokerKind::kCourierPerListener:
    case BrokerKind::kCourierPg:
      c.body.push_back("persistence false");
      if (spec_.kind != BrokerKind::kCourierPerListener) c.body.push_back("per_listener_settings false");
      c.body.push_back("plugin " + spec_.plugin);
      c.body.push_back("plugin_opt_db_path " + db_path());
      c.body.push_back(std::string("plugin_opt_sync ") + SyncOption(spec_.kind));
      // Groups and counters for the bench.
      c.body.push_back(std::string("plugin_opt_admin_users ") + kAdminUser);
      if (spec_.kind == BrokerKind::kCourierPg) {
        c.body.push_back("plugin_opt_store postgres");
        c.body.push_back("plugin_opt_pg_conninfo " + spec_.pg_conninfo);
      }
      break;
  }
  c.body.insert(c.body.end(), spec_.extra.begin(), spec_.extra.end());
}

bool Broker::Judge(const proc::Launch& launch, std::string* error) {
  switch (launch.outcome) {
    case proc::LaunchOutcome::kAccepting: return true;
    case proc::LaunchOutcome::kExited:
      *error = std::string(KindName(spec_.kind)) + " broker exited during start-up; log:\n" + LogTail();
      return false;
    case proc::LaunchOutcome::kTimedOut:
      *error = std::string(KindName(spec_.kind)) + " broker did not accept on port " + std::to_string(port()) +
               " within 15 s; log:\n" + LogTail();
      return false;
    case proc::LaunchOutcome::kSpawnFailed: break;
  }
  *error = launch.error;
  return false;
}

bool Broker::Start(std::string* error) {
  if (dir().empty()) {
    *error = "cannot create a temporary directory";
    return false;
  }
  if (spec_.kind == BrokerKind::kCourierPg && spec_.pg_conninfo.empty()) {
    *error = "courier-pg needs a PostgreSQL database (the suite's postgres phase starts one)";
    return false;
  }
  if (IsCourier(spec_.kind) && ::access(spec_.plugin.c_str(), R_OK) != 0) {
    *error = "plugin not found at " + spec_.plugin + " (build it, or pass --plugin)";
    return false;
  }
  return Judge(mosquitto_.Start(), error);
}

bool Broker::Restart(std::string* error, double* to_port_s, bool drop_cache) {
  Stop();
  if (drop_cache) {
    DropFileCache(db_path() + "/data.mdb");
    DropFileCache(db_path() + "/mosquitto.db");
  }
  const proc::Launch launch = mosquitto_.Restart(std::chrono::milliseconds(200));
  if (!Judge(launch, error)) return false;
  *to_port_s = std::chrono::duration<double>(launch.to_port).count();
  return true;
}

void Broker::Stop() { mosquitto_.Stop(kStopGrace); }

std::string Broker::LogTail(size_t bytes) const {
  std::string s = mosquitto_.ReadLog() + mosquitto_.ReadOutput();
  return s.size() > bytes ? s.substr(s.size() - bytes) : s;
}

}  // namespace courier::bench
