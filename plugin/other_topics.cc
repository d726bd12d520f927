#include "other_topics.h"

namespace courier::plugin {
namespace {

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

// "acl_file /etc/a.acl and plugin /usr/lib/x.so"
std::string Others(const BrokerAccessControl& ac) {
  std::string out;
  if (!ac.acl_files.empty()) out = "acl_file " + Join(ac.acl_files);
  if (!ac.other_plugins.empty()) out += (out.empty() ? "plugin " : " and plugin ") + Join(ac.other_plugins);
  return out;
}

}  // namespace

OtherTopicsDecision DecideOtherTopics(OtherTopics configured, const std::string& prefix,
                                      const std::variant<BrokerAccessControl, std::string>& scan) {
  OtherTopicsDecision d;
  const std::string outside = "courier: topics outside " + prefix + "/ ";
  const auto* ac = std::get_if<BrokerAccessControl>(&scan);
  const auto* err = std::get_if<std::string>(&scan);

  switch (configured) {
    case OtherTopics::kAuto:
      if (err) {
        d.effective = OtherTopics::kDefer;
        d.lines.push_back({true, outside +
                                     "are left to the broker's other access control, and REFUSED if it has none "
                                     "(plugin_opt_other_topics auto could not tell: " +
                                     *err +
                                     "); set plugin_opt_other_topics allow for a broker with no acl_file "
                                     "or other plugin, or defer to silence this"});
      } else if (ac->HasOtherAccessControl()) {
        d.effective = OtherTopics::kDefer;
        d.lines.push_back(
            {false, outside + "are left to " + Others(*ac) + ", as before (plugin_opt_other_topics auto: defer)"});
      } else {
        d.effective = OtherTopics::kAllow;
        d.lines.push_back({false, outside + "are allowed to every client, as before: the broker has no acl_file "
                                            "and no other plugin (plugin_opt_other_topics auto: allow)"});
      }
      break;
    case OtherTopics::kDefer:
      d.effective = OtherTopics::kDefer;
      if (ac && !ac->HasOtherAccessControl()) {
        d.lines.push_back({true, outside + "are now REFUSED to every client: plugin_opt_other_topics defer and the "
                                           "broker has no acl_file or other plugin to allow them (Mosquitto denies "
                                           "a topic every plugin defers); set plugin_opt_other_topics auto or "
                                           "allow to keep them open"});
      } else {
        d.lines.push_back({false, outside + "are left to " + (ac ? Others(*ac) : "the broker's other access control") +
                                      ", and refused if none allows them (plugin_opt_other_topics defer)"});
      }
      break;
    case OtherTopics::kAllow:
      d.effective = OtherTopics::kAllow;
      if (ac && !ac->acl_files.empty()) {
        d.lines.push_back(
            {true, outside + "are allowed to every client, and acl_file " + Join(ac->acl_files) +
                       " no longer restricts them: Courier answers first "
                       "(plugin_opt_other_topics allow; set defer or auto to keep the acl_file in force)"});
      } else {
        d.lines.push_back({false, outside + "are allowed to every client unless a plugin listed before Courier "
                                            "decides otherwise (plugin_opt_other_topics allow)"});
      }
      break;
  }
  if (ac && !ac->plugins_before_courier.empty()) {
    d.lines.push_back({true, "courier: plugin " + Join(ac->plugins_before_courier) +
                                 " is listed before Courier, so Mosquitto asks it first about topics under " + prefix +
                                 "/ too, and whatever it allows or denies there Courier never sees; list Courier's "
                                 "plugin line first so that Courier alone governs " +
                                 prefix + "/"});
  }
  return d;
}

}  // namespace courier::plugin
