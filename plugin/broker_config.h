// What the broker's own configuration file says about access control, read
// the way Mosquitto 2.0.11 reads it, so that Courier can tell whether anything
// besides itself answers ACL checks (plugin_opt_other_topics auto).
//
// Mosquitto gives a plugin no way to ask this: the plugin id is opaque and
// there is no "list the other plugins" call. The only source is the file the
// broker was started with (`-c` / `--config-file` in /proc/self/cmdline),
// including the files of its `include_dir` (only from the main file, `*.conf`
// sorted like Mosquitto sorts them). What counts as access control:
//   - `acl_file` (Mosquitto registers its check after every plugin's);
//   - any `plugin` / `auth_plugin` line that does not load Courier (we cannot
//     see whether it answers ACL checks, so we assume it does).
// `password_file` and `allow_anonymous` decide who connects, not which topics.
// With `per_listener_settings true` each listener has its own plugins and
// acl_file: only the section of Courier's own listener counts.
//
// Pure apart from ReadFile/ListDir, which the caller injects (tests use a
// map). Never throws on bad input: an unreadable or odd file is an error
// string, and the caller then falls back to the safe choice.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace courier::plugin {

struct BrokerAccessControl {
  bool per_listener_settings = false;
  // In Courier's scope (whole file, or its listener's section).
  std::vector<std::string> acl_files;
  std::vector<std::string> other_plugins;
  // The subset of other_plugins whose line comes before Courier's: Mosquitto
  // asks plugins in that order and stops at the first that does not defer,
  // so these answer first even for topics under Courier's prefix.
  std::vector<std::string> plugins_before_courier;

  bool HasOtherAccessControl() const { return !acl_files.empty() || !other_plugins.empty(); }
};

struct ConfigFiles {
  // The whole content of a file, or nullopt when it cannot be read.
  std::function<std::optional<std::string>(const std::string& path)> read_file;
  // The entries (file names, not paths) of a directory, or nullopt.
  std::function<std::optional<std::vector<std::string>>(const std::string& dir)> list_dir;
  // True when a `plugin` line's path loads this very library.
  std::function<bool(const std::string& plugin_path)> is_courier;
};

// The config file named on a mosquitto command line (the last `-c` or
// `--config-file`, as Mosquitto reads them in order), or "" when none.
std::string ConfigPathFromArgs(const std::vector<std::string>& argv);

// The option line that tells this instance's plugin line from other lines
// loading Courier: plugin_opt_db_path with LMDB, plugin_opt_pg_conninfo with
// PostgreSQL, with its value as written in the file.
struct OwnOption {
  std::string key;      // "plugin_opt_db_path"
  std::string value;    // "/var/lib/courier"
  bool secret = false;  // never put the value in a message (a conninfo may hold a password)
};

// Scans `config_path`. `own` identifies Courier's own plugin line when more
// than one line loads Courier. Returns one line saying what went wrong when
// the file cannot be read or holds no plugin line for this Courier.
std::variant<BrokerAccessControl, std::string> ScanBrokerConfig(const std::string& config_path, const OwnOption& own,
                                                                const ConfigFiles& files);

// The real thing: /proc/self/cmdline, the filesystem, and dladdr() on this
// library for is_courier. Used by the plugin at load and at reload.
std::variant<BrokerAccessControl, std::string> ScanOwnBrokerConfig(const OwnOption& own);

}  // namespace courier::plugin
