// What the migration tests share: the suite's PostgreSQL server
// (store_engine.h: COURIER_IT_PG, else one the binary starts; each test
// gets a fresh database), an LMDB store filled through LmdbStore with
// every kind of state a migration must keep, and a dump of every Reader
// call, to compare the source's reader with the target's.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "lmdb_store.h"
#include "pg_store.h"
#include "proc/pg_client.h"
#include "reader.h"
#include "store_engine.h"

namespace courier::storage::migrate_test {

using Kind = AdminOp::Kind;

// A fresh database on the suite's server (SharedPgServer), dropped at the end.
class FreshDb {
 public:
  FreshDb() {
    static int n = 0;
    server_ = courier::storage::testing::SharedPgServer(&error_);
    if (error_.empty()) {
      name_ = "courier_migrate_" + std::to_string(getpid()) + "_" + std::to_string(n++);
      proc::PgCreateDatabase(server_, name_, &error_);
    }
    EXPECT_EQ(error_, "");
  }
  ~FreshDb() {
    std::string error;
    if (error_.empty()) proc::PgDropDatabase(server_, name_, &error);
  }
  std::string conninfo() const { return proc::PgWithDatabase(server_, name_); }

 private:
  std::string server_, name_, error_;
};

// A temporary directory for an LMDB store, removed at the end.
class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/courier-migrate-XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string store() const { return path_ + "/db"; }

 private:
  std::string path_;
};

inline std::unique_ptr<LmdbStore> OpenLmdb(const std::string& path) {
  LmdbOptions o;
  o.path = path;
  o.map_size_mb = 16;
  o.sync = SyncMode::kOs;
  std::unique_ptr<LmdbStore> s;
  EXPECT_TRUE(LmdbStore::Open(o, &s).ok());
  return s;
}

inline std::unique_ptr<PgStore> OpenPg(const std::string& conninfo) {
  std::unique_ptr<PgStore> s;
  Status st = PgStore::Open(PgOptions{.conninfo = conninfo, .reconnect_min_ms = 50, .reconnect_max_ms = 200}, {}, &s);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return s;
}

inline AppendRequest ToUser(const std::string& from, const std::string& to, const std::string& id, int64_t ts = 1000,
                            int64_t expires_ms = 0) {
  AppendRequest r;
  r.sender = from;
  r.receivers = {to};
  r.conversation = "u:" + std::min(from, to) + "|" + std::max(from, to);
  r.message.set_id(id);
  r.message.mutable_from()->set_user(from);
  r.message.mutable_from()->set_device("phone");
  r.message.mutable_to()->set_user(to);
  r.message.set_payload("hi " + id);
  r.message.set_server_timestamp(ts);
  r.expires_ms = expires_ms;
  return r;
}

inline AppendRequest ToGroup(const std::string& from, const std::string& g, const std::string& id) {
  AppendRequest r = ToUser(from, "", id);
  r.receivers.clear();
  r.group = g;
  r.conversation = "g:" + g;
  r.message.mutable_to()->Clear();
  r.message.mutable_to()->set_group(g);
  return r;
}

inline AppendRequest Replacing(AppendRequest r, const std::string& original, bool recall) {
  r.message.set_replaces(original);
  if (recall) r.message.set_recall(true);
  r.message.set_payload(recall ? "" : "edited " + r.message.id());
  return r;
}

inline ReceiptRequest Receipt(const std::string& user, const std::string& device, int32_t off, bool read) {
  return ReceiptRequest{.user = user, .device = device, .offset = off, .received = true, .read = read};
}

// Runs `batch` in one Flush; every request must succeed.
inline std::vector<Completion> RunOk(Store& s, std::vector<Request> batch) {
  for (auto& r : batch) s.Submit(std::move(r));
  auto done = s.Flush();
  for (const auto& c : done) EXPECT_TRUE(c.status.ok()) << c.status.ToString();
  return done;
}

// 1:1 and group messages, receipts up to read, an edit and a recall, an
// expired entry and one still in the expiry index, a retention trim that
// empties dan's log (his head stays above it), cursors, push registrations
// and a due push.
inline void FillSource(Store& s) {
  RunOk(
      s,
      {AdminRequest{.ops = {AdminOp{.kind = Kind::kCreateGroup, .group = "fam", .members = {"alice", "bob", "carol"}}}},
       PushRegisterRequest{.user = "bob", .device = "phone", .app = "a", .token = "t1", .now_ms = 7},
       PushRegisterRequest{.user = "carol", .device = "tab", .app = "a", .token = "t2", .now_ms = 8}});
  std::vector<Request> b;
  for (int i = 1; i <= 5; ++i) b.push_back(ToUser("alice", "bob", "m" + std::to_string(i), 1000 + i));
  b.push_back(ToUser("bob", "alice", "r1", 1010));
  b.push_back(ToGroup("alice", "fam", "g1"));
  b.push_back(ToUser("erin", "dan", "d1", 50));
  b.push_back(ToUser("erin", "dan", "d2", 60));
  b.push_back(ToUser("alice", "carol", "x1", 1020, 5000));
  b.push_back(ToUser("alice", "carol", "x2", 1030, 4000000000000));
  AppendRequest pushed = ToUser("carol", "bob", "p1", 1040);
  pushed.push = pushed.push_payload = true;
  b.push_back(pushed);
  RunOk(s, std::move(b));
  RunOk(s, {Replacing(ToUser("alice", "bob", "e1", 1100), "m2", false),
            Replacing(ToUser("alice", "bob", "e2", 1110), "m2", false),
            Replacing(ToUser("alice", "bob", "c1", 1120), "m3", true)});
  RunOk(s, {Receipt("bob", "phone", 1, true), Receipt("bob", "phone", 2, false), Receipt("bob", "tablet", 1, false),
            Receipt("carol", "tab", 1, true), Receipt("bob", "phone", 6, true), Receipt("alice", "phone", 2, false),
            Receipt("dan", "phone", 2, true)});
  RunOk(s, {ExpireRequest{.now_ms = 6000, .max_entries = 100}});
  RunOk(s, {TrimRequest{.older_than_ms = 100, .max_entries = 100}});
}

inline std::string Text(const courier::v1::Message& m) { return "{" + m.ShortDebugString() + "}"; }

// Every Reader call but the engine's own (schema_version, Tables,
// ScanMessageSpace, ScanPageSpace), as text.
inline std::string DumpReader(Reader& r) {
  std::ostringstream o;
  std::vector<std::pair<std::string, int32_t>> users;
  for (const auto& h : r.Heads()) o << "head " << h.key << "=" << h.value << "\n", users.emplace_back(h.key, 0);
  for (const auto& c : r.Conversations()) o << "conv " << c.key << "=" << c.value << "\n";
  for (const auto& u : r.Undelivered()) o << "undelivered " << u.key << "=" << u.value << "\n";
  for (const auto& c : r.Cursors()) o << "cursor " << c.user << "/" << c.device << "=" << c.offset << "\n";
  for (const auto& d : r.DedupEntries()) o << "dedup " << d.sender << "/" << d.id << "=" << d.offset << "\n";
  for (const auto& g : r.Groups())
    o << "group " << g.name << " " << (g.group ? g.group->ShortDebugString() : "?") << "\n";
  for (const auto& p : r.PushRegs())
    o << "reg " << p.user << "/" << p.device << " " << p.reg->ShortDebugString() << "\n";
  for (const auto& d : r.DuePushes()) {
    o << "due " << d.user << "/" << d.device << "/" << d.offset << " " << d.due->ShortDebugString() << "\n";
  }
  for (const std::string u : {"alice", "bob", "carol", "dan"}) {
    for (const auto& p : r.PushRegistrations(u)) {
      o << "push " << u << " " << p.device << p.app << p.token << p.registered_ms << "," << p.due << "\n";
    }
  }
  o << "body_seq " << r.BodySequence() << "\n";
  o << "copies " << r.StoredCopies() << "\n";
  for (const auto& e : r.Entries(users)) {
    o << "entry " << e.user << "/" << e.offset << " body=" << e.body_id << " dev=" << e.device << " exp=" << e.expired
      << " rcv=" << e.received << " read=" << e.read << " peer=" << e.peer_user << "/" << e.peer_offset
      << " undecodable=" << e.undecodable_bytes << " legacy=" << e.legacy.has_value() << " "
      << (e.body ? e.body->ShortDebugString() : "?") << " " << Text(e.message) << "\n";
  }
  return o.str();
}

}  // namespace courier::storage::migrate_test
