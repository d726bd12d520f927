// The C entry points Mosquitto looks up in mosquitto_courier.so.
// No exception crosses this boundary: every callback catches, logs and
// returns a MOSQ_ERR_* code.
extern "C" {
#include <mosquitto.h>
#include <mosquitto_broker.h>
#include <mosquitto_plugin.h>
}

#include <pthread.h>
#include <signal.h>

#include <exception>
#include <memory>

#include "deferred_log.h"
#include "plugin_options.h"
#include "shell.h"
#include "store_opener.h"

namespace {

using courier::plugin::Shell;

mosquitto_plugin_id_t* g_id = nullptr;
// Lines the store's worker thread logs; printed on the broker thread.
courier::plugin::DeferredLog g_deferred_log;

// Waking the broker thread: the store's worker sends this signal to it, which
// interrupts its epoll_wait (Mosquitto blocks only its own signals there), so
// the loop reaches the tick and publishes the finished commits at once
// instead of after up to 100 ms. SA_RESTART keeps other calls unaffected.
pthread_t g_broker_thread;
int g_wake_signal = 0;
struct sigaction g_old_action;
bool g_handler_installed = false;

void OnWakeSignal(int) {}

void InstallWakeHandler() {
  g_broker_thread = pthread_self();  // plugins are initialised on the broker thread
  g_wake_signal = SIGRTMIN + 7;
  struct sigaction sa {};
  sa.sa_handler = OnWakeSignal;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  g_handler_installed = sigaction(g_wake_signal, &sa, &g_old_action) == 0;
}

void RestoreWakeHandler() {
  if (g_handler_installed) sigaction(g_wake_signal, &g_old_action, nullptr);
  g_handler_installed = false;
}

void WakeBrokerThread() {
  if (g_handler_installed) pthread_kill(g_broker_thread, g_wake_signal);
}
constexpr const char* kControlTopic = "$CONTROL/courier/v1";

template <typename Fn>
int Guarded(const char* where, Fn&& fn) {
  try {
    return fn();
  } catch (const std::exception& e) {
    mosquitto_log_printf(MOSQ_LOG_ERR, "courier: %s: %s", where, e.what());
  } catch (...) { mosquitto_log_printf(MOSQ_LOG_ERR, "courier: %s: unknown exception", where); }
  return MOSQ_ERR_UNKNOWN;
}

int OnMessage(int, void* event, void* userdata) {
  g_deferred_log.Drain();  // also without ticks (per_listener_settings true)
  int rc = Guarded(
      "message", [&] { return static_cast<Shell*>(userdata)->OnMessage(static_cast<mosquitto_evt_message*>(event)); });
  // Any code but success and ACL_DENIED disconnects the client; a bug of
  // ours must not cost the client its connection.
  return rc == MOSQ_ERR_UNKNOWN ? MOSQ_ERR_SUCCESS : rc;
}

int OnAclCheck(int, void* event, void* userdata) {
  int rc = Guarded(
      "acl", [&] { return static_cast<Shell*>(userdata)->OnAclCheck(static_cast<mosquitto_evt_acl_check*>(event)); });
  return rc == MOSQ_ERR_UNKNOWN ? MOSQ_ERR_ACL_DENIED : rc;
}

int OnControl(int, void* event, void* userdata) {
  int rc = Guarded(
      "control", [&] { return static_cast<Shell*>(userdata)->OnControl(static_cast<mosquitto_evt_control*>(event)); });
  return rc == MOSQ_ERR_UNKNOWN ? MOSQ_ERR_SUCCESS : rc;
}

// A config reload (SIGHUP): the acl_file or plugins may have changed, so
// plugin_opt_other_topics auto decides again. Always DEFER: Mosquitto
// (security.c, security__init_single) stops calling reload callbacks, and
// skips the older plugins' security_init, at the first that does not defer.
int OnReload(int, void*, void* userdata) {
  Guarded("reload", [&] {
    static_cast<Shell*>(userdata)->DecideOtherTopics();
    return MOSQ_ERR_SUCCESS;
  });
  return MOSQ_ERR_PLUGIN_DEFER;
}

int OnTick(int, void*, void* userdata) {
  return Guarded("tick", [&] {
    g_deferred_log.Drain();
    return static_cast<Shell*>(userdata)->OnTick();
  });
}

int OnDisconnect(int, void* event, void* userdata) {
  return Guarded("disconnect", [&] {
    return static_cast<Shell*>(userdata)->OnDisconnect(static_cast<mosquitto_evt_disconnect*>(event));
  });
}

}  // namespace

// The library is built with hidden visibility; only these are exported.
#define COURIER_EXPORT __attribute__((visibility("default")))

extern "C" {

COURIER_EXPORT int mosquitto_plugin_version(int supported_version_count, const int* supported_versions) {
  for (int i = 0; i < supported_version_count; ++i) {
    if (supported_versions[i] == 5) return 5;
  }
  return -1;
}

COURIER_EXPORT int mosquitto_plugin_init(mosquitto_plugin_id_t* identifier, void** userdata, struct mosquitto_opt* opts,
                                         int opt_count) {
  return Guarded("init", [&]() -> int {
    std::vector<std::pair<std::string, std::string>> pairs;
    for (int i = 0; i < opt_count; ++i) {
      pairs.emplace_back(opts[i].key ? opts[i].key : "", opts[i].value ? opts[i].value : "");
    }
    auto parsed = courier::plugin::ParseOptions(pairs);
    if (auto* err = std::get_if<std::string>(&parsed)) {
      mosquitto_log_printf(MOSQ_LOG_ERR, "courier: refusing to load: %s", err->c_str());
      return MOSQ_ERR_INVAL;
    }
    auto options = std::get<courier::plugin::PluginOptions>(std::move(parsed));
    auto opened = courier::plugin::OpenStore(options, &g_deferred_log);
    g_deferred_log.Drain();
    if (auto* err = std::get_if<std::string>(&opened)) {
      mosquitto_log_printf(MOSQ_LOG_ERR, "courier: refusing to load: %s", err->c_str());
      return MOSQ_ERR_UNKNOWN;
    }
    auto& [store, store_description] = std::get<courier::plugin::OpenedStore>(opened);
    // Mosquitto 2.0 loads a plugin per listener, and then sends it no tick,
    // when per_listener_settings is true. The plugin id's first (private)
    // field is that listener, null otherwise; 2.0.0-2.0.20 all have it so.
    const bool per_listener = *reinterpret_cast<void* const*>(identifier) != nullptr;
    // With ticks, commits run on a worker thread and the broker thread never
    // waits for the disk; without them, the shell commits synchronously.
    std::function<void()> wake;
    if (!per_listener) {
      InstallWakeHandler();
      wake = WakeBrokerThread;
    }
    auto shell =
        std::make_unique<Shell>(options, std::move(store), std::move(wake), courier::plugin::HintBusOf(options));
    g_id = identifier;
    int rc = mosquitto_callback_register(g_id, MOSQ_EVT_MESSAGE, OnMessage, nullptr, shell.get());
    if (rc == MOSQ_ERR_SUCCESS)
      rc = mosquitto_callback_register(g_id, MOSQ_EVT_ACL_CHECK, OnAclCheck, nullptr, shell.get());
    if (rc == MOSQ_ERR_SUCCESS) rc = mosquitto_callback_register(g_id, MOSQ_EVT_TICK, OnTick, nullptr, shell.get());
    if (rc == MOSQ_ERR_SUCCESS) {
      rc = mosquitto_callback_register(g_id, MOSQ_EVT_DISCONNECT, OnDisconnect, nullptr, shell.get());
    }
    if (rc == MOSQ_ERR_SUCCESS) {
      rc = mosquitto_callback_register(g_id, MOSQ_EVT_CONTROL, OnControl, kControlTopic, shell.get());
    }
    if (rc == MOSQ_ERR_SUCCESS) rc = mosquitto_callback_register(g_id, MOSQ_EVT_RELOAD, OnReload, nullptr, shell.get());
    if (rc != MOSQ_ERR_SUCCESS) {
      mosquitto_log_printf(MOSQ_LOG_ERR, "courier: refusing to load: cannot register callbacks: %s",
                           mosquitto_strerror(rc));
      mosquitto_callback_unregister(g_id, MOSQ_EVT_MESSAGE, OnMessage, nullptr);
      mosquitto_callback_unregister(g_id, MOSQ_EVT_ACL_CHECK, OnAclCheck, nullptr);
      mosquitto_callback_unregister(g_id, MOSQ_EVT_TICK, OnTick, nullptr);
      mosquitto_callback_unregister(g_id, MOSQ_EVT_DISCONNECT, OnDisconnect, nullptr);
      mosquitto_callback_unregister(g_id, MOSQ_EVT_CONTROL, OnControl, kControlTopic);
      mosquitto_callback_unregister(g_id, MOSQ_EVT_RELOAD, OnReload, nullptr);
      return rc;
    }
    mosquitto_log_printf(MOSQ_LOG_INFO, "courier: store %s open, topics under %s/", store_description.c_str(),
                         options.core.topic_prefix.c_str());
    shell->DecideOtherTopics();  // one line: what happens to topics outside the prefix
    *userdata = shell.release();
    return MOSQ_ERR_SUCCESS;
  });
}

COURIER_EXPORT int mosquitto_plugin_cleanup(void* userdata, struct mosquitto_opt*, int) {
  return Guarded("cleanup", [&] {
    auto* shell = static_cast<Shell*>(userdata);
    if (!shell) return MOSQ_ERR_SUCCESS;
    shell->FlushNow();  // durable even though its publishes will not go out
    if (g_id) {
      mosquitto_callback_unregister(g_id, MOSQ_EVT_MESSAGE, OnMessage, nullptr);
      mosquitto_callback_unregister(g_id, MOSQ_EVT_ACL_CHECK, OnAclCheck, nullptr);
      mosquitto_callback_unregister(g_id, MOSQ_EVT_TICK, OnTick, nullptr);
      mosquitto_callback_unregister(g_id, MOSQ_EVT_DISCONNECT, OnDisconnect, nullptr);
      mosquitto_callback_unregister(g_id, MOSQ_EVT_CONTROL, OnControl, kControlTopic);
      mosquitto_callback_unregister(g_id, MOSQ_EVT_RELOAD, OnReload, nullptr);
    }
    delete shell;  // joins the store's worker thread
    RestoreWakeHandler();
    return MOSQ_ERR_SUCCESS;
  });
}

}  // extern "C"
