#include "support/broker.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "proc/pg_client.h"

#ifndef MOSQUITTO_BIN
#error "MOSQUITTO_BIN must be defined by the build"
#endif
#ifndef COURIER_PLUGIN_PATH
#define COURIER_PLUGIN_PATH ""
#endif

namespace courier::it {
namespace {

constexpr auto kStopTimeout = std::chrono::seconds(5);
constexpr auto kRestartPause = std::chrono::milliseconds(200);

proc::MosquittoOptions ProcessOptions() {
  proc::MosquittoOptions o;
  o.binary = MOSQUITTO_BIN;
  o.dir_prefix = "courier-it-";
  o.keep_dir = proc::KeepRequested("COURIER_IT_KEEP");
  o.env = proc::BrokerPreloadEnv();
  o.start_timeout = std::chrono::seconds(10);
  return o;
}

}  // namespace

bool PostgresRequested(std::string* server) {
  const char* store = std::getenv("COURIER_IT_STORE");
  if (store == nullptr || std::string(store) != "postgres") return false;
  const char* pg = std::getenv("COURIER_IT_PG");
  *server = pg != nullptr ? pg : "";
  return true;
}

Broker::Broker(BrokerOptions options) : options_(std::move(options)), mosquitto_(ProcessOptions()) {
  if (PostgresRequested(&pg_server_) && pg_server_.empty()) {
    ADD_FAILURE() << "COURIER_IT_STORE=postgres needs COURIER_IT_PG (a conninfo without dbname)";
  }
  if (data_dir().empty()) {
    ADD_FAILURE() << "mkdtemp failed: " << mosquitto_.dir_error();
    return;
  }
  if (options_.db_path.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(db_path(), ec);
    if (ec) ADD_FAILURE() << "cannot create " << db_path() << ": " << ec.message();
  }
}

Broker::~Broker() {
  // With the ASan runtime preloaded, a graceful stop lets LeakSanitizer
  // check the plugin when mosquitto exits; any report fails the test.
  if (!proc::BrokerPreloadEnv().empty()) Stop();
  Kill9();
  if (data_dir().empty()) return;
  std::string report = proc::SanitizerReport(log());
  if (!report.empty()) ADD_FAILURE() << "sanitizer report in the broker's output:\n" << report;
  if (mosquitto_.options().keep_dir) {
    std::fprintf(stderr, "[courier-it] kept broker directory %s\n", data_dir().c_str());
  }
  if (pg_database_.empty()) return;
  std::string error;
  if (mosquitto_.options().keep_dir) {
    std::fprintf(stderr, "[courier-it] kept database %s\n", pg_database_.c_str());
  } else if (!proc::PgDropDatabase(pg_server_, pg_database_, &error)) {
    ADD_FAILURE() << error;
  }
}

std::string Broker::pg_conninfo() const {
  if (!options_.pg_conninfo.empty()) return options_.pg_conninfo;
  return proc::PgWithDatabase(pg_server_, pg_database_);
}

::testing::AssertionResult Broker::PrepareStore() {
  if (pg_server_.empty() || !pg_database_.empty() || !options_.pg_conninfo.empty()) {
    return ::testing::AssertionSuccess();
  }
  static int serial = 0;
  const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
  const std::string name = test != nullptr ? std::string(test->test_suite_name()) + "_" + test->name() : "broker";
  const std::string database =
      proc::PgDatabaseName("it_" + name + "_" + std::to_string(::getpid()) + "_" + std::to_string(++serial));
  std::string error;
  if (!proc::PgCreateDatabase(pg_server_, database, &error)) {
    return ::testing::AssertionFailure() << "cannot create the broker's database: " << error;
  }
  pg_database_ = database;
  return ::testing::AssertionSuccess();
}

void Broker::Configure() {
  proc::MosquittoConfig& c = mosquitto_.config();
  c.head = options_.pre_config;
  c.settings = {"persistence false"};
  c.body = {"log_type all", "log_timestamp_format %H:%M:%S"};
  c.body.insert(c.body.end(), options_.extra_config.begin(), options_.extra_config.end());
  if (options_.with_plugin) {
    c.body.push_back(std::string("plugin ") + COURIER_PLUGIN_PATH);
    if (pg_server_.empty() && options_.pg_conninfo.empty()) {
      c.body.push_back("plugin_opt_db_path " + db_path());
    } else {
      c.body.push_back("plugin_opt_store postgres");
      c.body.push_back("plugin_opt_pg_conninfo " + pg_conninfo());
    }
    for (const auto& [key, value] : options_.plugin_opts) { c.body.push_back("plugin_opt_" + key + " " + value); }
  }
  c.body.insert(c.body.end(), options_.post_config.begin(), options_.post_config.end());
}

::testing::AssertionResult Broker::Judge(const proc::Launch& launch) {
  switch (launch.outcome) {
    case proc::LaunchOutcome::kAccepting: return ::testing::AssertionSuccess();
    case proc::LaunchOutcome::kExited:
      last_exit_status_ = launch.exit_status;
      return ::testing::AssertionFailure() << "mosquitto exited during start (status " << launch.exit_status
                                           << ") on port " << port() << "\n----- broker log -----\n"
                                           << log();
    case proc::LaunchOutcome::kTimedOut:
      return ::testing::AssertionFailure()
             << "mosquitto did not accept connections on port " << port() << " within 10 s\n----- broker log -----\n"
             << log();
    case proc::LaunchOutcome::kSpawnFailed: break;
  }
  return ::testing::AssertionFailure() << launch.error;
}

::testing::AssertionResult Broker::Start() {
  if (data_dir().empty()) return ::testing::AssertionFailure() << "no data directory";
  if (running()) return ::testing::AssertionFailure() << "broker already running";
  if (options_.with_plugin && std::string(COURIER_PLUGIN_PATH).empty()) {
    return ::testing::AssertionFailure()
           << "the courier_plugin target does not exist in this build; cannot load the plugin";
  }
  last_exit_status_ = -1;
  if (auto prepared = PrepareStore(); !prepared) return prepared;
  Configure();
  return Judge(mosquitto_.Start());
}

::testing::AssertionResult Broker::Restart() {
  if (running()) Stop();
  last_exit_status_ = -1;
  if (auto prepared = PrepareStore(); !prepared) return prepared;
  Configure();
  return Judge(mosquitto_.Restart(kRestartPause));
}

::testing::AssertionResult Broker::StartExpectingExit(int* wait_status) {
  if (data_dir().empty()) return ::testing::AssertionFailure() << "no data directory";
  if (running()) return ::testing::AssertionFailure() << "broker already running";
  last_exit_status_ = -1;
  if (auto prepared = PrepareStore(); !prepared) return prepared;
  Configure();
  auto started = Judge(mosquitto_.StartOnce());
  if (started) {
    Kill9();
    return ::testing::AssertionFailure() << "mosquitto started and accepted connections on port " << port()
                                         << " (expected it to refuse to start)\n----- broker log -----\n"
                                         << log();
  }
  if (last_exit_status_ < 0) return started;  // did not exit on its own: killed after 10 s
  *wait_status = last_exit_status_;
  return ::testing::AssertionSuccess();
}

bool Broker::Alive() {
  if (!mosquitto_.running()) return false;
  if (!mosquitto_.Exited()) return true;
  last_exit_status_ = mosquitto_.wait_status();
  return false;
}

void Broker::Kill9() { mosquitto_.Kill(); }

void Broker::Stop() { mosquitto_.Stop(kStopTimeout); }

std::string Broker::log() const {
  std::string text = mosquitto_.ReadLog();
  std::string out = mosquitto_.ReadOutput();
  if (!out.empty()) text += "\n----- broker stdout/stderr -----\n" + out;
  return text;
}

}  // namespace courier::it
